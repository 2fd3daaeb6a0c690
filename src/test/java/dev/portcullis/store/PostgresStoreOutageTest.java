package dev.portcullis.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.Identity;
import dev.portcullis.recording.AuditEvent;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.ConnectionSession;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.testing.Ports;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL goes away under a running replica: what the replica records still goes to its trail (the
 * durable copy), readiness says the index is behind and why, and when the database is back the index
 * catches up on its own and the chain verifies: nothing recorded meanwhile is lost.
 */
class PostgresStoreOutageTest {
    @TempDir
    Path dir;

    private static EmbeddedPostgres start(Path data, int port) throws Exception {
        return EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port).start();
    }

    @Test
    void eventsRecordedWhileTheDatabaseIsDownAreIndexedWhenItIsBack() throws Exception {
        int port = Ports.free();
        Path pgdata = dir.resolve("pgdata");
        EmbeddedPostgres postgres = start(pgdata, port);
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
        Identity agent = new Identity("agent-1", Set.of("agents"), "jti-1", "client", "http://issuer", Map.of(),
                Instant.now().plusSeconds(3600));
        try (LoggedStore store = LoggedStore.open(dir.resolve("trail"), TrailLog.DEFAULT_SEGMENT_BYTES,
                () -> PostgresStore.open(url, "postgres", "postgres", "portcullis", "a", 2))) {
            DurableRecorder recorder = new DurableRecorder(store, Clock.systemUTC());
            ConnectionSession session = recorder.openSession(agent, "okta", "http", "127.0.0.1");
            session.record(new AuditEvent.SessionEnded("before the outage"));
            store.sessions(SessionQuery.newest().limit(1)); // indexed
            assertThat(store.indexBehindBecause()).isEmpty();

            postgres.close(); // the database goes away
            for (int i = 0; i < 20; i++) session.record(new AuditEvent.SessionEnded("during the outage " + i)); // to the trail
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (store.indexBehindBecause().isEmpty() && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(store.indexBehindBecause()).as("readiness says why").hasValueSatisfying(why ->
                    assertThat(why).contains("event(s) behind the trail", "PostgreSQL jdbc:postgresql://127.0.0.1:" + port));

            postgres = start(pgdata, port); // back
            session.record(new AuditEvent.SessionEnded("after the outage"));
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (store.indexBehindBecause().isPresent() && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(store.indexBehindBecause()).as("caught up on its own").isEmpty();
            recorder.close();
        }
        try (PostgresStore reader = PostgresStore.openForReading(url, "postgres", "postgres", "portcullis")) {
            var report = AuditVerifier.verify(reader);
            assertThat(report.problems()).isEmpty();
            assertThat(report.events()).isEqualTo(1 + 1 + 20 + 1); // start, before, 20 during, after
        } finally {
            postgres.close();
        }
    }
}
