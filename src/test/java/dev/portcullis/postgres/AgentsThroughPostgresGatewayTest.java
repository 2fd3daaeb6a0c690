package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** psql and JDBC through the gateway, judged statement by statement, as examples/postgres.yaml says. */
class AgentsThroughPostgresGatewayTest {
    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static String agent;
    static String writer;

    @BeforeAll
    static void start() throws Exception {
        // Statements that need a DBA's approval are held; nobody approves here, so a short hold
        // ends them quickly as refused (StatementHeldForApprovalTest covers approving them).
        f = new PostgresGatewayFixture(data, yaml -> yaml.replace("          approvers: [dba]\n",
                "          approvers: [dba]\n          hold-timeout: 1s\n"));
        agent = f.token("agent-1", "agents");
        writer = f.token("writer-1", "agent-writers");
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @Test
    void psqlReadsWithEmailsPhonesCardsMaskedByColumnAndByContent() throws Exception {
        var r = f.psql(agent, "SELECT id, name, email, phone, notes, profile, card FROM customers ORDER BY id LIMIT 4");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("Customer 1", "[masked]", "[phone]", "[email]", "[card]", "(4 rows)");
        assertThat(r.out()).doesNotContain("@example.", "+1 415", "4111");
    }

    @Test
    void aliasesExpressionsAndJsonCannotUnmask() throws Exception {
        try (Connection c = f.jdbc(agent); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT email AS x, lower(email) AS y, profile->>'contact' AS z, "
                    + "upper(phone) AS p FROM customers WHERE id = 2")) {
                rs.next();
                assertThat(rs.getString("x")).isEqualTo("[masked]");
                assertThat(rs.getString("y")).isEqualTo("[masked]"); // derived from email: masked whole, by lineage
                assertThat(rs.getString("z")).isEqualTo("[email]"); // not a masked column: the detectors find it
                assertThat(rs.getString("p")).isEqualTo("[masked]");
            }
        }
    }

    @Test
    void binaryResultsOfMaskedTextColumnsAreMaskedToo() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", agent);
        p.setProperty("prepareThreshold", "-1");          // server-side prepared from the first execution
        p.setProperty("binaryTransferEnable", "25,1043"); // text and varchar in binary (pgjdbc cannot read binary jsonb)
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + f.port + "/customers", p);
             PreparedStatement ps = c.prepareStatement("SELECT email, notes, profile FROM customers WHERE id = ?")) {
            ps.setInt(1, 4);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("[masked]");
                assertThat(rs.getString(2)).contains("[phone]").doesNotContain("7946");
                assertThat(rs.getString(3)).contains("[email]").doesNotContain("@example");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "DROP TABLE customers",
            "dRoP/**/TABLE customers",
            "/* harmless */ DELETE FROM customers",
            "SELECT 1; DELETE FROM customers",
            "WITH d AS (DELETE FROM customers RETURNING *) SELECT count(*) FROM d",
            "DO $$ BEGIN DELETE FROM customers; END $$",
            "TRUNCATE customers",
            "UPDATE customers SET email = NULL",
            "SELECT * INTO stolen FROM customers",
            "CREATE TABLE stolen AS SELECT * FROM customers",
            "COPY customers TO PROGRAM 'cat > /tmp/portcullis-stolen'",
            "EXPLAIN ANALYZE DELETE FROM customers",
            "PREPARE p AS DELETE FROM customers",
            "DELETE FROM U&\"cust\\006fmers\"",
            "GRANT ALL ON customers TO PUBLIC",
            "ALTER TABLE customers DROP COLUMN email",
    })
    void evasionAttemptsAreRefusedWith42501AndTheTableIsIntact(String sql) throws Exception {
        var r = f.psql(agent, sql, "SELECT count(*) AS still_here FROM customers");

        assertThat(r.err()).contains("ERROR:").contains("Portcullis");
        assertThat(r.out()).as("the session goes on after the refusal").contains("still_here").contains("20");
        assertThat(f.count("customers")).isEqualTo(20);
        assertThat(f.tableExists("stolen")).isFalse();
        try (Connection c = f.admin(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM customers WHERE email IS NOT NULL")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(20);
        }
    }

    @Test
    void refusalsCarrySqlstate42501AndNameTheRule() throws Exception {
        try (Connection c = f.jdbc(agent); Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.execute("DELETE FROM customers WHERE id = 1"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("Portcullis", "default-deny");
                    });
            assertThatThrownBy(() -> st.execute("DROP TABLE orders"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("schema-and-privileges-need-a-dba", "dba");
                    });
            // the connection is still usable
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM orders")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(20);
            }
        }
        assertThat(f.tableExists("orders")).isTrue();
    }

    @Test
    void preparedStatementsThroughTheExtendedProtocolAreJudgedToo() throws Exception {
        try (Connection c = f.jdbc(agent)) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM customers WHERE id = ?")) {
                ps.setInt(1, 1);
                assertThatThrownBy(ps::executeUpdate).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT name FROM customers WHERE id = ?")) {
                for (int i = 1; i <= 6; i++) { // past pgjdbc's prepareThreshold: named server-side statements
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("Customer " + i);
                    }
                }
            }
        }
        assertThat(f.count("customers")).isEqualTo(20);
    }

    @Test
    void jdbcBatchesWithARefusedStatementRunNothing() throws Exception {
        try (Connection c = f.jdbc(writer); Statement st = c.createStatement()) {
            st.addBatch("INSERT INTO orders (customer_id, amount) VALUES (1, 1)");
            st.addBatch("DELETE FROM orders");
            assertThatThrownBy(st::executeBatch).isInstanceOf(SQLException.class);
        }
        assertThat(f.count("orders")).isEqualTo(20);
    }

    @Test
    void falsePositivesThatOnlyMentionDropArePermitted() throws Exception {
        var r = f.psql(agent, "SELECT 'DROP TABLE customers' AS a, $$DELETE FROM customers$$ AS b -- DROP TABLE x");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("DROP TABLE customers", "DELETE FROM customers");
    }

    @Test
    void writersInsertAndDeleteWithWhereButNotWithout() throws Exception {
        try (Connection c = f.jdbc(writer); Statement st = c.createStatement()) {
            assertThat(st.executeUpdate("INSERT INTO orders (customer_id, amount) VALUES (99, 5)")).isEqualTo(1);
            assertThat(st.executeUpdate("DELETE FROM orders WHERE customer_id = 99")).isEqualTo(1);
            assertThatThrownBy(() -> st.executeUpdate("DELETE FROM orders")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
        assertThat(f.count("orders")).isEqualTo(20);
    }

    @Test
    void aBadTokenIsRefusedAtLoginAndAnAgentNeverSeesTheDatabasePassword() throws Exception {
        var r = f.psql("not-a-token", "SELECT 1");

        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("Portcullis refused the token");
        var ok = f.psql(agent, "SHOW application_name");
        assertThat(ok.out() + ok.err()).doesNotContain(PostgresGatewayFixture.DB_PASSWORD);
    }

    @Test
    void copyToStdoutIsMaskedLikeRows() throws Exception {
        var r = f.psql(agent, "COPY (SELECT id, email, notes FROM customers ORDER BY id LIMIT 3) TO STDOUT",
                "COPY customers (id, email, phone) TO STDOUT WITH (FORMAT csv)");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).doesNotContain("@example.", "+1 415").contains("[masked]");
    }

    @Test
    void aMillionRowResultStreamsThroughMasked() throws Exception {
        try (Connection c = f.jdbc(agent)) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(10_000);
                long rows = 0;
                try (ResultSet rs = st.executeQuery(
                        "SELECT i, 'user' || i || '@example.com' AS email FROM generate_series(1, 1000000) i")) {
                    while (rs.next()) {
                        if (rows % 100_000 == 0) assertThat(rs.getString(2)).isEqualTo("[masked]");
                        rows++;
                    }
                }
                assertThat(rows).isEqualTo(1_000_000);
            }
        }
    }

    @Test
    void cancelReachesTheRightBackend() throws Exception {
        try (Connection c = f.jdbc(agent); Statement st = c.createStatement()) {
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(1500);
                    st.cancel();
                } catch (Exception ignored) {
                    // the assertion below reports it
                }
            });
            long start = System.nanoTime();
            assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM generate_series(1, 2000000000)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
            assertThat(System.nanoTime() - start).isLessThan(30_000_000_000L);
        }
    }

    @Test
    void everyStatementIsRecordedWithParametersVerdictAndMaskedRows() throws Exception {
        String token = f.token("recorded-agent", "agents");
        try (Connection c = f.jdbc(token)) {
            try (PreparedStatement ps = c.prepareStatement("SELECT email, name FROM customers WHERE id = ?")) {
                ps.setInt(1, 3);
                ps.executeQuery().close();
            }
            try (Statement st = c.createStatement()) {
                st.execute("DROP TABLE customers");
            } catch (SQLException expected) {
                // refused
            }
        }
        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            var session = store.sessions(SessionQuery.newest().subject("recorded-agent")).getFirst();
            String transcript = new Replay(store, ZoneOffset.UTC).text(session.id());
            assertThat(transcript)
                    .contains("SELECT email, name FROM customers WHERE id = $1", "parameters: [3]")
                    .contains("verdict: mask (rule agents-read-only)", "SELECT 1", "[masked] | Customer 3")
                    .contains("DROP TABLE customers", "schema-and-privileges-need-a-dba")
                    .doesNotContain("user3@example.com").doesNotContain(token);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void aSearchOfAMaskedColumnIsRecordedAsADenyWithItsReasonAndNeverSent() throws Exception {
        String token = f.token("searching-agent", "agents");
        try (Connection c = f.jdbc(token)) {
            try (Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM customers WHERE email LIKE 'user1%'"))
                        .hasMessageContaining("searches it with LIKE");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM customers ORDER BY reverse(email) LIMIT ?")) {
                ps.setInt(1, 1);
                assertThatThrownBy(ps::executeQuery).hasMessageContaining("ORDER BY");
            }
        }
        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            var session = store.sessions(SessionQuery.newest().subject("searching-agent")).getFirst();
            String transcript = new Replay(store, ZoneOffset.UTC).text(session.id());
            assertThat(transcript)
                    .contains("LIKE 'user1%'\n    verdict: deny (rule agents-read-only): rule agents-read-only masks column "
                            + "customers.email, and this statement searches it with LIKE in WHERE")
                    .contains("reverse(email) LIMIT $1\n    verdict: deny (rule agents-read-only)", "searches it with ORDER BY");
            assertThat(transcript.split("upstream: not forwarded", -1)).hasSize(3);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void statementsAreRecordedAsSentButRolePasswordsAndTokensAreRedacted() throws Exception {
        String jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzb21lb25lIn0.c2lnbmF0dXJlLW5vdC1yZWFsbHk";
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS contacts (name text, email text, notes text, profile jsonb)");
            st.execute("GRANT ALL ON contacts TO gateway");
        }
        String token = f.token("sending-writer", "agent-writers");
        try (Connection c = f.jdbc(token)) {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO contacts (name, email) VALUES ('Ada', 'ada@example.com')");
                for (String role : List.of("ALTER ROLE app_owner PASSWORD 'R0le-Pw-never-recorded'",
                        "CREATE ROLE app_reader LOGIN ENCRYPTED PASSWORD 'R0le-Pw-never-recorded'")) {
                    assertThatThrownBy(() -> st.execute(role)).isInstanceOf(SQLException.class);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO contacts (name, notes, profile) VALUES (?, ?, ?::jsonb)")) {
                ps.setString(1, "Bob");
                ps.setString(2, "his session " + jwt);
                ps.setString(3, "{\"contact\":\"bob@example.com\",\"password\":\"Bob-Pw-never-recorded\"}");
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
        }
        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            var session = store.sessions(SessionQuery.newest().subject("sending-writer")).getFirst();
            String transcript = new Replay(store, ZoneOffset.UTC).text(session.id());
            assertThat(transcript)
                    .contains("INSERT INTO contacts (name, email) VALUES ('Ada', 'ada@example.com')")
                    .contains("ALTER ROLE app_owner PASSWORD '[redacted]'", "ENCRYPTED PASSWORD '[redacted]'")
                    .contains("parameters: [Bob, his session [redacted], {\"contact\":\"bob@example.com\",\"password\":\"[redacted]\"}]")
                    .doesNotContain("R0le-Pw-never-recorded").doesNotContain("Bob-Pw-never-recorded").doesNotContain(jwt)
                    .doesNotContain(token);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void pgbenchSelectOnlyRunsThroughTheGateway() throws Exception {
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))");
            st.execute("CREATE TABLE IF NOT EXISTS pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88))");
            st.execute("INSERT INTO pgbench_branches VALUES (1, 0, '') ON CONFLICT DO NOTHING");
            st.execute("INSERT INTO pgbench_accounts SELECT i, 1, 0, '' FROM generate_series(1, 100000) i ON CONFLICT DO NOTHING");
            st.execute("GRANT SELECT ON pgbench_accounts, pgbench_branches TO gateway");
        }
        for (String mode : List.of("simple", "prepared")) {
            ProcessBuilder pb = new ProcessBuilder("pgbench", "-n", "-S", "-M", mode, "-c", "2", "-t", "200",
                    "host=127.0.0.1 port=" + f.port + " dbname=customers user=agent sslmode=disable");
            pb.environment().put("PGPASSWORD", agent);
            pb.redirectErrorStream(true);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).as(out).isZero();
            assertThat(out).contains("number of transactions actually processed: 400/400");
        }
    }
}
