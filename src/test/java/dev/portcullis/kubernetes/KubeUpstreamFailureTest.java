package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.testing.Kubectl;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster dies under a watch: the watch ends, it is recorded with why, and the gateway keeps answering, with a Status. */
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
