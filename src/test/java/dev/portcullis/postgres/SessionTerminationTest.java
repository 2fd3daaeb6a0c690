package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session admin ends a live psql session through the API: psql hears why (FATAL 57P01), the recording
 * says who and why, and nobody outside admin.session-admins may do it.
 */
class SessionTerminationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path data;
    static PostgresGatewayFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data, yaml -> yaml);
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    static HttpResponse<String> api(String method, String path, String token, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The live session of {@code subject}, once it is open. */
    static String liveSession(String admin, String subject) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = api("GET", "/api/v1/sessions/live", admin, null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            for (JsonNode s : JSON.readTree(r.body()).path("sessions")) {
                if (s.path("subject").asText().equals(subject) && s.path("protocol").asText().equals("postgres")) return s.path("id").asText();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no live session of " + subject);
    }

    @Test
    void aSessionAdminEndsALivePsqlSessionAndPsqlHearsWhy() throws Exception {
        String agent = f.token("agent-kill", "agents");
        String dba = f.token("dba-1", "dba");
        Path out = Files.createTempFile(data, "psql", ".out");
        Path err = Files.createTempFile(data, "psql", ".err");
        // held for approval: the session stays open, waiting
        Process psql = f.startPsql("disable", agent, out, err, "DROP TABLE scratch_killed");
        try {
            String id = liveSession(dba, "agent-kill");

            HttpResponse<String> stranger = api("POST", "/api/v1/sessions/" + id + "/terminate", agent, "{\"reason\":\"mine\"}");
            assertThat(stranger.statusCode()).isEqualTo(403);
            assertThat(api("POST", "/api/v1/sessions/nope-" + id + "/terminate", dba, "{\"reason\":\"x\"}").statusCode()).isEqualTo(404);
            assertThat(api("POST", "/api/v1/sessions/" + id + "/terminate", dba, "{}").statusCode()).isEqualTo(400);

            HttpResponse<String> killed = api("POST", "/api/v1/sessions/" + id + "/terminate", dba, "{\"reason\":\"runaway agent\"}");
            assertThat(killed.statusCode()).as(killed.body()).isEqualTo(200);
            assertThat(psql.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(err)).contains("FATAL").contains("ended by dba-1: runaway agent");
            assertThat(api("POST", "/api/v1/sessions/" + id + "/terminate", dba, "{\"reason\":\"again\"}").statusCode()).isEqualTo(404);

            String replayed = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!replayed.contains("terminated by dba-1: runaway agent") && System.nanoTime() < deadline) {
                try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
                    replayed = new Replay(store, ZoneId.of("UTC")).text(id);
                }
                Thread.sleep(100);
            }
            assertThat(replayed).contains("terminated by dba-1: runaway agent");
        } finally {
            psql.destroyForcibly();
        }
    }
}
