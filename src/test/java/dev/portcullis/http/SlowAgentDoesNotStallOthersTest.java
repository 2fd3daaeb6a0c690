package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upstream responses are parsed on the HTTP client's selector thread, which serves every upstream
 * connection. An agent that stops reading a large masked response must hold back only its own
 * upstream connection (flow control), never that thread: other agents' calls go on being answered,
 * and the slow agent still gets its whole body, masked, once it reads.
 */
class SlowAgentDoesNotStallOthersTest {
    private static final int BIG_USERS = 400_000;

    @TempDir
    Path data;

    @Test
    void anAgentThatStopsReadingALargeResponseHoldsUpNobodyElse() throws Exception {
        AtomicLong bigBytesWritten = new AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean bigWrittenWhole = new java.util.concurrent.atomic.AtomicBoolean();
        HttpServer upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        ExecutorService upstreamThreads = Executors.newCachedThreadPool();
        upstream.setExecutor(upstreamThreads);
        upstream.createContext("/api/v1/users", exchange -> {
            boolean big = String.valueOf(exchange.getRequestURI().getQuery()).contains("limit=200");
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, 0); // chunked
            try (OutputStream out = exchange.getResponseBody()) {
                int users = big ? BIG_USERS : 1;
                out.write('[');
                for (int i = 0; i < users; i++) {
                    byte[] user = ((i == 0 ? "" : ",") + "{\"id\":\"00u" + i + "\",\"profile\":{\"email\":\"user" + i
                            + "@example.com\",\"login\":\"user" + i + "@example.com\",\"title\":\"Engineer number " + i
                            + "\"}}").getBytes(StandardCharsets.UTF_8);
                    out.write(user);
                    if (big) bigBytesWritten.addAndGet(user.length);
                }
                out.write(']');
                if (big) bigWrittenWhole.set(true);
            }
        });
        upstream.start();
        HttpClient agents = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (OktaGatewayFixture f = new OktaGatewayFixture(data, 1,
                URI.create("http://127.0.0.1:" + upstream.getAddress().getPort()))) {
            String token = f.token("agent-1", "agents");

            // The slow agent: takes the response headers, then reads nothing.
            HttpResponse<InputStream> slow = agents.send(HttpRequest.newBuilder(f.uri("/api/v1/users?limit=200"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(slow.statusCode()).isEqualTo(200);
            long stalledAt = waitForUpstreamToStall(bigBytesWritten);
            assertThat(bigWrittenWhole).as("the big body must not fit in the buffers on the way (stalled at "
                    + stalledAt + " bytes), or nothing is tested").isFalse();

            // Everyone else is answered meanwhile.
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> other = agents.send(HttpRequest.newBuilder(f.uri("/api/v1/users?limit=1"))
                        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(other.statusCode()).isEqualTo(200);
                assertThat(other.body()).contains("[masked]").doesNotContain("@example.com");
            }

            // The slow agent reads at last, and gets all of it, masked.
            String body;
            try (InputStream in = slow.body()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertThat(body).startsWith("[").endsWith("]").doesNotContain("@example.com");
            assertThat(body).contains("\"00u" + (BIG_USERS - 1) + "\"");
        } finally {
            upstream.stop(0);
            upstreamThreads.shutdownNow();
        }
    }

    /** Waits until the upstream's big body stops advancing (the buffers on the way are full); returns where. */
    private static long waitForUpstreamToStall(AtomicLong written) throws InterruptedException {
        long last = -1;
        for (int i = 0; i < 100; i++) {
            Thread.sleep(200);
            long now = written.get();
            if (now > 0 && now == last) return now;
            last = now;
        }
        throw new AssertionError("the upstream never stalled: " + written.get() + " bytes written");
    }
}
