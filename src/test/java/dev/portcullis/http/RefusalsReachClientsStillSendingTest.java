package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that sends a body the gateway refuses without reading (too large, or no valid token) is
 * still sending when the refusal is written. Closing the connection with its bytes unread makes the
 * kernel reset it, and the client sees "connection reset" instead of the 413 or 401. The gateway reads
 * and discards the rest of such a body (up to a bound, as nginx's lingering close does) so the refusal
 * arrives; nothing reaches the upstream either way. Raw sockets, so nothing retries.
 */
class RefusalsReachClientsStillSendingTest {
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

    /** Sends a request with a body of {@code size} bytes while reading the answer; returns the status line. */
    static String statusLine(String authorization, int size, boolean chunked) throws Exception {
        try (Socket s = new Socket("127.0.0.1", f.port)) {
            s.setSoTimeout(20_000);
            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) 'x');
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    String head = "POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                            + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + size + "\r\n") + "\r\n";
                    out.write(head.getBytes(StandardCharsets.US_ASCII));
                    for (int sent = 0; sent < size; sent += chunk.length) {
                        int n = Math.min(chunk.length, size - sent);
                        if (chunked) out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(chunk, 0, n);
                        if (chunked) out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    if (chunked) out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // the gateway closed after answering: what matters is what the reader got
                }
            });
            // A busy client reads late: by then the gateway has answered, and must not have reset the connection.
            Thread.sleep(300);
            InputStream in = s.getInputStream();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1 && b != '\n') line.write(b);
            writer.join(20_000);
            return line.toString(StandardCharsets.US_ASCII).strip();
        }
    }

    @Test
    void aTooLargeBodyGets413EveryTimeWithOrWithoutALength() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(statusLine("Bearer " + token, 3 * 1024 * 1024, false)).as("content-length, try %d", i)
                    .isEqualTo("HTTP/1.1 413 Payload Too Large");
            assertThat(statusLine("Bearer " + token, 3 * 1024 * 1024, true)).as("chunked, try %d", i)
                    .isEqualTo("HTTP/1.1 413 Payload Too Large");
        }
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void aRefusedTokenGets401EvenWhileItsBodyIsStillComing() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(statusLine("Bearer not-a-token", 512 * 1024, false)).as("try %d", i).startsWith("HTTP/1.1 401");
        }
        assertThat(f.okta.received()).isEmpty();
    }
}
