package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.testing.Kubectl;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams that go wrong: the cluster dies under a watch or an exec (the stream ends, it is recorded with
 * why, and the gateway keeps answering, with a Status), and an agent that stops reading a watch (the
 * cluster is held back, nothing piles up in the gateway, other agents are served, nothing is lost).
 */
class KubeUpstreamFailureTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    KubeGatewayFixture f;

    @BeforeEach
    void start() throws Exception {
        f = new KubeGatewayFixture(dir);
    }

    @AfterEach
    void stop() {
        f.close();
    }

    @Test
    void theClusterDyingMidWatchEndsTheWatchRecordedAndTheGatewayAnswersOnWithAStatus() throws Exception {
        String token = f.token("agent-1", "agents");
        Path agent = f.kubeconfig("agent", token);
        Path out = dir.resolve("watch.txt");
        Process watch = new ProcessBuilder(Kubectl.binary("1.33"), "--kubeconfig", agent.toString(), "get", "pods", "-n", "dev", "-w")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!(Files.exists(out) && Files.readString(out).contains("web-1")) && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(Files.readString(out)).contains("web-1"); // from kubectl's list; its watch comes next
            while (f.api.received().stream().noneMatch(r -> r.query().contains("watch=")) && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(f.api.received()).as("the watch reached the cluster").anySatisfy(r -> assertThat(r.query()).contains("watch="));
            Thread.sleep(200); // and its head came back through the gateway

            f.api.close(); // the cluster goes away under the watch

            HttpResponse<String> next = f.send("GET", "/api/v1/namespaces/dev/pods", token, Map.of());
            assertThat(next.statusCode()).isEqualTo(502);
            JsonNode status = JSON.readTree(next.body());
            assertThat(status.path("kind").asText()).isEqualTo("Status");
            assertThat(status.path("message").asText()).contains("did not answer");
            // the watch in progress ends, recorded as cut by the upstream (kubectl may start new ones, which fail at once)
            assertThat(awaitReplay("response aborted: the upstream")).contains("watch pods in dev");
        } finally {
            watch.destroy();
            watch.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theClusterDyingMidExecEndsTheSessionRecordedAndTheGatewayAnswersOn() throws Exception {
        String token = f.token("agent-1", "agents");
        Path agent = f.kubeconfig("agent", token);
        Path out = dir.resolve("exec.txt");
        Process exec = new ProcessBuilder(Kubectl.binary("1.33"), "--kubeconfig", agent.toString(), "exec", "-i", "web-1", "-n", "dev", "--", "cat")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            exec.getOutputStream().write("before-the-fall\n".getBytes(StandardCharsets.UTF_8));
            exec.getOutputStream().flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.readString(out).contains("before-the-fall") && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(Files.readString(out)).as("the pod echoed what was typed").contains("before-the-fall");

            f.api.close(); // the cluster goes away under the exec

            assertThat(exec.waitFor(20, TimeUnit.SECONDS)).as("kubectl's exec ends: " + Files.readString(out)).isTrue();
            String replay = awaitReplay("the upstream closed the stream");
            assertThat(replay).contains("exec pods/web-1 in dev: cat");
            HttpResponse<String> next = f.send("GET", "/api/v1/namespaces/dev/pods", token, Map.of());
            assertThat(next.statusCode()).isEqualTo(502);
            assertThat(JSON.readTree(next.body()).path("kind").asText()).isEqualTo("Status");
        } finally {
            exec.destroyForcibly();
            exec.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aWatchWhoseAgentStopsReadingHoldsTheClusterBackWhileOthersAreServedAndLosesNothing() throws Exception {
        String token = f.token("agent-1", "agents");
        // 800 events of 100 KB: 80 MB, several times what every buffer on the way holds (the kernel's socket
        // buffers on loopback grow to a few MB each, and there are four sockets between the cluster and the agent)
        int events = 800;
        String filler = "x".repeat(100_000);
        try (SSLSocket slow = (SSLSocket) f.http.sslContext().getSocketFactory().createSocket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new InetSocketAddress("127.0.0.1", f.port), 5000);
            slow.setSoTimeout(30_000);
            slow.getOutputStream().write(("GET /api/v1/namespaces/dev/configmaps?watch=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            slow.getOutputStream().flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (f.api.received().stream().noneMatch(r -> r.query().contains("watch=")) && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(f.api.received()).as("the watch reached the cluster").anySatisfy(r -> assertThat(r.query()).contains("watch="));

            for (int i = 0; i < events; i++) {
                com.fasterxml.jackson.databind.node.ObjectNode map = JSON.createObjectNode();
                map.putObject("metadata").put("name", "big-" + i);
                map.putObject("data").put("blob", filler);
                f.api.put("configmaps", "dev", map);
            }
            Thread.sleep(2000); // what can flow has flowed: every buffer on the way is full (how much that is depends on the kernel)
            int held = f.api.pendingWatchEvents();
            assertThat(held).as("events the cluster could not send yet").isPositive();
            // the cluster is held back: events produced now all wait at the cluster, none go into the gateway's memory
            int more = 100;
            for (int i = events; i < events + more; i++) {
                com.fasterxml.jackson.databind.node.ObjectNode map = JSON.createObjectNode();
                map.putObject("metadata").put("name", "big-" + i);
                map.putObject("data").put("blob", filler);
                f.api.put("configmaps", "dev", map);
            }
            events += more;
            Thread.sleep(1000);
            assertThat(f.api.pendingWatchEvents() - held).as("of the %d events produced once the buffers were full, held at the cluster", more)
                    .isGreaterThanOrEqualTo(more - 2);
            // and another agent is served meanwhile
            KubeGatewayFixture.Run other = f.kubectl("1.33", f.kubeconfig("other", f.token("agent-2", "agents")), "get", "pods", "-n", "dev");
            assertThat(other.exit()).as(other.out()).isZero();
            assertThat(other.out()).contains("web-1");

            // once the agent reads again, every event arrives, the last one included
            assertThat(readUntil(slow.getInputStream(), "\"name\":\"big-" + (events - 1) + "\"")).isTrue();
        }
        assertThat(awaitReplay("the agent closed the connection")).contains("watch configmaps in dev");
    }

    /** Reads {@code in} until {@code text} has passed (true) or the stream ends (false), keeping only a window. */
    private static boolean readUntil(java.io.InputStream in, String text) throws java.io.IOException {
        byte[] buffer = new byte[64 * 1024];
        String tail = "";
        for (int n; (n = in.read(buffer)) > 0; ) {
            String window = tail + new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
            if (window.contains(text)) return true;
            tail = window.substring(Math.max(0, window.length() - text.length()));
        }
        return false;
    }

    /** The replay of the agent's sessions once it shows {@code text}. */
    private String awaitReplay(String expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String text = "";
        while (System.nanoTime() < deadline) {
            StringBuilder all = new StringBuilder();
            try (AuditStore store = LoggedStore.openForReading(dir.resolve("data").resolve("portcullis.db"))) {
                Replay replay = new Replay(store, ZoneId.of("UTC"));
                for (var s : store.sessions(SessionQuery.newest().limit(100))) all.append(replay.text(s.id()));
            }
            text = all.toString();
            if (text.contains(expected)) return text;
            Thread.sleep(100);
        }
        throw new AssertionError("the replay never showed " + expected + ":\n" + text);
    }
}
