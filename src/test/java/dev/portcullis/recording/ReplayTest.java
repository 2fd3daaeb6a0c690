package dev.portcullis.recording;

import dev.portcullis.testing.MutableClock;

import static dev.portcullis.recording.Fixtures.T0;
import static dev.portcullis.recording.Fixtures.allowed;
import static dev.portcullis.recording.Fixtures.identity;
import static dev.portcullis.recording.Fixtures.refused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.store.EmbeddedStore;
import dev.portcullis.store.StoredEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayTest {

    @TempDir
    Path dir;

    @Test
    void aSessionReplaysAsATranscriptAndAsJsonWithHashes() throws Exception {
        MutableClock clock = new MutableClock(T0);
        try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("audit.db"))) {
            String id;
            try (DurableRecorder recorder = new DurableRecorder(store, clock);
                 ConnectionSession s = recorder.openSession(identity("alice", "jti-1"), "okta", "http", "10.0.0.5")) {
                id = s.sessionId();
                clock.advance(Duration.ofMillis(1500));
                s.record(allowed("/api/v1/users", 200));
                clock.advance(Duration.ofSeconds(1));
                s.record(refused("/api/v1/users/00u1"));
            }
            Replay replay = new Replay(store, ZoneOffset.UTC);

            assertThat(replay.text(id)).contains(
                    "2026-11-23T09:00:00Z #1 session.start PC1000 alice: http via okta from 10.0.0.5\n"
                            + "    groups: admins, ops; token id jti-1; client agent-x; issuer https://idp.example\n",
                    "2026-11-23T09:00:01.5Z #2 operation PC2000 alice: GET /api/v1/users\n"
                            + "    verdict: allow (rule okta-read)\n"
                            + "    dry-run: deny (rule strict): dry run only\n"
                            + "    upstream: 200; decide 120 us, upstream 35000 us, total 36000 us\n"
                            + "    response (5120 bytes, truncated):\n"
                            + "      {\"email\":\"***\"}\n",
                    "#3 operation PC2000 alice: DELETE /api/v1/users/00u1\n"
                            + "    verdict: deny (rule no-deletes): deleting users is not allowed\n"
                            + "    upstream: not forwarded; decide 80 us, upstream 0 us, total 90 us\n",
                    "#4 session.end PC1001 alice: closed\n");

            JsonNode json = new ObjectMapper().readTree(replay.json(id));
            StoredEvent second = store.events(id).get(1);
            assertThat(json).hasSize(4);
            assertThat(json.get(1).path("hash").asText()).isEqualTo(second.hash());
            assertThat(json.get(1).path("prevHash").asText()).isEqualTo(store.events(id).get(0).hash());
            assertThat(json.get(1).path("type").asText()).isEqualTo("operation");
            assertThat(json.get(1).path("event").path("verdict").path("ruleId").asText()).isEqualTo("okta-read");
            assertThat(json.get(2).path("event").path("upstream").path("kind").asText()).isEqualTo("not-forwarded");
            assertThatThrownBy(() -> replay.text("nope")).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
