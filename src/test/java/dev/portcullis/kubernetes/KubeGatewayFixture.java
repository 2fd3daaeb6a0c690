package dev.portcullis.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.dev.KubeApiStandIn;
import dev.portcullis.server.Gateway;
import dev.portcullis.testing.Kubectl;
import dev.portcullis.testing.SelfSignedKeyStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * The Kubernetes path for real: an OIDC issuer over HTTP (mock-oauth2-server), the Kubernetes API
 * stand-in as the cluster (it answers only the cluster token), the gateway started from the shipped
 * {@code examples/kubernetes.yaml} on TLS, and the real kubectl with a kubeconfig that carries the
 * agent's own token.
 */
final class KubeGatewayFixture implements AutoCloseable {
    static final String AUDIENCE = "portcullis";
    static final String CLUSTER_TOKEN = "cluster-token-the-agent-must-never-see";
    static final String SECRET_VALUE = "hunter2-the-database-password";
    private static final ObjectMapper JSON = new ObjectMapper();

    final MockOAuth2Server issuer = new MockOAuth2Server();
    final KubeApiStandIn api;
    final Gateway gateway;
    final Path dir;
    final Path caPem;
    final int port;
    final int adminPort;
    final HttpClient http;

    KubeGatewayFixture(Path dir) throws Exception {
        this(dir, java.util.function.UnaryOperator.identity());
    }

    /** @param configEdit applied to the text of {@code examples/kubernetes.yaml} before it is loaded */
    KubeGatewayFixture(Path dir, java.util.function.UnaryOperator<String> configEdit) throws Exception {
        this.dir = dir;
        issuer.start(InetAddress.getByName("127.0.0.1"), 0);
        api = KubeApiStandIn.start(0, CLUSTER_TOKEN);
        seed();
        SelfSignedKeyStore keyStore = SelfSignedKeyStore.create(dir.resolve("gateway.p12"), "changeit");
        caPem = keyStore.writePem(dir.resolve("gateway.pem"));
        http = HttpClient.newBuilder().sslContext(keyStore.trustingIt()).connectTimeout(Duration.ofSeconds(5)).build();
        port = freePort();
        adminPort = freePort();
        Map<String, String> env = new HashMap<>();
        env.put("PORTCULLIS_OIDC_ISSUER", issuer.issuerUrl("default").toString());
        env.put("PORTCULLIS_OIDC_AUDIENCE", AUDIENCE);
        env.put("PORTCULLIS_DATA", dir.resolve("data").toString());
        env.put("PORTCULLIS_ADMIN_LISTEN", "127.0.0.1:" + adminPort);
        env.put("PORTCULLIS_CONSOLE_URL", "http://127.0.0.1:" + adminPort);
        env.put("PORTCULLIS_KUBE_LISTEN", "127.0.0.1:" + port);
        env.put("PORTCULLIS_KUBE_KEYSTORE", keyStore.path().toString());
        env.put("PORTCULLIS_TLS_PASSWORD", "changeit");
        env.put("KUBE_API_URL", api.url().toString());
        env.put("KUBE_TOKEN", CLUSTER_TOKEN);
        try {
            Path configFile = Path.of("examples/kubernetes.yaml");
            String original = Files.readString(configFile);
            String edited = configEdit.apply(original);
            if (!edited.equals(original)) configFile = Files.writeString(dir.resolve("kubernetes.yaml"), edited);
            GatewayConfig config = ConfigLoader.load(configFile, env);
            gateway = Gateway.start(config, Clock.systemUTC());
        } catch (Exception | Error e) {
            api.close();
            issuer.shutdown();
            throw e;
        }
    }

    private void seed() throws IOException {
        for (String ns : List.of("dev", "staging", "kube-system")) {
            api.put("pods", ns, object("{\"metadata\":{\"name\":\"web-1\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"nginx\"}]},"
                    + "\"status\":{\"phase\":\"Running\"}}"));
        }
        api.put("deployments", "staging", object("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                + "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"nginx\"}]}}}}"));
        String encoded = java.util.Base64.getEncoder().encodeToString(SECRET_VALUE.getBytes(StandardCharsets.UTF_8));
        String lastApplied = JSON.writeValueAsString(JSON.createObjectNode().put("apiVersion", "v1").put("kind", "Secret")
                .set("stringData", JSON.createObjectNode().put("password", SECRET_VALUE)));
        ObjectNode secret = object("{\"metadata\":{\"name\":\"db\"},\"type\":\"Opaque\",\"data\":{\"password\":\"" + encoded + "\"},"
                + "\"stringData\":{\"plain\":\"" + SECRET_VALUE + "\"}}");
        ((ObjectNode) secret.get("metadata")).putObject("annotations").put("kubectl.kubernetes.io/last-applied-configuration", lastApplied);
        api.put("secrets", "staging", secret);
    }

    static ObjectNode object(String json) throws IOException {
        return (ObjectNode) JSON.readTree(json);
    }

    String token(String subject, String... groups) {
        return issuer.issueToken("default", subject, AUDIENCE, Map.of("groups", List.of(groups)), 3600L).serialize();
    }

    /** A kubeconfig for the gateway (its certificate trusted) with {@code token} as the user's bearer token. */
    Path kubeconfig(String name, String token) throws IOException {
        return Files.writeString(dir.resolve(name + ".kubeconfig"), """
                apiVersion: v1
                kind: Config
                clusters:
                - name: portcullis
                  cluster:
                    server: https://127.0.0.1:%d
                    certificate-authority: %s
                users:
                - name: agent
                  user:
                    token: %s
                contexts:
                - name: portcullis
                  context: {cluster: portcullis, user: agent}
                current-context: portcullis
                """.formatted(port, caPem, token));
    }

    record Run(int exit, String out) {
    }

    Run kubectl(String version, Path kubeconfig, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Kubectl.binary(version), "--kubeconfig", kubeconfig.toString(),
                "--cache-dir", dir.resolve("cache-" + version).toString(), "--request-timeout", "60s"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish: " + out);
        }
        return new Run(p.exitValue(), out);
    }

    /** A request straight to the gateway's listener, as any HTTP client could send it. */
    HttpResponse<String> send(String method, String pathAndQuery, String token, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + pathAndQuery)).timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) b.header("Authorization", "Bearer " + token);
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A GET sent byte for byte over TLS (no client normalises its path), answered with the status code and body.
     */
    String[] rawGet(String rawPath, String token) throws Exception {
        javax.net.ssl.SSLSocketFactory factory = http.sslContext().getSocketFactory();
        try (java.net.Socket socket = factory.createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + rawPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String status = response.substring(9, 12);
            return new String[] {status, response.substring(response.indexOf("\r\n\r\n") + 4)};
        }
    }

    /** A call to the admin port's approval API as {@code token}. */
    HttpResponse<String> approvals(String method, String path, String token) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/api/v1/approvals" + path))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + token)
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The id of the pending approval whose summary contains {@code text}. */
    String awaitPending(String approver, String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> listed = approvals("GET", "?state=pending", approver);
            for (JsonNode a : JSON.readTree(listed.body()).path("approvals")) {
                if (a.path("summary").asText().contains(text)) return a.path("id").asText();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no pending approval request for " + text);
    }

    /** What reached the cluster on {@code path} (any method, any query). */
    List<KubeApiStandIn.Received> reached(String path) {
        return api.received().stream().filter(r -> r.path().equals(path)).toList();
    }

    static int freePort() throws IOException {
        return dev.portcullis.testing.Ports.free(); // never the same port twice in this JVM
    }

    @Override
    public void close() {
        gateway.close();
        api.close();
        issuer.shutdown();
    }
}
