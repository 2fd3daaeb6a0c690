package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.testing.SelfSignedKeyStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connection okta of {@code examples/okta.yaml} with its {@code tls:} block set: agents' tokens travel
 * only inside TLS. Clients: {@code java.net.http.HttpClient} and the real curl.
 */
class OktaOverTlsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String KEYSTORE_PASSWORD = "changeit-test";

    @TempDir
    static Path data;

    static SelfSignedKeyStore keyStore;
    static OktaGatewayFixture f;
    static String agentToken;
    static HttpClient trusting;

    @BeforeAll
    static void start() throws Exception {
        keyStore = SelfSignedKeyStore.create(data.resolve("gateway.p12"), KEYSTORE_PASSWORD);
        f = new OktaGatewayFixture(data, 10, OktaGatewayFixture.tls(keyStore.path(), KEYSTORE_PASSWORD));
        agentToken = f.token("agent-1", "agents");
        trusting = HttpClient.newBuilder().sslContext(keyStore.trustingIt()).connectTimeout(Duration.ofSeconds(5)).build();
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
        return URI.create("https://127.0.0.1:" + f.port + pathAndQuery);
    }

    static HttpRequest get(URI uri) {
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + agentToken).build();
    }

    @Test
    void aClientTrustingTheCertificateGetsTheMaskedUserOverTls12OrLater() throws Exception {
        String id = f.okta.userIds().get(2);

        HttpResponse<String> r = trusting.send(get(https("/api/v1/users/" + id)), HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode user = JSON.readTree(r.body());
        assertThat(user.path("id").asText()).isEqualTo(id);
        assertThat(user.path("profile").path("email").asText()).isEqualTo("[masked]");
        assertThat(r.body()).doesNotContain("@example.");
        SSLSession tls = r.sslSession().orElseThrow();
        assertThat(tls.getProtocol()).isIn("TLSv1.2", "TLSv1.3");
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(f.okta.received()).singleElement()
                .satisfies(req -> assertThat(req.authorization()).contains("SSWS " + OktaGatewayFixture.OKTA_API_TOKEN));
    }

    @Test
    void paginationLinksPointBackAtTheGatewayOverHttps() throws Exception {
        HttpResponse<String> r = trusting.send(get(https("/api/v1/users?limit=3")), HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().allValues("Link")).isNotEmpty()
                .allSatisfy(l -> assertThat(l).startsWith("<https://127.0.0.1:" + f.port + "/"));
    }

    @Test
    void curlWithTheCertificateAsCaCertGetsTheMaskedUser() throws Exception {
        Path pem = keyStore.writePem(data.resolve("gateway.pem"));
        String id = f.okta.userIds().get(4);

        Run r = curl("--cacert", pem.toString(), "-H", "Authorization: Bearer " + agentToken,
                https("/api/v1/users/" + id).toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(JSON.readTree(r.out()).path("profile").path("email").asText()).isEqualTo("[masked]");
        assertThat(f.okta.received()).singleElement().satisfies(req -> assertThat(req.path()).endsWith(id));
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateFailsTheHandshakeAndNothingReachesOkta() throws Exception {
        HttpClient defaultTrust = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        assertThatThrownBy(() -> defaultTrust.send(get(https("/api/v1/users")), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(SSLHandshakeException.class);
        Run r = curl("-H", "Authorization: Bearer " + agentToken, https("/api/v1/users").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(60); // CURLE_PEER_FAILED_VERIFICATION
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void tls11IsRefusedAndTls12IsAccepted() throws Exception {
        // openssl's own client, willing to speak TLS 1.1 (the JDK's client in this JVM is not).
        String connect = "127.0.0.1:" + f.port;

        Run old = run("openssl", "s_client", "-connect", connect, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
        Run current = run("openssl", "s_client", "-connect", connect, "-tls1_2");

        assertThat(old.exitCode()).as(old.out()).isNotZero();
        assertThat(old.out()).contains("no peer certificate available", "Cipher is (NONE)");
        assertThat(current.exitCode()).as(current.err()).isZero();
        assertThat(current.out()).contains("Protocol  : TLSv1.2", "BEGIN CERTIFICATE");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void plaintextHttpToTheTlsPortGetsATlsAlertAndNothingReachesOkta() throws Exception {
        String answer = answerToPlaintextGet(f.port, "/api/v1/users", agentToken);

        // The TLS engine cannot read an HTTP request as a ClientHello: one fatal TLS alert record, then
        // the connection is closed. No HTTP answer at all, so nothing was routed.
        assertThat(answer).as("content type alert, TLS 1.2 record, 2 bytes, fatal").hasSize(14).startsWith("150303000202");
        assertThat(f.okta.received()).isEmpty();

        assertThatThrownBy(() -> f.send("GET", "/api/v1/users", agentToken, null)).isInstanceOf(IOException.class);
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void aMissingKeyStoreStopsStartUpNamingTheConnectionAndTheFile() {
        Path missing = data.resolve("missing.p12");

        assertThatThrownBy(() -> new OktaGatewayFixture(data.resolve("missing"), 1,
                OktaGatewayFixture.tls(missing, KEYSTORE_PASSWORD)).close())
                .isInstanceOf(IOException.class)
                .hasMessage("connection 'okta': cannot load the TLS key store " + missing + " (tls.keystore): no such file");
    }

    @Test
    void aWrongKeyStorePasswordStopsStartUp() {
        assertThatThrownBy(() -> new OktaGatewayFixture(data.resolve("wrong"), 1,
                OktaGatewayFixture.tls(keyStore.path(), "not-" + KEYSTORE_PASSWORD)).close())
                .isInstanceOf(IOException.class)
                .hasMessage("connection 'okta': cannot load the TLS key store " + keyStore.path()
                        + " (tls.keystore): wrong password (tls.password)");
    }

    /** Sends a plain HTTP GET with this bearer token to a local port; what came back until it closed, in hex. */
    static String answerToPlaintextGet(int port, String path, String token) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                    + "Authorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(readUntilClosed(s.getInputStream()).getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    private static String readUntilClosed(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        try {
            for (int n; (n = in.read(buffer)) != -1; ) out.write(buffer, 0, n);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the gateway neither answered nor closed; got so far: " + out.toString(StandardCharsets.ISO_8859_1));
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    record Run(int exitCode, String out, String err) {}

    /** Runs the real curl (no proxy, 20 s at most) with these arguments. */
    static Run curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--noproxy", "*", "--max-time", "20"));
        command.addAll(List.of(args));
        return run(command.toArray(String[]::new));
    }

    /** Runs a program with no input; 30 s at most. */
    static Run run(String... command) throws Exception {
        Path out = Files.createTempFile(data, "run", ".out");
        Path err = Files.createTempFile(data, "run", ".err");
        Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command[0] + " did not finish: " + Files.readString(err));
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
