package dev.portcullis.http;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.dev.DemoOkta;
import dev.portcullis.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * The Okta path for real: an OIDC issuer over HTTP (mock-oauth2-server), the Okta stand-in as the
 * upstream, and the gateway started from the shipped {@code examples/okta.yaml}.
 */
final class OktaGatewayFixture implements AutoCloseable {
    static final String AUDIENCE = "portcullis";
    static final String OKTA_API_TOKEN = "00okta-api-token-the-agent-must-never-see";

    final MockOAuth2Server issuer = new MockOAuth2Server();
    final DemoOkta okta;
    final Gateway gateway;
    final Path data;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final int port;
    final int adminPort;

    OktaGatewayFixture(Path data, int users) throws Exception {
        this(data, users, (URI) null);
    }

    /** @param upstreamOverride an upstream URL to use instead of the demo Okta (e.g. a dead port) */
    OktaGatewayFixture(Path data, int users, URI upstreamOverride) throws Exception {
        this(data, users, upstreamOverride, null);
    }

    /** @param issuerOverride an issuer URL to configure instead of the running one (e.g. a dead port) */
    OktaGatewayFixture(Path data, int users, URI upstreamOverride, URI issuerOverride) throws Exception {
        this(data, users, upstreamOverride, issuerOverride, UnaryOperator.identity());
    }

    /**
     * @param configEdit applied to the text of {@code examples/okta.yaml} before it is loaded, e.g.
     *                   {@link #holdTimeout(String)}
     */
    OktaGatewayFixture(Path data, int users, UnaryOperator<String> configEdit) throws Exception {
        this(data, users, null, null, configEdit);
    }

    private OktaGatewayFixture(Path data, int users, URI upstreamOverride, URI issuerOverride,
                               UnaryOperator<String> configEdit) throws Exception {
        this.data = data;
        issuer.start(InetAddress.getByName("127.0.0.1"), 0);
        okta = DemoOkta.start(0, OKTA_API_TOKEN, users);
        port = freePort();
        adminPort = freePort();
        Map<String, String> env = new HashMap<>();
        env.put("PORTCULLIS_OIDC_ISSUER", (issuerOverride == null ? issuer.issuerUrl("default").toString() : issuerOverride.toString()));
        env.put("PORTCULLIS_OIDC_AUDIENCE", AUDIENCE);
        env.put("OKTA_URL", (upstreamOverride == null ? okta.orgUrl() : upstreamOverride).toString());
        env.put("OKTA_API_TOKEN", OKTA_API_TOKEN);
        env.put("PORTCULLIS_DATA", data.toString());
        env.put("PORTCULLIS_OKTA_LISTEN", "127.0.0.1:" + port);
        env.put("PORTCULLIS_ADMIN_LISTEN", "127.0.0.1:" + adminPort);
        env.put("PORTCULLIS_CONSOLE_URL", "http://127.0.0.1:" + adminPort);
        Path configFile = Path.of("examples/okta.yaml");
        String original = Files.readString(configFile);
        String edited = configEdit.apply(original);
        if (!edited.equals(original)) {
            Files.createDirectories(data);
            configFile = Files.writeString(data.resolve("okta.yaml"), edited);
        }
        try {
            GatewayConfig config = ConfigLoader.load(configFile, env);
            gateway = Gateway.start(config, Clock.systemUTC());
        } catch (Exception | Error e) {
            // A test that expects start-up to fail must not leave the issuer and the stand-in running.
            okta.close();
            issuer.shutdown();
            throw e;
        }
    }

    String token(String subject, String... groups) {
        return issuer.issueToken("default", subject, AUDIENCE, Map.of("groups", List.of(groups)), 3600L).serialize();
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port + pathAndQuery);
    }

    HttpResponse<String> send(String method, String pathAndQuery, String token, String jsonBody) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(30));
        if (token != null) b.header("Authorization", "Bearer " + token);
        if (jsonBody != null) b.header("Content-Type", "application/json");
        b.method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(jsonBody));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> admin(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Sets the hold-timeout of rule admin-roles-need-approval (15m in the example) to {@code duration}. */
    static UnaryOperator<String> holdTimeout(String duration) {
        return yaml -> {
            if (!yaml.contains("hold-timeout: 15m")) throw new IllegalStateException("examples/okta.yaml has no 'hold-timeout: 15m'");
            return yaml.replace("hold-timeout: 15m", "hold-timeout: " + duration);
        };
    }

    /** Sets {@code approval-pending-status} on connection okta (unset in the example, so 403). */
    static UnaryOperator<String> approvalPendingStatus(int status) {
        return yaml -> {
            String anchor = "    max-request-bytes: 1048576\n";
            if (!yaml.contains(anchor)) throw new IllegalStateException("examples/okta.yaml has no 'max-request-bytes: 1048576'");
            return yaml.replace(anchor, anchor + "    approval-pending-status: " + status + "\n");
        };
    }

    /** Uncomments the example's {@code tls:} block on connection okta, with this key store and password. */
    static UnaryOperator<String> tls(Path keystore, String password) {
        return yaml -> {
            String commented = "    # tls:\n    #   keystore: /etc/portcullis/gateway.p12\n    #   password: ${PORTCULLIS_TLS_PASSWORD}\n";
            if (!yaml.contains(commented)) throw new IllegalStateException("examples/okta.yaml has no commented tls block");
            return yaml.replace(commented, "    tls:\n      keystore: " + keystore + "\n      password: " + password + "\n");
        };
    }

    /** Uncomments the example's {@code tls:} block of the admin listener, with this key store and password. */
    static UnaryOperator<String> adminTls(Path keystore, String password) {
        return yaml -> {
            String commented = "  # tls:\n  #   keystore: /etc/portcullis/gateway.p12\n  #   password: ${PORTCULLIS_TLS_PASSWORD}\n";
            int admin = yaml.indexOf("\nadmin:\n");
            int at = yaml.indexOf(commented, admin);
            if (admin < 0 || at < 0 || yaml.indexOf("\n\n", admin) < at) {
                throw new IllegalStateException("examples/okta.yaml has no commented tls block under admin");
            }
            return yaml.substring(0, at) + "  tls:\n    keystore: " + keystore + "\n    password: " + password + "\n"
                    + yaml.substring(at + commented.length());
        };
    }

    /** A call to the admin port's approval API as {@code token}; {@code jsonBody} null for none. */
    HttpResponse<String> approvals(String method, String path, String token, String jsonBody) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/api/v1/approvals" + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token);
        if (jsonBody != null) b.header("Content-Type", "application/json");
        b.method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(jsonBody));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static int freePort() throws IOException {
        return dev.portcullis.testing.Ports.free(); // never the same port twice in this JVM
    }

    @Override
    public void close() {
        gateway.close();
        okta.close();
        issuer.shutdown();
    }
}
