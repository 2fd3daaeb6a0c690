package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.testing.SelfSignedKeyStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code examples/okta.yaml} with the admin listener's {@code tls:} block set: probes, the approvals API
 * and the approval page answer over HTTPS only, so approvers' tokens travel inside TLS, and the links
 * the gateway hands out for a held call say {@code https://}. The connection itself stays plain HTTP on
 * loopback.
 */
class AdminOverTlsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String KEYSTORE_PASSWORD = "changeit-admin";

    @TempDir
    static Path data;

    static SelfSignedKeyStore keyStore;
    static OktaGatewayFixture f;
    static HttpClient trusting;
    static String agent;
    static String approver;

    @BeforeAll
    static void start() throws Exception {
        keyStore = SelfSignedKeyStore.create(data.resolve("admin.p12"), KEYSTORE_PASSWORD);
        UnaryOperator<String> hold = OktaGatewayFixture.holdTimeout("6s");
        UnaryOperator<String> adminTls = OktaGatewayFixture.adminTls(keyStore.path(), KEYSTORE_PASSWORD);
        // the console as browsers reach it: over https, on the admin listener
        UnaryOperator<String> console = yaml -> yaml.replace("${PORTCULLIS_CONSOLE_URL:-http://127.0.0.1:8080}/console/callback",
                "https://${PORTCULLIS_ADMIN_LISTEN}/console/callback");
        f = new OktaGatewayFixture(data, 10, yaml -> console.apply(adminTls.apply(hold.apply(yaml))));
        trusting = HttpClient.newBuilder().sslContext(keyStore.trustingIt()).connectTimeout(Duration.ofSeconds(5)).build();
        agent = f.token("agent-1", "agents");
        approver = f.token("admin-1", "okta-admins");
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @BeforeEach
    void clearUpstreamLog() {
        f.okta.reset();
    }

    static URI https(String pathAndQuery) {
        return URI.create("https://127.0.0.1:" + f.adminPort + pathAndQuery);
    }

    static HttpResponse<String> approvals(String method, String path) throws IOException, InterruptedException {
        return trusting.send(HttpRequest.newBuilder(https("/api/v1/approvals" + path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + approver)
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void probesAndMetricsAnswerOverTls12OrLaterToAClientTrustingTheCertificate() throws Exception {
        HttpResponse<String> health = trusting.send(HttpRequest.newBuilder(https("/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> ready = trusting.send(HttpRequest.newBuilder(https("/readyz")).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> metrics = trusting.send(HttpRequest.newBuilder(https("/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("{\"status\":\"ok\"}");
        assertThat(health.sslSession().orElseThrow().getProtocol()).isIn("TLSv1.2", "TLSv1.3");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("portcullis_");
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateFailsTheHandshake() {
        HttpClient defaultTrust = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        assertThatThrownBy(() -> defaultTrust.send(HttpRequest.newBuilder(https("/healthz")).build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void plaintextHttpToTheTlsAdminPortGetsATlsAlertAndNoAnswer() throws Exception {
        String answer = OktaOverTlsTest.answerToPlaintextGet(f.adminPort, "/api/v1/approvals", approver);

        assertThat(answer).as("content type alert, TLS 1.2 record, 2 bytes, fatal").hasSize(14).startsWith("150303000202");
        assertThatThrownBy(() -> f.admin("/healthz")).isInstanceOf(IOException.class);
    }

    @Test
    void aCallStillPendingLinksToTheApprovalPageOverHttpsWhichServesIt() throws Exception {
        String user = f.okta.userIds().get(3);

        HttpResponse<String> refused = f.send("POST", "/api/v1/users/" + user + "/roles", agent, "{\"type\":\"SUPER_ADMIN\"}");

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
        JsonNode problem = JSON.readTree(refused.body());
        String id = problem.path("approvalId").asText();
        String page = problem.path("approvalPage").asText();
        assertThat(page).isEqualTo("https://127.0.0.1:" + f.adminPort + "/console/approvals/" + id);
        assertThat(problem.path("detail").asText()).contains(page);
        HttpResponse<String> html = trusting.send(HttpRequest.newBuilder(URI.create(page)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(html.statusCode()).isEqualTo(200);
        assertThat(html.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void anApproverListsAndApprovesOverHttpsAndTheHeldCallGoesThrough() throws Exception {
        String user = f.okta.userIds().get(5);
        HttpRequest call = HttpRequest.newBuilder(f.uri("/api/v1/users/" + user + "/roles")).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + agent).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"ORG_ADMIN\"}")).build();
        CompletableFuture<HttpResponse<String>> held = f.http.sendAsync(call, HttpResponse.BodyHandlers.ofString());

        String id = awaitPending(user);
        HttpResponse<String> approved = approvals("POST", "/" + id + "/approve");

        assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
        assertThat(approved.sslSession()).isPresent();
        HttpResponse<String> r = held.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(f.okta.received()).singleElement().satisfies(req -> assertThat(req.path()).endsWith(user + "/roles"));
    }

    @Test
    void aMissingAdminKeyStoreStopsStartUpNamingTheAdminListenerAndTheFile() {
        Path missing = data.resolve("missing.p12");

        assertThatThrownBy(() -> new OktaGatewayFixture(data.resolve("missing"), 1,
                OktaGatewayFixture.adminTls(missing, KEYSTORE_PASSWORD)).close())
                .isInstanceOf(IOException.class)
                .hasMessage("admin: cannot load the TLS key store " + missing + " (tls.keystore): no such file");
    }

    /** The id of the pending approval request for a role grant to {@code user}, listed over https. */
    private static String awaitPending(String user) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> listed = approvals("GET", "?state=pending");
            assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
            for (JsonNode a : JSON.readTree(listed.body()).path("approvals")) {
                if (a.path("summary").asText().contains(user)) return a.path("id").asText();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no pending approval request for " + user);
    }

    @Test
    void overHttpsTheConsolesCookiesAreSecureAndHostOnly() throws Exception {
        f.issuer.enqueueCallback(new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback("default", "admin-2", "JWT",
                java.util.List.of("portcullis-console"), java.util.Map.of("groups", java.util.List.of("okta-admins")), 3600));
        dev.portcullis.console.ConsoleBrowser browser = new dev.portcullis.console.ConsoleBrowser(keyStore.trustingIt());

        HttpResponse<String> login = browser.get(https("/console/login"));
        assertThat(login.headers().allValues("Set-Cookie")).anySatisfy(c -> assertThat(c).startsWith("__Host-portcullis-login=")
                .contains("; Secure", "HttpOnly", "SameSite=Lax", "Path=/").doesNotContain("Domain="));
        assertThat(java.net.URLDecoder.decode(login.headers().firstValue("Location").orElseThrow(), java.nio.charset.StandardCharsets.UTF_8))
                .contains("redirect_uri=https://127.0.0.1:" + f.adminPort + "/console/callback");
        HttpResponse<String> done = browser.follow(https("/console/login"));
        assertThat(done.uri().getPath()).isEqualTo("/console/approvals");
        assertThat(done.headers().firstValue("Content-Security-Policy")).isPresent();
        assertThat(browser.cookie("__Host-portcullis-console")).isPresent();
        HttpResponse<String> me = browser.get(https("/api/v1/me"));
        assertThat(me.statusCode()).as(me.body()).isEqualTo(200);
        assertThat(JSON.readTree(me.body()).path("subject").asText()).isEqualTo("admin-2");
        // the same cookie name without its prefix is not the session (a sibling host could have set it)
        dev.portcullis.console.ConsoleBrowser planted = new dev.portcullis.console.ConsoleBrowser(keyStore.trustingIt());
        planted.setCookie(https("/"), "portcullis-console", browser.cookie("__Host-portcullis-console").orElseThrow().getValue());
        assertThat(planted.get(https("/api/v1/me")).statusCode()).isEqualTo(401);
    }

}
