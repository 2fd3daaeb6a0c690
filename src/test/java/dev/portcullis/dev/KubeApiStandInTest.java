package dev.portcullis.dev;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.testing.Kubectl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Kubernetes API stand-in speaks well enough for the real kubectl (1.27 and 1.33) to use it directly. */
class KubeApiStandInTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    KubeApiStandIn api;
    Path kubeconfig;

    @BeforeEach
    void start() throws Exception {
        api = KubeApiStandIn.start(0);
        api.put("pods", "dev", (ObjectNode) JSON.readTree("{\"metadata\":{\"name\":\"web-1\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"nginx\"}]}}"));
        api.put("secrets", "staging", (ObjectNode) JSON.readTree("{\"metadata\":{\"name\":\"db\"},\"type\":\"Opaque\",\"data\":{\"password\":\"aHVudGVyMg==\"}}"));
        kubeconfig = dir.resolve("kubeconfig");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: standin
                  cluster:
                    server: %s
                users:
                - name: nobody
                  user: {}
                contexts:
                - name: standin
                  context: {cluster: standin, user: nobody}
                current-context: standin
                """.formatted(api.url()));
    }

    @AfterEach
    void stop() {
        api.close();
    }

    record Run(int exit, String out) {
    }

    Run kubectl(String version, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Kubectl.binary(version), "--kubeconfig", kubeconfig.toString(),
                "--cache-dir", dir.resolve("cache").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    @Test
    void kubectlWatchesAndSeesAChangeAsItHappens() throws Exception {
        for (String version : List.of("1.27", "1.33")) {
            Path out = dir.resolve("watch-" + version + ".txt");
            Process watch = new ProcessBuilder(Kubectl.binary(version), "--kubeconfig", kubeconfig.toString(), "get", "pods", "-n", "dev", "-w")
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try {
                waitFor(out, "web-1");
                String name = "added-" + version.replace(".", "");
                api.put("pods", "dev", (ObjectNode) JSON.readTree("{\"metadata\":{\"name\":\"" + name + "\"}}"));
                waitFor(out, name);
            } finally {
                watch.destroy();
                watch.waitFor(10, TimeUnit.SECONDS);
            }
        }
        assertThat(api.received()).anySatisfy(r -> assertThat(r.query()).contains("watch=true"));
    }

    @Test
    void kubectlReadsAndFollowsAPodsLog() throws Exception {
        api.log("dev", "web-1", "started");
        api.log("dev", "web-1", "listening on :8080");
        for (String version : List.of("1.27", "1.33")) {
            Run logs = kubectl(version, "logs", "web-1", "-n", "dev");
            assertThat(logs.exit()).as(logs.out()).isZero();
            assertThat(logs.out()).startsWith("started\nlistening on :8080\n"); // then the lines the earlier loop added

            Path out = dir.resolve("follow-" + version + ".txt");
            Process follow = new ProcessBuilder(Kubectl.binary(version), "--kubeconfig", kubeconfig.toString(), "logs", "-f", "web-1", "-n", "dev")
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try {
                waitFor(out, "listening on :8080");
                api.log("dev", "web-1", "request " + version);
                waitFor(out, "request " + version);
            } finally {
                follow.destroy();
                follow.waitFor(10, TimeUnit.SECONDS);
            }
        }
        assertThat(kubectl("1.33", "logs", "nope", "-n", "dev").out()).contains("NotFound");
    }

    /** kubectl 1.27 execs over SPDY/3.1, 1.33 over WebSocket (v5.channel.k8s.io): both reach the stand-in's container. */
    @Test
    void kubectlExecsOverSpdyAndOverWebSocket() throws Exception {
        for (String version : List.of("1.27", "1.33")) {
            Run ls = kubectl(version, "exec", "web-1", "-n", "dev", "--", "ls");
            assertThat(ls.exit()).as(ls.out()).isZero();
            assertThat(ls.out()).contains("app.py");

            Process cat = new ProcessBuilder(Kubectl.binary(version), "--kubeconfig", kubeconfig.toString(), "exec", "-i", "web-1", "-n", "dev",
                    "--", "cat").redirectErrorStream(true).start();
            cat.getOutputStream().write("typed in\n".getBytes(StandardCharsets.UTF_8));
            cat.getOutputStream().close();
            String echoed = new String(cat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(cat.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(cat.exitValue()).as(echoed).isZero();
            assertThat(echoed).contains("typed in");

            Run missing = kubectl(version, "exec", "web-1", "-n", "dev", "--", "nosuch");
            assertThat(missing.exit()).as(missing.out()).isEqualTo(127);
            assertThat(missing.out()).contains("nosuch: command not found");
        }
        assertThat(api.received()).anySatisfy(r -> assertThat(r.path()).isEqualTo("/api/v1/namespaces/dev/pods/web-1/exec"));
    }

    static void waitFor(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file).contains(text)) return;
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + text + "' in the watch's output: " + (Files.exists(file) ? Files.readString(file) : ""));
    }

    @Test
    void kubectlListsGetsCreatesAndDeletesAgainstIt() throws Exception {
        for (String version : List.of("1.27", "1.33")) {
            Run pods = kubectl(version, "get", "pods", "-n", "dev");
            assertThat(pods.exit()).as(pods.out()).isZero();
            assertThat(pods.out()).contains("NAME", "AGE", "web-1");

            Run secret = kubectl(version, "get", "secret", "db", "-n", "staging", "-o", "json");
            assertThat(secret.exit()).as(secret.out()).isZero();
            JsonNode s = JSON.readTree(secret.out());
            assertThat(s.path("kind").asText()).isEqualTo("Secret");
            assertThat(s.path("data").path("password").asText()).isEqualTo("aHVudGVyMg==");

            // From a file: kubectl sends it as JSON (its generators, as 'create configmap', send protobuf, which
            // the stand-in refuses with 415 as a JSON-only gateway must handle; see the class comment)
            Path manifest = dir.resolve("cm.json");
            Files.writeString(manifest, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg-"
                    + version.replace(".", "") + "\"},\"data\":{\"mode\":\"fast\"}}");
            Run create = kubectl(version, "create", "-n", "dev", "-f", manifest.toString(), "--validate=false"); // no OpenAPI here yet
            assertThat(create.exit()).as(create.out()).isZero();
            Run cms = kubectl(version, "get", "configmaps", "-n", "dev", "-o", "name");
            assertThat(cms.out()).contains("configmap/cfg-" + version.replace(".", ""));

            Run delete = kubectl(version, "delete", "configmap", "cfg-" + version.replace(".", ""), "-n", "dev");
            assertThat(delete.exit()).as(delete.out()).isZero();

            Run missing = kubectl(version, "get", "pod", "nope", "-n", "dev");
            assertThat(missing.exit()).isNotZero();
            assertThat(missing.out()).contains("Error from server (NotFound)", "pods \"nope\" not found");
        }
        assertThat(api.received()).anySatisfy(r -> assertThat(r.path()).isEqualTo("/api/v1/namespaces/dev/pods"));
    }
}
