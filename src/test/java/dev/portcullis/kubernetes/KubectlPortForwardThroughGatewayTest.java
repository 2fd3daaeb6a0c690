package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.Kubectl;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kubectl port-forward through the gateway where a rule allows it: SPDY/3.1 with kubectl 1.27, SPDY
 * tunnelled in WebSocket with 1.33. Bytes sent to the local port come back from the pod's (echoing) port.
 */
class KubectlPortForwardThroughGatewayTest {
    @TempDir
    static Path dir;
    static KubeGatewayFixture f;
    static Path forwarder;

    @BeforeAll
    static void start() throws Exception {
        f = new KubeGatewayFixture(dir, yaml -> {
            String anchor = "    policy:\n      rules:\n";
            if (!yaml.contains(anchor)) throw new IllegalStateException("examples/kubernetes.yaml has no policy rules block");
            return yaml.replace(anchor, anchor + """
                            - id: forwarders-port-forward-dev
                              when:
                                groups: [forwarders]
                                kubernetes: {verbs: [portforward], resources: [pods], namespaces: [dev]}
                              action: allow
                    """);
        });
        forwarder = f.kubeconfig("forwarder", f.token("debugger-1", "agents", "forwarders"));
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void bytesCrossToThePodsPortAndBack(String version) throws Exception {
        Process pf = new ProcessBuilder(Kubectl.binary(version), "--kubeconfig", forwarder.toString(), "port-forward", "pod/web-1", "-n", "dev",
                "--address", "127.0.0.1", "0:8080").redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(pf.getInputStream(), StandardCharsets.UTF_8));
            Matcher m = null;
            StringBuilder printed = new StringBuilder();
            for (String line; (line = out.readLine()) != null; ) {
                printed.append(line).append('\n');
                Matcher candidate = Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> 8080").matcher(line);
                if (candidate.find()) {
                    m = candidate;
                    break;
                }
            }
            assertThat(m).as(printed.toString()).isNotNull();
            int port = Integer.parseInt(m.group(1));
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(10_000);
                String sent = "through-the-gateway-" + version + "\n";
                s.getOutputStream().write(sent.getBytes(StandardCharsets.UTF_8));
                s.getOutputStream().flush();
                byte[] back = s.getInputStream().readNBytes(sent.length());
                assertThat(new String(back, StandardCharsets.UTF_8)).isEqualTo(sent);
            }
        } finally {
            pf.destroy();
            pf.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(f.reached("/api/v1/namespaces/dev/pods/web-1/portforward")).isNotEmpty()
                .allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer " + KubeGatewayFixture.CLUSTER_TOKEN));
    }
}
