package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.portcullis.testing.SelfSignedKeyStore;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of {@code credentials: agent} for HTTP, against a real TLS server: the agent speaks TLS
 * (checking the target's certificate and name), sets its own credential, drops whatever the gateway sent
 * in that header, and passes bodies (fixed-length and chunked) and several requests on one stream as they
 * are; a target whose certificate it does not trust gets nothing.
 */
class AgentCredentialsTest {
    @TempDir
    Path dir;
    HttpsServer https;
    SelfSignedKeyStore keys;
    final List<String> seen = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        keys = SelfSignedKeyStore.create(dir.resolve("target.p12"), "changeit");
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(keys.path())) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "changeit".toCharArray());
        SSLContext server = SSLContext.getInstance("TLS");
        server.init(kmf.getKeyManagers(), null, null);
        https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(server));
        https.createContext("/", ex -> {
            String line = ex.getRequestMethod() + " auth=" + ex.getRequestHeaders().get("Authorization")
                    + " body=" + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.add(line);
            byte[] out = line.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        https.start();
    }

    @AfterEach
    void stop() {
        https.stop(0);
    }

    /** The answers when {@code requests} go through the agent's side to the target one after the other, trusting {@code tls}. */
    List<String> through(SSLContext tls, String... requests) throws Exception {
        AgentCredentials.Target target = new AgentCredentials.Target("localhost", https.getAddress().getPort(), true, "Authorization", "SSWS agent-held");
        List<String> answers = new java.util.ArrayList<>();
        try (ServerSocket local = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try {
                    AgentCredentials.serve(local.accept(), target, tls);
                } catch (Exception ignored) {
                    // the test reads what came back
                }
            });
            try (Socket gateway = new Socket(InetAddress.getLoopbackAddress(), local.getLocalPort())) {
                gateway.setSoTimeout(10_000);
                InputStream in = gateway.getInputStream();
                for (String request : requests) { // as the gateway sends them: the next once the answer is in
                    gateway.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                    gateway.getOutputStream().flush();
                    byte[] head = AgentCredentials.readHead(in);
                    if (head == null) break;
                    String h = new String(head, StandardCharsets.ISO_8859_1);
                    var length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(h);
                    answers.add(h.lines().findFirst().orElse("") + " " + (length.find()
                            ? new String(in.readNBytes(Integer.parseInt(length.group(1))), StandardCharsets.ISO_8859_1) : ""));
                }
            }
        }
        return answers;
    }

    @Test
    void overTlsTheAgentSetsItsOwnCredentialAndPassesBodiesAsTheyAre() throws Exception {
        List<String> answers = through(keys.trustingIt(),
                "POST /a HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer gateway-sent-this\r\nContent-Length: 5\r\n\r\nhello",
                "POST /b HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                "GET /c HTTP/1.1\r\nHost: localhost\r\nauthorization: x\r\n\r\n");
        assertThat(seen).containsExactly("POST auth=[SSWS agent-held] body=hello", "POST auth=[SSWS agent-held] body=abcde",
                "GET auth=[SSWS agent-held] body=");
        assertThat(answers).hasSize(3).allSatisfy(a -> assertThat(a).startsWith("HTTP/1.1 200").doesNotContain("gateway-sent-this"));
    }

    @Test
    void aTargetWhoseCertificateIsNotTrustedGetsNothing() throws Exception {
        List<String> answers = through(SSLContext.getDefault(), "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertThat(answers).isEmpty();
        assertThat(seen).isEmpty();
    }
}
