package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.EventCode;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a demanding security team throws at the PostgreSQL adapter: malformed wire input on raw
 * sockets, bad tokens, extended-protocol corners through pgjdbc, and the recording of it all.
 * Every refusal is checked against the server: table contents, or the server-side login log.
 */
class HostileClientsAndEdgeCasesTest {
    static final int READ_TIMEOUT_MILLIS = 10_000;

    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static String agent;
    static String writer;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data);
        agent = f.token("agent-1", "agents");
        writer = f.token("writer-1", "agent-writers");
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            LoginLog.install(st);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    // ---- raw wire ---------------------------------------------------------------------------------

    /** What the gateway answered before closing: its messages, and whether it closed (never a hang). */
    record Answer(List<BackendMessage> messages, boolean closed) {
        BackendMessage.ErrorResponse error() {
            return messages.stream().filter(m -> m instanceof BackendMessage.ErrorResponse)
                    .map(m -> (BackendMessage.ErrorResponse) m).reduce((a, b) -> b).orElse(null);
        }
    }

    static Socket connect() throws Exception {
        Socket s = new Socket("127.0.0.1", f.port);
        s.setSoTimeout(READ_TIMEOUT_MILLIS);
        return s;
    }

    static byte[] startupBytes() {
        LinkedHashMap<String, String> p = new LinkedHashMap<>();
        p.put("user", "agent");
        p.put("database", "customers");
        return PgMessageWriter.encode(new FrontendMessage.Startup(3, 0, p));
    }

    /** Reads until the gateway closes; a read timeout fails the test (the gateway must never hang). */
    static Answer readUntilClosed(Socket s) throws Exception {
        PgFrameReader in = PgFrameReader.fromServer(s.getInputStream());
        List<BackendMessage> got = new ArrayList<>();
        try {
            while (true) got.add(in.readBackend());
        } catch (EOFException | SocketException e) {
            return new Answer(got, true);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the gateway neither answered nor closed within " + READ_TIMEOUT_MILLIS + " ms; got " + got);
        }
    }

    /** Logs in on a raw socket with the agent's token; returns once ReadyForQuery arrived. */
    static PgFrameReader login(Socket s, String token) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(startupBytes());
        out.flush();
        PgFrameReader in = PgFrameReader.fromServer(s.getInputStream());
        assertThat(in.readBackend()).isInstanceOf(BackendMessage.AuthenticationCleartextPassword.class);
        out.write(PgMessageWriter.encode(FrontendMessage.PasswordMessage.password(token)));
        out.flush();
        BackendMessage m;
        do {
            m = in.readBackend();
            if (m instanceof BackendMessage.ErrorResponse e) throw new AssertionError("login failed: " + e);
        } while (!(m instanceof BackendMessage.ReadyForQuery));
        return in;
    }

    static void assertStillServing() throws Exception {
        var r = f.psql(agent, "SELECT count(*) AS served FROM customers");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("served", "20");
    }

    static byte[] typed(char type, int declaredLength, byte[] body) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(type);
        b.write(declaredLength >>> 24);
        b.write(declaredLength >>> 16);
        b.write(declaredLength >>> 8);
        b.write(declaredLength);
        b.writeBytes(body);
        return b.toByteArray();
    }

    @Test
    void aGarbageStartupPacketEndsTheSessionWith08P01() throws Exception {
        long logins = LoginLog.gatewayLogins(f);
        try (Socket s = connect()) {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            Answer a = readUntilClosed(s);
            assertThat(a.closed()).isTrue();
            assertThat(a.error()).isNotNull();
            assertThat(a.error().sqlState()).isEqualTo("08P01");
        }
        assertThat(LoginLog.gatewayLogins(f)).isEqualTo(logins);
        assertStillServing();
    }

    @Test
    void aHostileMessageLengthEndsTheSessionWith08P01WithoutAllocatingIt() throws Exception {
        try (Socket s = connect()) {
            login(s, agent);
            s.getOutputStream().write(typed('Q', 0x7fffffff, "SELECT 1".getBytes(StandardCharsets.US_ASCII)));
            Answer a = readUntilClosed(s);
            assertThat(a.error()).isNotNull();
            assertThat(a.error().sqlState()).isEqualTo("08P01");
            assertThat(a.error().message()).contains("exceeds the limit");
        }
        assertStillServing();
    }

    @Test
    void aHostileLengthInsteadOfThePasswordEndsTheSessionBeforeLogin() throws Exception {
        long logins = LoginLog.gatewayLogins(f);
        try (Socket s = connect()) {
            s.getOutputStream().write(startupBytes());
            s.getOutputStream().write(typed('p', 0x7fffffff, new byte[0]));
            Answer a = readUntilClosed(s);
            assertThat(a.error()).isNotNull();
            assertThat(a.error().sqlState()).isEqualTo("08P01");
        }
        assertThat(LoginLog.gatewayLogins(f)).isEqualTo(logins);
    }

    @Test
    void aTruncatedMessageThenCloseEndsTheSessionCleanly() throws Exception {
        try (Socket s = connect()) {
            login(s, agent);
            s.getOutputStream().write(typed('Q', 4 + 100, "DELETE FROM customers".getBytes(StandardCharsets.US_ASCII)));
            s.shutdownOutput();
            assertThat(readUntilClosed(s).closed()).isTrue();
        }
        assertThat(f.count("customers")).isEqualTo(20);
        assertStillServing();
    }

    @Test
    void anUnknownMessageTypeAfterLoginEndsTheSessionWith08P01() throws Exception {
        try (Socket s = connect()) {
            login(s, agent);
            s.getOutputStream().write(typed('z', 4, new byte[0]));
            Answer a = readUntilClosed(s);
            assertThat(a.error()).isNotNull();
            assertThat(a.error().sqlState()).isEqualTo("08P01");
            assertThat(a.error().message()).contains("unexpected message 'z'");
        }
        assertStillServing();
    }

    @Test
    void aQueryWithoutItsNulTerminatorEndsTheSessionWith08P01AndIsNotRun() throws Exception {
        byte[] sql = "DELETE FROM customers".getBytes(StandardCharsets.US_ASCII);
        try (Socket s = connect()) {
            login(s, writer);
            s.getOutputStream().write(typed('Q', 4 + sql.length, sql));
            Answer a = readUntilClosed(s);
            assertThat(a.error()).isNotNull();
            assertThat(a.error().sqlState()).isEqualTo("08P01");
        }
        assertThat(f.count("customers")).isEqualTo(20);
        assertStillServing();
    }

    // ---- tokens -----------------------------------------------------------------------------------

    BackendMessage.ErrorResponse loginError(String password) throws Exception {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write(startupBytes());
            out.write(PgMessageWriter.encode(FrontendMessage.PasswordMessage.password(password)));
            out.flush();
            Answer a = readUntilClosed(s);
            assertThat(a.closed()).isTrue();
            assertThat(a.messages()).noneMatch(m -> m instanceof BackendMessage.AuthenticationOk);
            return a.error();
        }
    }

    @Test
    void aTokenForAnotherAudienceIsRefusedWith28P01AndNeverReachesTheServer() throws Exception {
        long logins = LoginLog.gatewayLogins(f);
        String other = f.issuer.issueToken("default", "agent-1", "some-other-api", Map.of("groups", List.of("agents")), 3600L)
                .serialize();

        BackendMessage.ErrorResponse e = loginError(other);

        assertThat(e.sqlState()).isEqualTo("28P01");
        assertThat(e.fields().get('S')).isEqualTo("FATAL");
        assertThat(e.message()).containsIgnoringCase("audience");
        assertThat(LoginLog.gatewayLogins(f)).isEqualTo(logins);
    }

    @Test
    void anExpiredTokenIsRefusedWith28P01AndNeverReachesTheServer() throws Exception {
        long logins = LoginLog.gatewayLogins(f);
        String expired = f.issuer.issueToken("default", "agent-1", PostgresGatewayFixture.AUDIENCE,
                Map.of("groups", List.of("agents")), -3600L).serialize();

        BackendMessage.ErrorResponse e = loginError(expired);

        assertThat(e.sqlState()).isEqualTo("28P01");
        assertThat(e.message()).containsIgnoringCase("expired");
        assertThat(LoginLog.gatewayLogins(f)).isEqualTo(logins);
    }

    @Test
    void anEmptyPasswordIsRefusedWith28P01AndNeverReachesTheServer() throws Exception {
        long logins = LoginLog.gatewayLogins(f);

        BackendMessage.ErrorResponse e = loginError("");

        assertThat(e.sqlState()).isEqualTo("28P01");
        assertThat(e.message()).contains("Portcullis refused the token");
        assertThat(LoginLog.gatewayLogins(f)).isEqualTo(logins);
    }

    @Test
    void aValidTokenDoesLogInUpstreamSoTheLoginLogCounts() throws Exception {
        long logins = LoginLog.gatewayLogins(f);
        assertStillServing();
        assertThat(LoginLog.gatewayLogins(f)).isEqualTo(logins + 1);
    }

    // ---- extended protocol through pgjdbc ---------------------------------------------------------

    @Test
    void aWritersBatchOfAllowedInsertsRuns() throws Exception {
        try (Connection c = f.jdbc(writer);
             PreparedStatement ps = c.prepareStatement("INSERT INTO orders (customer_id, amount) VALUES (?, ?)")) {
            for (int i = 0; i < 5; i++) {
                ps.setInt(1, 900 + i);
                ps.setInt(2, i);
                ps.addBatch();
            }
            assertThat(ps.executeBatch()).containsExactly(1, 1, 1, 1, 1);
        }
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM orders WHERE customer_id >= 900")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(5);
            }
            st.execute("DELETE FROM orders WHERE customer_id >= 900");
        }
    }

    @Test
    void fetchingANamedPortalInSmallStepsMasksEveryRow() throws Exception {
        try (Connection c = f.jdbc(agent)) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(3); // a named portal, resumed with Execute(max 3) round trip after round trip
                int rows = 0;
                try (ResultSet rs = st.executeQuery("SELECT id, email, phone, notes, profile::text FROM customers ORDER BY id")) {
                    while (rs.next()) {
                        rows++;
                        assertThat(rs.getString(2)).as("row %d", rows).isEqualTo("[masked]");
                        assertThat(rs.getString(3)).as("row %d", rows).isEqualTo("[masked]");
                        assertThat(rs.getString(4)).as("row %d", rows).doesNotContain("7946");
                        assertThat(rs.getString(5)).as("row %d", rows).doesNotContain("@example");
                    }
                }
                assertThat(rows).isEqualTo(20);
            }
            c.rollback();
        }
    }

    @Test
    void aRefusalInsideATransactionComesBackAndRollbackLeavesTheConnectionUsable() throws Exception {
        try (Connection c = f.jdbc(writer); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            assertThat(st.executeUpdate("INSERT INTO orders (customer_id, amount) VALUES (777, 1)")).isEqualTo(1);
            assertThatThrownBy(() -> st.executeUpdate("DELETE FROM orders")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            c.rollback();
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM orders")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(20);
            }
            c.commit();
        }
        assertThat(f.count("orders")).isEqualTo(20);
        assertThat(f.count("orders WHERE customer_id = 777")).isZero();
    }

    @Test
    void aRefusalAbortsTheTransactionLikeAnyErrorSoCommitDoesNotKeepHalfOfIt() throws Exception {
        try (Connection c = f.jdbc(writer); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.executeUpdate("INSERT INTO orders (customer_id, amount) VALUES (778, 1)");
            assertThatThrownBy(() -> st.executeUpdate("DELETE FROM orders")).isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> st.executeQuery("SELECT 1")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
            try {
                c.commit();
            } catch (SQLException expected) {
                // pgjdbc reports that the server rolled back instead
            }
        }
        assertThat(f.count("orders WHERE customer_id = 778")).isZero();
    }

    @Test
    void selectForUpdateByAgentsIsRefusedAndTakesNoLock() throws Exception {
        try (Connection c = f.jdbc(agent); Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.executeQuery("SELECT * FROM customers WHERE id = 1 FOR UPDATE"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            try (PreparedStatement ps = c.prepareStatement("SELECT name FROM customers WHERE id = ? FOR SHARE")) {
                ps.setInt(1, 1);
                assertThatThrownBy(ps::executeQuery).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            }
        }
        try (Connection c = f.admin(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_locks WHERE locktype = 'tuple' OR mode = 'RowShareLock'")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
    }

    // ---- recording --------------------------------------------------------------------------------

    @Test
    void aPsqlSessionWithARefusalIsListedWithItsRefusedCountAndItsEnd() throws Exception {
        String token = f.token("recorded-psql-agent", "agents");
        var r = f.psql(token, "SELECT count(*) FROM customers", "DELETE FROM customers WHERE id = 1");
        assertThat(r.err()).contains("Portcullis");

        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            var session = store.sessions(SessionQuery.newest().subject("recorded-psql-agent")).getFirst();
            assertThat(session.connection()).isEqualTo("customers");
            assertThat(session.refusedCount()).isGreaterThanOrEqualTo(1);
            long deadline = System.nanoTime() + 5_000_000_000L; // the end is recorded as the gateway sees the close
            while (store.events(session.id()).stream().noneMatch(e -> e.code().equals(EventCode.SESSION_END.code()))
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            var events = store.events(session.id()).stream().map(e -> EventCode.fromCode(e.code())).toList();
            assertThat(events).contains(EventCode.SESSION_START, EventCode.SESSION_END);
            assertThat(events.getLast()).isEqualTo(EventCode.SESSION_END);
        }
    }

    @Test
    void aStatementsTimingsLieWithinWhatTheClientWaitedNotItsIdleTimeBeforeIt() throws Exception {
        String subject = "timed-agent";
        String counted = "SELECT count(*) FROM customers a, customers b";
        long clientWaitedMicros;
        try (Connection c = f.jdbc(f.token(subject, "agents")); Statement st = c.createStatement()) {
            st.execute("SELECT 1");
            Thread.sleep(1_500); // the client idles: none of this belongs to the next statement
            long sent = System.nanoTime();
            st.execute(counted);
            clientWaitedMicros = (System.nanoTime() - sent) / 1_000;
        }
        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            var session = store.sessions(SessionQuery.newest().subject(subject)).getFirst();
            Map<String, JsonNode> timings = new LinkedHashMap<>();
            for (var e : store.events(session.id())) {
                if (!e.code().equals(EventCode.OPERATION.code())) continue;
                JsonNode payload = new ObjectMapper().readTree(e.payload());
                timings.put(payload.path("summary").asText(), payload.path("timings"));
            }
            assertThat(timings).containsKeys("SELECT 1", counted);
            for (JsonNode t : timings.values()) {
                assertThat(t.path("upstreamMicros").asLong()).as("a forwarded statement's time at the server: %s", t).isPositive()
                        .isLessThanOrEqualTo(t.path("totalMicros").asLong());
            }
            // Before: counted from the previous answer, so the 1.5 s the client idled were in it.
            assertThat(timings.get(counted).path("totalMicros").asLong()).isLessThanOrEqualTo(clientWaitedMicros);
        }
    }

}
