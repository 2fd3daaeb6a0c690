package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of the event-loop listener, over raw sockets (no client library that would fix or
 * retry anything): pipelined requests are answered in order; request targets and headers the gateway
 * cannot read unambiguously are refused before anything is judged, and nothing reaches the upstream.
 */
class AgentConnectionTest {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    @TempDir
    static Path data;
    static OktaGatewayFixture f;
    static String token;

    @BeforeAll
    static void start() throws Exception {
        f = new OktaGatewayFixture(data, 3);
        token = f.token("agent-1", "agents");
    }

    @AfterAll
    static void stop() throws Exception {
        f.close();
    }

    @BeforeEach
    void clear() {
        f.okta.reset();
    }

    record Answer(int status, String headers, String body) {
    }

    /** Reads one HTTP/1.1 response with a Content-Length body (what the gateway's answers here carry). */
    static Answer read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') break;
        }
        String headers = head.toString(StandardCharsets.US_ASCII);
        if (headers.isEmpty()) return null; // closed
        int status = Integer.parseInt(headers.substring(9, 12));
        int length = 0;
        for (String line : headers.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) length = Integer.parseInt(line.substring(15).strip());
        }
        byte[] body = in.readNBytes(length);
        return new Answer(status, headers, new String(body, StandardCharsets.UTF_8));
    }

    static String get(String target, String extraHeaders) {
        return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + f.port + "\r\nAuthorization: Bearer " + token + "\r\n"
                + extraHeaders + "\r\n";
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws Exception {
        List<String> ids = f.okta.userIds();
        try (Socket s = new Socket("127.0.0.1", f.port)) {
            s.setSoTimeout(10_000);
            StringBuilder all = new StringBuilder();
            for (String id : ids) all.append(get("/api/v1/users/" + id, ""));
            s.getOutputStream().write(all.toString().getBytes(StandardCharsets.US_ASCII)); // all at once
            InputStream in = s.getInputStream();
            List<String> answered = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                Answer a = read(in);
                assertThat(a).as("answer %d", i).isNotNull();
                assertThat(a.status()).isEqualTo(200);
                answered.add(JSON.readTree(a.body()).path("id").asText());
            }
            assertThat(answered).containsExactlyElementsOf(ids);
        }
        assertThat(f.okta.received()).hasSize(ids.size());
    }

    @Test
    void anAmbiguousPathIsRefusedWith400AndNeverJudgedOrForwarded() throws Exception {
        // An encoded '/' or '.' segment reads one way to policy and another to some upstreams: refused, never guessed.
        for (String target : List.of("/api/v1/users/x%2F..%2F..%2Fgroups", "/api/v1/users/%2e%2e/%2e%2e/groups",
                "/api/v1/users/x/..;/..;/groups", "/../api/v1/groups")) {
            try (Socket s = new Socket("127.0.0.1", f.port)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(get(target, "").getBytes(StandardCharsets.US_ASCII));
                Answer a = read(s.getInputStream());
                assertThat(a).as(target).isNotNull();
                assertThat(a.status()).as(target).isIn(400, 403);
                if (a.status() == 403) assertThat(JSON.readTree(a.body()).path("rule").asText()).as(target).isEqualTo("default-deny");
            }
        }
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void aMalformedRequestOrOversizedHeadersGetAnErrorAndTheConnectionCloses() throws Exception {
        String huge = "X-Filler: " + "a".repeat(20 * 1024) + "\r\n";
        for (String request : List.of("GET /api/v1/users HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", // no colon
                get("/api/v1/users", huge),
                "GET /api/v1/users HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\n\r\n")) { // HTTP/1.1 without Host
            try (Socket s = new Socket("127.0.0.1", f.port)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                Answer a = read(in);
                assertThat(a).isNotNull();
                assertThat(a.status()).isIn(400, 431);
                assertThat(a.headers().toLowerCase(Locale.ROOT)).contains("connection: close");
                assertThat(in.read()).as("closed after the answer").isEqualTo(-1);
            }
        }
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void headersTheAgentNamesInConnectionAreNotForwarded() throws Exception {
        // RFC 9110, 7.6.1: a header listed in Connection is for this hop only. Here the agent tries to
        // pass its own Authorization upstream under another name and to drop the gateway's via Connection.
        String id = f.okta.userIds().getFirst();
        try (Socket s = new Socket("127.0.0.1", f.port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(get("/api/v1/users/" + id, "Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(read(s.getInputStream()).status()).isEqualTo(200);
        }
        assertThat(f.okta.received()).singleElement().satisfies(r -> {
            assertThat(r.authorization()).hasValue("SSWS " + OktaGatewayFixture.OKTA_API_TOKEN);
            assertThat(r.headerNames()).contains("host").doesNotContain("x-secret", "connection");
        });
    }
}
