package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.AuditVerifier;
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
import java.sql.Connection;
import java.sql.Statement;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A risky statement in a live psql session is held until a member of {@code dba} decides on it through
 * the approval API, then runs (or is refused) in that same session.
 */
class StatementHeldForApprovalTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern ID = Pattern.compile("apr_[A-Za-z0-9]+");

    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static String agent;
    static String dba;

    @BeforeAll
    static void start() throws Exception {
        // TRUNCATE gets a rule of its own with a short hold, for the expiry case; DROP keeps the shipped 15 min.
        f = new PostgresGatewayFixture(data, yaml -> yaml.replace("        - id: schema-and-privileges-need-a-dba\n", """
                        - id: truncate-quickly
                          when:
                            sql:
                              kinds: [truncate]
                          action: require-approval
                          approvers: [dba]
                          hold-timeout: 2s
                          message: Truncation needs a DBA, quickly.

                        - id: jit-writes
                          description: Agents may write once a DBA grants them ten minutes.
                          when:
                            groups: [agents]
                            sql:
                              kinds: [insert, update]
                              changes-schema: false
                              runs-code: false
                          action: require-approval
                          approvers: [dba]
                          grant: 10m

                        - id: jit-deletes-briefly
                          when:
                            groups: [agents]
                            sql:
                              kinds: [delete]
                              has-where: true
                          action: require-approval
                          approvers: [dba]
                          grant: 2s

                        - id: schema-and-privileges-need-a-dba
                """));
        agent = f.token("agent-1", "agents");
        dba = f.token("dba-1", "dba");
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @Test
    void approvedDropRunsInTheSameSessionAndReturnsItsResult() throws Exception {
        scratch("scratch_approved");
        BackgroundPsql psql = BackgroundPsql.start(agent, "DROP TABLE scratch_approved", "SELECT 41 + 1 AS answer");

        JsonNode request = awaitPending("DROP TABLE scratch_approved");
        String id = request.get("id").asText();
        assertThat(request.get("requester").get("subject").asText()).isEqualTo("agent-1");
        assertThat(request.get("approverGroups").toString()).contains("dba");
        String notice = psql.awaitErr(id);
        assertThat(notice).contains("NOTICE:", "waits for approval by dba", id, "/approvals/" + id);
        assertThat(psql.process.isAlive()).as("psql is still waiting").isTrue();
        assertThat(f.tableExists("scratch_approved")).isTrue();

        assertThat(post(id, "approve", dba, "").statusCode()).isEqualTo(200);

        PostgresGatewayFixture.PsqlRun r = psql.finish();
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("DROP TABLE").contains("answer").contains("42");
        assertThat(r.err()).doesNotContain("ERROR");
        assertThat(f.tableExists("scratch_approved")).isFalse();
        assertThat(get(id).get("state").asText()).isEqualTo("released");

        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            var session = store.sessions(SessionQuery.newest().subject("agent-1")).stream()
                    .filter(s -> transcript(store, s.id()).contains("DROP TABLE scratch_approved")).findFirst().orElseThrow();
            String transcript = transcript(store, session.id());
            assertThat(transcript).contains("DROP TABLE scratch_approved", "schema-and-privileges-need-a-dba", id);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void approversReadTheWholeStatementAsSentWithoutItsSecrets() throws Exception {
        scratch("jit_detail");
        String longTail = " OR id IN (" + "1, ".repeat(120) + "2)";
        String jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYXJvbCJ9.c2lnbmF0dXJlLW5vdC1yZWFsbHk";
        String sql = "UPDATE jit_detail SET id = 5 WHERE id = 9 AND 'carol@example.com' <> '" + jwt + "'" + longTail;
        BackgroundPsql psql = BackgroundPsql.start(f.token("agent-g4", "agents"), sql);
        JsonNode request = awaitPendingOf("agent-g4");
        assertThat(request.get("summary").asText()).endsWith("…").hasSizeLessThan(sql.length());
        // The statement is the agent's own action: whom it names is shown; a token in it is not.
        assertThat(request.get("detail").asText()).contains("UPDATE jit_detail SET id = 5", "1, 1, 1, 2)")
                .contains("'carol@example.com' <> '[redacted]'").doesNotContain(jwt);
        String id = request.get("id").asText();
        assertThat(post(id, "deny", dba, "{\"reason\":\"no\"}").statusCode()).isEqualTo(200);
        assertThat(psql.finish().err()).contains("ERROR:", "no");
    }

    @Test
    void deniedDropFailsWithTheReasonAndTheSessionGoesOn() throws Exception {
        scratch("scratch_denied");
        BackgroundPsql psql = BackgroundPsql.start(agent, "DROP TABLE scratch_denied", "SELECT 'still here' AS after");

        String id = awaitPending("DROP TABLE scratch_denied").get("id").asText();
        psql.awaitErr(id);
        assertThat(post(id, "deny", dba, "{\"reason\":\"not during business hours\"}").statusCode()).isEqualTo(200);

        PostgresGatewayFixture.PsqlRun r = psql.finish();
        assertThat(r.err()).contains("ERROR:", id, "denied", "dba-1", "not during business hours");
        assertThat(r.out()).as("the next statement in the same session runs").contains("still here");
        assertThat(f.tableExists("scratch_denied")).isTrue();
        assertThat(get(id).get("state").asText()).isEqualTo("denied");
    }

    @Test
    void aClientThatLeavesDuringTheHoldNeverHasItsStatementRunEvenIfApprovedLater() throws Exception {
        scratch("scratch_left");
        BackgroundPsql psql = BackgroundPsql.start(agent, "DROP TABLE scratch_left");
        String id = awaitPending("DROP TABLE scratch_left").get("id").asText();
        psql.awaitErr(id);

        psql.process().destroyForcibly().waitFor();
        Thread.sleep(2_500); // the hold notices within a second
        assertThat(post(id, "approve", dba, "").statusCode()).isEqualTo(200);
        Thread.sleep(1_500);

        assertThat(f.tableExists("scratch_left")).isTrue();
        assertThat(get(id).get("state").asText()).as("approved, but never released").isEqualTo("approved");
    }

    @Test
    void aHoldNobodyDecidesExpiresAndNothingRuns() throws Exception {
        scratch("scratch_expiring");
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO scratch_expiring VALUES (1), (2)");
        }
        BackgroundPsql psql = BackgroundPsql.start(agent, "TRUNCATE scratch_expiring", "SELECT 'after expiry' AS after");

        PostgresGatewayFixture.PsqlRun r = psql.finish();
        assertThat(r.err()).contains("NOTICE:", "waits for approval").contains("ERROR:", "expired", "2s");
        assertThat(r.out()).contains("after expiry");
        assertThat(f.count("scratch_expiring")).isEqualTo(2);
        String id = firstId(r.err());
        assertThat(get(id).get("state").asText()).isIn("expired", "pending"); // the sweeper may not have run yet
    }

    @Test
    void theRequesterCannotApproveItsOwnStatementNorCanSomeoneOutsideTheApproverGroups() throws Exception {
        scratch("scratch_self");
        String dbaAgent = f.token("dba-agent", "agents", "dba");
        BackgroundPsql psql = BackgroundPsql.start(dbaAgent, "DROP TABLE scratch_self");
        String id = awaitPending("DROP TABLE scratch_self").get("id").asText();
        psql.awaitErr(id);

        HttpResponse<String> own = post(id, "approve", dbaAgent, "");
        assertThat(own.statusCode()).as(own.body()).isEqualTo(403);
        assertThat(own.body()).contains("Own request");
        HttpResponse<String> outsider = post(id, "approve", f.token("someone", "agents"), "");
        assertThat(outsider.statusCode()).as(outsider.body()).isEqualTo(403);
        assertThat(outsider.body()).contains("Not an approver");

        Thread.sleep(300);
        assertThat(get(id).get("state").asText()).isEqualTo("pending");
        assertThat(psql.process.isAlive()).as("still held").isTrue();
        assertThat(f.tableExists("scratch_self")).isTrue();

        assertThat(post(id, "deny", dba, "{\"reason\":\"ask someone else\"}").statusCode()).isEqualTo(200);
        assertThat(psql.finish().err()).contains("ask someone else");
        assertThat(f.tableExists("scratch_self")).isTrue();
    }

    @Test
    void anApprovalReleasesOnlyItsOwnStatement() throws Exception {
        scratch("scratch_a");
        scratch("scratch_b");
        BackgroundPsql a = BackgroundPsql.start(agent, "DROP TABLE scratch_a");
        BackgroundPsql b = BackgroundPsql.start(agent, "DROP TABLE scratch_b");
        String idA = awaitPending("DROP TABLE scratch_a").get("id").asText();
        String idB = awaitPending("DROP TABLE scratch_b").get("id").asText();
        assertThat(idA).isNotEqualTo(idB);
        assertThat(get(idA).get("fingerprint").asText()).isNotEqualTo(get(idB).get("fingerprint").asText());

        assertThat(post(idA, "approve", dba, "").statusCode()).isEqualTo(200);
        assertThat(a.finish().out()).contains("DROP TABLE");
        assertThat(f.tableExists("scratch_a")).isFalse();

        Thread.sleep(1_000); // longer than the service's await poll
        assertThat(get(idA).get("state").asText()).isEqualTo("released");
        assertThat(get(idB).get("state").asText()).isEqualTo("pending");
        assertThat(b.process.isAlive()).isTrue();
        assertThat(f.tableExists("scratch_b")).isTrue();
        // a second approval of A changes nothing: it is used up
        assertThat(post(idA, "approve", dba, "").statusCode()).isEqualTo(409);

        post(idB, "deny", dba, "{\"reason\":\"clean-up\"}");
        assertThat(b.finish().err()).contains("denied");
        assertThat(f.tableExists("scratch_b")).isTrue();
    }

    @Test
    void aQueryWithOneHeldStatementIsHeldAsAWholeOnThatApproval() throws Exception {
        scratch("scratch_multi");
        BackgroundPsql psql = BackgroundPsql.start(agent, "SELECT 1 AS before; DROP TABLE scratch_multi; SELECT 2 AS after");
        String id = awaitPending("DROP TABLE scratch_multi").get("id").asText();
        psql.awaitErr(id);
        assertThat(post(id, "approve", dba, "").statusCode()).isEqualTo(200);
        PostgresGatewayFixture.PsqlRun r = psql.finish();
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("after");
        assertThat(f.tableExists("scratch_multi")).isFalse();
    }

    @Test
    void twoHeldStatementsInOneQueryAreRefused() throws Exception {
        scratch("scratch_two");
        var r = f.psql(agent, "DROP TABLE scratch_two; TRUNCATE scratch_two", "SELECT 'on' AS after");
        assertThat(r.err()).contains("ERROR:", "one query at a time");
        assertThat(r.out()).contains("on");
        assertThat(f.tableExists("scratch_two")).isTrue();
    }

    @Test
    void jdbcOverTheExtendedProtocolIsHeldAndReleasedOrDeniedToo() throws Exception {
        scratch("scratch_jdbc");
        try (Connection c = f.jdbc(agent); Statement st = c.createStatement()) {
            var running = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return st.executeUpdate("DROP TABLE scratch_jdbc");
                } catch (java.sql.SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            String id = awaitPending("DROP TABLE scratch_jdbc").get("id").asText();
            assertThat(f.tableExists("scratch_jdbc")).isTrue();
            assertThat(post(id, "approve", dba, "").statusCode()).isEqualTo(200);
            running.get(30, TimeUnit.SECONDS);
            assertThat(f.tableExists("scratch_jdbc")).isFalse();
            assertThat((Object) st.getWarnings()).isNotNull();
            assertThat(st.getWarnings().getMessage()).contains(id);

            scratch("scratch_jdbc");
            var denied = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return st.executeUpdate("DROP TABLE scratch_jdbc");
                } catch (java.sql.SQLException e) {
                    return e.getSQLState() + " " + e.getMessage();
                }
            });
            String id2 = awaitPending("DROP TABLE scratch_jdbc").get("id").asText();
            assertThat(post(id2, "deny", dba, "{\"reason\":\"keep it\"}").statusCode()).isEqualTo(200);
            assertThat(denied.get(30, TimeUnit.SECONDS).toString()).contains("42501", id2, "keep it");
            assertThat(f.tableExists("scratch_jdbc")).isTrue();
            try (var rs = st.executeQuery("SELECT 7")) {
                rs.next();
                assertThat(rs.getInt(1)).as("the connection goes on").isEqualTo(7);
            }
        }
    }

    @Test
    void anApprovedGrantLetsTheRequesterRunTheRulesStatementsForItsTimeInEverySessionAndNobodyElse() throws Exception {
        scratch("jit_orders");
        String granted = f.token("agent-g1", "agents");
        BackgroundPsql psql = BackgroundPsql.start(granted, "INSERT INTO jit_orders VALUES (1)",
                "INSERT INTO jit_orders VALUES (2)", "UPDATE jit_orders SET id = 3 WHERE id = 2",
                "SELECT count(*) AS rows_now FROM jit_orders");

        JsonNode request = awaitPending("INSERT INTO jit_orders VALUES (1)");
        String id = request.get("id").asText();
        assertThat(request.get("grant").get("minutes").asInt()).isEqualTo(10);
        assertThat(psql.awaitErr(id)).contains("statements of this rule run without asking for 10m");
        assertThat(f.count("jit_orders")).as("held: nothing ran yet").isZero();

        assertThat(post(id, "approve", dba, "").statusCode()).isEqualTo(200);

        PostgresGatewayFixture.PsqlRun r = psql.finish();
        assertThat(r.err()).doesNotContain("ERROR");
        assertThat(r.out()).contains("INSERT 0 1", "UPDATE 1", "rows_now", "2");
        assertThat(r.err().split("waits for approval", -1)).as("held once, for the first statement only").hasSize(2);
        JsonNode approved = get(id);
        assertThat(approved.get("state").asText()).isEqualTo("approved");
        assertThat(approved.get("grant").get("until").asText()).isNotEmpty();

        // Another session of the same agent: the grant covers the connection, not one client connection.
        PostgresGatewayFixture.PsqlRun again = f.psql(granted, "INSERT INTO jit_orders VALUES (4)");
        assertThat(again.err()).doesNotContain("waits for approval").doesNotContain("ERROR");
        assertThat(f.count("jit_orders")).isEqualTo(3);

        // Another agent is held on its own request, and the grant does not stretch to other rules.
        BackgroundPsql other = BackgroundPsql.start(f.token("agent-g2", "agents"), "INSERT INTO jit_orders VALUES (99)");
        String otherId = awaitPending("INSERT INTO jit_orders VALUES (99)").get("id").asText();
        assertThat(otherId).isNotEqualTo(id);
        assertThat(post(otherId, "deny", dba, "{\"reason\":\"not you\"}").statusCode()).isEqualTo(200);
        assertThat(other.finish().err()).contains("ERROR:", "not you");
        assertThat(f.psql(granted, "DELETE FROM jit_orders").err()).contains("ERROR:", "default-deny");
        assertThat(f.count("jit_orders")).isEqualTo(3);

        // Revoked: the agent is held again.
        assertThat(post(id, "revoke", dba, "{\"reason\":\"incident closed\"}").statusCode()).isEqualTo(200);
        BackgroundPsql afterRevoke = BackgroundPsql.start(granted, "INSERT INTO jit_orders VALUES (5)");
        String anew = awaitPending("INSERT INTO jit_orders VALUES (5)").get("id").asText();
        assertThat(anew).isNotEqualTo(id);
        assertThat(post(anew, "deny", dba, "{\"reason\":\"enough for today\"}").statusCode()).isEqualTo(200);
        assertThat(afterRevoke.finish().err()).contains("ERROR:", "enough for today");
        assertThat(f.count("jit_orders")).isEqualTo(3);

        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            String all = store.sessions(SessionQuery.newest().subject("agent-g1")).stream()
                    .map(s -> transcript(store, s.id())).reduce("", String::concat);
            assertThat(all).contains("INSERT INTO jit_orders VALUES (2)", "under grant " + id, "revoked by dba-1: incident closed");
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void aGrantEndsOnTimeAndTheNextStatementIsHeldAgain() throws Exception {
        scratch("jit_brief");
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO jit_brief VALUES (1), (2), (3)");
        }
        String agentG3 = f.token("agent-g3", "agents");
        BackgroundPsql psql = BackgroundPsql.start(agentG3, "DELETE FROM jit_brief WHERE id = 1");
        String id = awaitPending("DELETE FROM jit_brief WHERE id = 1").get("id").asText();
        assertThat(post(id, "approve", dba, "").statusCode()).isEqualTo(200);
        assertThat(psql.finish().out()).contains("DELETE 1");

        Thread.sleep(2_200); // the 2 s grant runs out
        BackgroundPsql late = BackgroundPsql.start(agentG3, "DELETE FROM jit_brief WHERE id = 2");
        String anew = awaitPending("DELETE FROM jit_brief WHERE id = 2").get("id").asText();
        assertThat(anew).isNotEqualTo(id);
        assertThat(f.count("jit_brief")).isEqualTo(2);
        assertThat(post(anew, "deny", dba, "{\"reason\":\"time is up\"}").statusCode()).isEqualTo(200);
        assertThat(late.finish().err()).contains("ERROR:", "time is up");
        assertThat(f.count("jit_brief")).isEqualTo(2);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15); // the sweep runs every 5 s
        while (!get(id).get("state").asText().equals("expired") && System.nanoTime() < deadline) Thread.sleep(200);
        assertThat(get(id).get("state").asText()).isEqualTo("expired");
    }

    // ---------------------------------------------------------------------------------------------

    private static void scratch(String table) throws Exception {
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + table + " (id int)");
            st.execute("ALTER TABLE " + table + " OWNER TO " + PostgresGatewayFixture.DB_USER);
        }
    }

    private static String transcript(AuditStore store, String sessionId) {
        try {
            return new Replay(store, ZoneOffset.UTC).text(sessionId);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String firstId(String text) {
        Matcher m = ID.matcher(text);
        assertThat(m.find()).as(text).isTrue();
        return m.group();
    }

    private static URI api(String rest) {
        return URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/approvals" + rest);
    }

    private static JsonNode awaitPending(String summary) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(api("?state=pending"))
                    .header("Authorization", "Bearer " + dba).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            for (JsonNode a : JSON.readTree(r.body()).get("approvals")) {
                if (a.get("summary").asText().equals(summary)) return a;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no pending approval request for " + summary);
    }

    private static JsonNode awaitPendingOf(String subject) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(api("?state=pending"))
                    .header("Authorization", "Bearer " + dba).GET().build(), HttpResponse.BodyHandlers.ofString());
            for (JsonNode a : JSON.readTree(r.body()).get("approvals")) {
                if (a.get("requester").get("subject").asText().equals(subject)) return a;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no pending approval request of " + subject);
    }

    private static JsonNode get(String id) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(api("/" + id))
                .header("Authorization", "Bearer " + dba).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static HttpResponse<String> post(String id, String action, String token, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(api("/" + id + "/" + action))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** psql running in the background, its output in files that can be read while it waits. */
    private record BackgroundPsql(Process process, Path out, Path err) {
        static BackgroundPsql start(String token, String... commands) throws Exception {
            Path out = Files.createTempFile(data, "psql", ".out");
            Path err = Files.createTempFile(data, "psql", ".err");
            return new BackgroundPsql(f.startPsql("disable", token, out, err, commands), out, err);
        }

        /** Waits until psql has printed {@code expected} on stderr (notices go there as they arrive). */
        String awaitErr(String expected) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                String text = Files.readString(err);
                if (text.contains(expected)) return text;
                Thread.sleep(50);
            }
            throw new AssertionError("psql did not print " + expected + ": " + Files.readString(err));
        }

        PostgresGatewayFixture.PsqlRun finish() throws Exception {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("psql did not finish: " + Files.readString(err));
            }
            return new PostgresGatewayFixture.PsqlRun(process.exitValue(), Files.readString(out), Files.readString(err));
        }
    }
}
