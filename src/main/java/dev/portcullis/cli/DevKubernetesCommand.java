package dev.portcullis.cli;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.dev.DevIssuer;
import dev.portcullis.dev.KubeApiStandIn;
import dev.portcullis.server.Gateway;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code portcullis dev kubernetes}: kubectl through the gateway in a minute, against a Kubernetes API stand-in. */
@Command(name = "kubernetes", mixinStandardHelpOptions = true,
        header = "Try kubectl through the gateway: a development issuer and a Kubernetes API stand-in, nothing to configure.",
        description = {"The gateway running examples/kubernetes.yaml (TLS with a key store made here), a development token",
                "issuer (NOT FOR PRODUCTION), a Kubernetes API stand-in with a small demo cluster, and a kubeconfig whose",
                "credential plugin hands kubectl the agent's token."})
final class DevKubernetesCommand implements Callable<Integer> {
    @Mixin
    DevTourOptions tour;

    @Option(names = "--listen", defaultValue = "127.0.0.1:16443", description = "Where kubectl reaches the cluster connection (default: ${DEFAULT-VALUE}).")
    String listen;

    @Override
    public Integer call() throws Exception {
        Logging.configure(Logging.Format.text, tour.level());
        Path data = DevTourOptions.dataDirectory();
        Files.createDirectories(data);
        List<AutoCloseable> running = new ArrayList<>();

        DevIssuer issuer = DevIssuer.start(tour.issuerPort, DevIssuer.DEFAULT_AUDIENCE);
        running.add(issuer);
        String clusterToken = "dev-cluster-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
        KubeApiStandIn cluster = KubeApiStandIn.start(0, clusterToken).seedDemo();
        running.add(cluster);


        String password = "dev-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(8));
        Path keyStore = data.resolve("dev-kubernetes.p12");
        Path pem = data.resolve("dev-kubernetes.pem");
        Files.deleteIfExists(keyStore);
        keytool("-genkeypair", "-alias", "gateway", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "30", "-storetype", "PKCS12",
                "-keystore", keyStore.toString(), "-storepass", password);
        Files.writeString(pem, keytool("-exportcert", "-rfc", "-alias", "gateway", "-keystore", keyStore.toString(), "-storepass", password));

        Path config = data.resolve("dev-kubernetes.yaml");
        try (InputStream example = DevKubernetesCommand.class.getResourceAsStream("/examples/kubernetes.yaml")) {
            if (example == null) throw new IllegalStateException("examples/kubernetes.yaml is missing from the build");
            Files.write(config, example.readAllBytes());
        }
        Map<String, String> env = tour.environment(issuer, data);
        env.put("PORTCULLIS_KUBE_LISTEN", listen);
        env.put("PORTCULLIS_KUBE_KEYSTORE", keyStore.toString());
        env.put("PORTCULLIS_TLS_PASSWORD", password);
        env.put("KUBE_API_URL", cluster.url().toString());
        env.put("KUBE_TOKEN", clusterToken);
        env.put("KUBE_CA_FILE", "");
        GatewayConfig cfg = ConfigLoader.load(config, env);
        Gateway gateway = Gateway.start(cfg, Clock.systemUTC());
        running.add(gateway);

        String token = issuer.mint("agent-1", List.of("agents"), Duration.ofHours(1));
        Path tokenFile = data.resolve("dev-agent-token");
        Files.writeString(tokenFile, token);
        Path kubeconfig = data.resolve("dev-kubeconfig");
        Files.writeString(kubeconfig, KubeconfigCommand.kubeconfig(URI.create("https://" + listen), "cluster",
                Files.readAllBytes(pem), null, tokenFile, KubeconfigCommand.selfCommand()));
        System.out.println("""

                Portcullis dev mode, Kubernetes: NOT FOR PRODUCTION (built-in token issuer, a Kubernetes API stand-in, data in %s)
                  gateway, connection 'cluster'   https://%s   (policy: examples/kubernetes.yaml)
                  admin                           http://%s
                  development token issuer        %s
                  cluster (API stand-in)          %s   (answers only the gateway's token)

                kubectl's credential plugin reads the agent token (agent-1, group agents, 1 hour) from %s.

                export KUBECONFIG=%s

                kubectl get pods -n dev                       # allowed
                kubectl logs -f web-1 -n dev                  # allowed, streamed
                kubectl get secret db -n dev -o yaml          # allowed; every value masked
                kubectl get secrets -n staging -o yaml        # a list shows names only
                kubectl get pods -n kube-system               # Forbidden: no rule allows it; the cluster never sees it
                kubectl get pods -n dev --as=system:admin     # Forbidden: impersonation is refused
                kubectl delete deployment web -n staging      # held until an sre approves:
                PORTCULLIS_TOKEN=$(curl -s -d subject=oncall-1 -d groups=sre %s | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/') \\
                  bin/portcullis approvals --server http://%s   # then: bin/portcullis approve <id> --server http://%s

                PORTCULLIS_DATA=%s bin/portcullis sessions list
                PORTCULLIS_DATA=%s bin/portcullis replay latest
                """.formatted(data, listen, tour.admin, issuer.issuer(), cluster.url(), tokenFile, kubeconfig, issuer.tokenEndpoint(),
                tour.admin, tour.admin, data, data));
        System.out.flush();
        ServeCommand.awaitShutdown(running.reversed().toArray(AutoCloseable[]::new));
        return 0;
    }

    private static String keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("keytool failed: " + err + out);
        return out;
    }
}
