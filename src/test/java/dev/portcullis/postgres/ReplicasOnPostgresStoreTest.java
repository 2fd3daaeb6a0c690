package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.Replay;
import dev.portcullis.recording.VerifyReport;
import dev.portcullis.server.Gateway;
import dev.portcullis.store.PostgresStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.SessionSummary;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateway replicas sharing one PostgreSQL store, with the real psql: a statement held on one replica is
 * approved through another and runs in the held session; a replica killed with SIGKILL while it holds a
 * statement leaves the request decidable, its client's connection ended, the others serving, and after
 * its restart every chain verifies with nothing acknowledged lost; an admin ends a live session through
 * any replica.
 */
class ReplicasOnPostgresStoreTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path data;

    static PostgresGatewayFixture f; // replica a, in this JVM
    static Gateway b;                // replica b, in this JVM
    static Path config;
    static String agent;
    static String dba;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data, yaml -> yaml.replace("""
                store:
                  type: embedded
                  path: ${PORTCULLIS_DATA:-./data}/portcullis.db
                """, """
                store:
                  type: postgres
                  url: jdbc:postgresql://127.0.0.1:${PG_PORT}/postgres
                  user: postgres
                  password: ${STORE_PASSWORD:-trusted-on-loopback}
                  replica: ${PORTCULLIS_REPLICA:-a}
                  trail: ${PORTCULLIS_DATA}/trail-${PORTCULLIS_REPLICA:-a}
                """));
        config = data.resolve("postgres.yaml");
        assertThat(Files.readString(config)).contains("type: postgres");
        b = Gateway.start(ConfigLoader.load(config, replicaEnv("b")), Clock.systemUTC());
        agent = f.token("agent-1", "agents");
        dba = f.token("dba-1", "dba");
    }

    @AfterAll
    static void stop() throws Exception {
        if (b != null) b.close();
        if (f != null) f.close();
    }

    /** The fixture's environment with another replica name, and ports of its own. */
    static Map<String, String> replicaEnv(String replica) throws Exception {
        Map<String, String> env = new HashMap<>(f.env);
        env.put("PORTCULLIS_REPLICA", replica);
        env.put("PORTCULLIS_ADMIN_LISTEN", "127.0.0.1:" + PostgresGatewayFixture.freePort());
        env.put("PORTCULLIS_PG_LISTEN", "127.0.0.1:" + PostgresGatewayFixture.freePort());
        return env;
    }

    @Test
    void aStatementHeldOnOneReplicaIsApprovedThroughAnotherAndRunsInItsSession() throws Exception {
        scratch("scratch_across");
        Process psql = psqlOn(f.port, agent, "DROP TABLE scratch_across", "SELECT 'still here'");
        JsonNode request = awaitPending(b.adminPort(), "DROP TABLE scratch_across"); // the request, read through b
        String id = request.get("id").asText();
        assertThat(f.tableExists("scratch_across")).as("nothing ran while held").isTrue();

        long approved = System.nanoTime();
        assertThat(post(b.adminPort(), id, "approve", dba).statusCode()).isEqualTo(200);
        assertThat(psql.waitFor(30, TimeUnit.SECONDS)).isTrue();
        long releasedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - approved);
        String out = new String(psql.getInputStream().readAllBytes());
        String err = new String(psql.getErrorStream().readAllBytes());
        assertThat(out).as(err).contains("still here");
        assertThat(err).as("psql's messages").doesNotContain("ERROR");
        assertThat(f.tableExists("scratch_across")).isFalse();
        // announced, not polled: well inside the one second the store's NOTIFY allows (polling alone takes up to 0.5 s more)
        assertThat(releasedMillis).as("approval on b to the end of psql on a").isLessThan(3_000);

        try (PostgresStore store = PostgresStore.openForReading(storeUrl(), "postgres", "x", "portcullis")) {
            List<SessionSummary> sessions = store.sessions(SessionQuery.newest().limit(50));
            String transcripts = transcripts(store, sessions);
            assertThat(transcripts).contains("DROP TABLE scratch_across", id, "dba-1");
            VerifyReport report = awaitVerified(store);
            assertThat(report.headHash()).contains("a=", "b=");
        }
    }

    @Test
    void aReplicaKilledWhileItHoldsAStatementLosesNothingAndTheOthersServeOn() throws Exception {
        scratch("scratch_killed");
        Map<String, String> env = replicaEnv("c");
        int cPort = Integer.parseInt(env.get("PORTCULLIS_PG_LISTEN").replaceAll(".*:", ""));
        int cAdmin = Integer.parseInt(env.get("PORTCULLIS_ADMIN_LISTEN").replaceAll(".*:", ""));
        Process c = startReplicaProcess(env, data.resolve("replica-c.log"));
        try {
            awaitReady(cAdmin, c);
            Process psql = psqlOn(cPort, agent, "SELECT 'before' AS first", "DROP TABLE scratch_killed");
            String id = awaitPending(f.adminPort, "DROP TABLE scratch_killed").get("id").asText();

            c.destroyForcibly(); // SIGKILL, mid-hold
            assertThat(c.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(psql.waitFor(20, TimeUnit.SECONDS)).as("the client sees its connection end").isTrue();
            assertThat(new String(psql.getInputStream().readAllBytes())).contains("before");
            assertThat(new String(psql.getErrorStream().readAllBytes())).containsAnyOf("server closed the connection",
                    "connection to server was lost", "terminating connection");

            // the request outlives its replica and can still be decided, through any other
            assertThat(get(f.adminPort, id).get("state").asText()).isEqualTo("pending");
            assertThat(post(b.adminPort(), id, "deny", dba).statusCode()).isEqualTo(200);
            assertThat(get(f.adminPort, id).get("state").asText()).isEqualTo("denied");
            assertThat(f.tableExists("scratch_killed")).as("nothing of the held statement ran").isTrue();
            // the others serve on
            assertThat(f.psql(agent, "SELECT 'on a'").out()).contains("on a");

            // c restarts on its trail: what it wrote before the kill is indexed, and every chain verifies
            Process again = startReplicaProcess(env, data.resolve("replica-c-again.log"));
            try {
                awaitReady(cAdmin, again);
                try (PostgresStore store = PostgresStore.openForReading(storeUrl(), "postgres", "x", "portcullis")) {
                    String transcripts = transcripts(store, store.sessions(SessionQuery.newest().limit(50)));
                    assertThat(transcripts).contains("SELECT 'before' AS first", "DROP TABLE scratch_killed", id);
                    awaitVerified(store);
                }
            } finally {
                again.destroy();
                again.waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            c.destroyForcibly();
        }
    }

    @Test
    void anAdminEndsASessionThroughAnyReplica() throws Exception {
        Process psql = psqlOn(f.port, agent, "SELECT 'started'", "DROP TABLE held_open"); // held for approval: the session stays open
        String id = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (id == null && System.nanoTime() < deadline) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/sessions/live"))
                    .header("Authorization", "Bearer " + dba).GET().build(), HttpResponse.BodyHandlers.ofString());
            for (JsonNode s : JSON.readTree(r.body()).path("sessions")) {
                if (s.path("subject").asText().equals("agent-1") && s.path("protocol").asText().equals("postgres")) id = s.path("id").asText();
            }
            if (id == null) Thread.sleep(100);
        }
        assertThat(id).as("agent-1's psql session, live on a").isNotNull();

        HttpResponse<String> ended = terminate(b.adminPort(), id);  // asked through b, held by a
        assertThat(ended.statusCode()).as(ended.body()).isEqualTo(200);
        assertThat(psql.waitFor(20, TimeUnit.SECONDS)).as("psql's session ends").isTrue();
        assertThat(new String(psql.getErrorStream().readAllBytes())).contains("FATAL", "ended by dba-1", "stop that sleep");

        assertThat(terminate(b.adminPort(), "no-such-session").statusCode()).as("no replica holds it").isEqualTo(404);
    }

    private static HttpResponse<String> terminate(int adminPort, String id) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/api/v1/sessions/" + id + "/terminate"))
                .header("Authorization", "Bearer " + dba).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"stop that sleep\"}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String storeUrl() {
        return "jdbc:postgresql://127.0.0.1:" + f.postgres.getPort() + "/postgres";
    }

    /** A gateway replica as its own process: the same classes, the same configuration, its own environment. */
    private static Process startReplicaProcess(Map<String, String> env, Path log) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.portcullis.cli.Main", "serve", "--config", config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    private static void awaitReady(int adminPort, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new AssertionError("the replica process ended with " + p.exitValue());
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the replica did not become ready");
    }

    private static VerifyReport awaitVerified(PostgresStore store) throws Exception {
        // the replicas index their trails behind their answers: give them a moment to catch up
        VerifyReport report = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            report = AuditVerifier.verify(store);
            if (report.ok()) return report;
            Thread.sleep(200);
        }
        throw new AssertionError("the chains do not verify: " + report.problems());
    }

    private static String transcripts(PostgresStore store, List<SessionSummary> sessions) {
        Replay replay = new Replay(store, ZoneOffset.UTC);
        StringBuilder all = new StringBuilder();
        for (SessionSummary s : sessions) all.append(replay.text(s.id()));
        return all.toString();
    }

    private static void scratch(String table) throws Exception {
        try (var c = f.admin(); var st = c.createStatement()) {
            st.execute("CREATE TABLE " + table + " (id int)");
            st.execute("ALTER TABLE " + table + " OWNER TO gateway");
        }
    }

    private static Process psqlOn(int port, String token, String... commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-v", "ON_ERROR_STOP=0",
                "host=127.0.0.1 port=" + port + " dbname=customers user=agent sslmode=disable"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PGPASSWORD", token);
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        return pb.start();
    }

    private static JsonNode awaitPending(int adminPort, String summary) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(api(adminPort, "?state=pending"))
                    .header("Authorization", "Bearer " + dba).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            for (JsonNode a : JSON.readTree(r.body()).get("approvals")) {
                if (a.get("summary").asText().equals(summary)) return a;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no pending approval request for " + summary);
    }

    private static JsonNode get(int adminPort, String id) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(api(adminPort, "/" + id))
                .header("Authorization", "Bearer " + dba).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static HttpResponse<String> post(int adminPort, String id, String action, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(api(adminPort, "/" + id + "/" + action))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(action.equals("deny") ? "{\"reason\":\"the replica died\"}" : ""))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI api(int adminPort, String rest) {
        return URI.create("http://127.0.0.1:" + adminPort + "/api/v1/approvals" + rest);
    }

    @Test
    void aConsoleSessionStartedOnOneReplicaWorksOnTheOtherAndSigningOutEndsItOnBoth() throws Exception {
        // The issuer sends the browser back to replica a (the redirect URL); the session lives in the shared store.
        f.issuer.enqueueCallback(new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback("default", "dba-7", "JWT",
                List.of("portcullis-console"), Map.of("groups", List.of("dba")), 3600));
        dev.portcullis.console.ConsoleBrowser browser = new dev.portcullis.console.ConsoleBrowser();
        URI a = URI.create("http://127.0.0.1:" + f.adminPort);
        URI onB = URI.create("http://127.0.0.1:" + b.adminPort());
        assertThat(browser.follow(a.resolve("/console/login?next=/console/live")).uri().getPath()).isEqualTo("/console/live");
        String cookie = browser.cookie("portcullis-console").orElseThrow().getValue();

        dev.portcullis.console.ConsoleBrowser atB = new dev.portcullis.console.ConsoleBrowser();
        atB.setCookie(onB, "portcullis-console", cookie);
        HttpResponse<String> me = atB.get(onB.resolve("/api/v1/me"));
        assertThat(me.statusCode()).as(me.body()).isEqualTo(200);
        assertThat(JSON.readTree(me.body()).path("subject").asText()).isEqualTo("dba-7");

        String csrf = JSON.readTree(me.body()).path("csrfToken").asText();
        assertThat(atB.send("POST", onB.resolve("/console/logout"), "{}", java.util.Optional.of(csrf), java.util.Optional.empty()).statusCode())
                .isEqualTo(204);
        assertThat(browser.get(a.resolve("/api/v1/me")).statusCode()).as("signed out on b, gone on a").isEqualTo(401);
    }

}
