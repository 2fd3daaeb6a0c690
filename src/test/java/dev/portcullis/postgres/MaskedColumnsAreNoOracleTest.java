package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.portcullis.postgres.MaskedResults.Grid;
import dev.portcullis.postgres.MaskedResults.Secrets;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.StoredEvent;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A masked column searched with a pattern, a range, a function of it, a sort or a grouping gives its
 * value away a bit at a time, so with the default {@code predicates: equality} only lookups the agent
 * could make anyway run (equality, IN, IS NULL, joins on equality); every other use is refused with
 * 42501 naming the rule and the column, before anything reaches the server.
 */
class MaskedColumnsAreNoOracleTest {
    static final String RULE = "agents-read-only";

    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static Connection direct;
    static Connection gateway;
    static String writer;
    static Secrets secrets;

    /** A use of a masked column that must be refused, and the column the refusal names. */
    record Oracle(String construct, String sql, String column) {
        @Override
        public String toString() {
            return construct;
        }
    }

    /** A lookup that runs, with per output column {@code =} exact or {@code m} masked. */
    record Lookup(String construct, String sql, String kinds) {
        @Override
        public String toString() {
            return construct;
        }
    }

    static Oracle o(String construct, String sql, String column) {
        return new Oracle(construct, sql, column);
    }

    static Lookup l(String construct, String sql, String kinds) {
        return new Lookup(construct, sql, kinds);
    }

    static Stream<Oracle> oracles() {
        return Stream.of(
                o("LIKE", "SELECT id FROM customers WHERE email LIKE 'user1%'", "email"),
                o("ILIKE", "SELECT id FROM customers WHERE email ILIKE 'USER1%'", "email"),
                o("SIMILAR TO", "SELECT id FROM customers WHERE email SIMILAR TO 'user1%'", "email"),
                o("regex ~", "SELECT id FROM customers WHERE phone ~ '^\\+1 415'", "phone"),
                o("less than", "SELECT id FROM customers WHERE email < 'user2'", "email"),
                o("greater or equal", "SELECT id FROM customers WHERE phone >= '+1 415 555 0010'", "phone"),
                o("BETWEEN", "SELECT id FROM customers WHERE email BETWEEN 'a' AND 'user2'", "email"),
                o("substr(email, 1, 1) =", "SELECT id FROM customers WHERE substr(email, 1, 1) = 'u'", "email"),
                o("lower(email) =", "SELECT id FROM customers WHERE lower(email) = 'user1@example.com'", "email"),
                o("ORDER BY email", "SELECT id FROM customers ORDER BY email", "email"),
                o("ORDER BY position of a masked output", "SELECT id, email FROM customers ORDER BY 2", "email"),
                o("ORDER BY reverse(email)", "SELECT id FROM customers ORDER BY reverse(email)", "email"),
                o("GROUP BY email", "SELECT count(*) FROM customers GROUP BY email", "email"),
                o("GROUP BY position of a masked output", "SELECT phone, count(*) FROM customers GROUP BY 1", "phone"),
                o("HAVING max(email) >", "SELECT count(*) FROM customers HAVING max(email) > 'm'", "email"),
                o("DISTINCT ON (email)", "SELECT DISTINCT ON (email) id FROM customers", "email"),
                o("aggregate FILTER", "SELECT count(*) FILTER (WHERE email LIKE 'u%') FROM customers", "email"),
                o("PARTITION BY email", "SELECT id, row_number() OVER (PARTITION BY email) FROM customers", "email"),
                o("window ORDER BY phone", "SELECT id, row_number() OVER (ORDER BY phone) FROM customers", "phone"),
                o("CASE WHEN email LIKE", "SELECT id, CASE WHEN email LIKE 'u%' THEN 1 ELSE 0 END FROM customers", "email"),
                o("LIKE on a derived column of a subquery",
                        "SELECT * FROM (SELECT reverse(email) r FROM customers) s WHERE r LIKE 'moc%'", "email"),
                o("LIKE in a CTE", "WITH t AS (SELECT id FROM customers WHERE email LIKE 'user1%') SELECT count(*) FROM t",
                        "email"),
                o("LIKE on a CTE's derived column",
                        "WITH t AS (SELECT email e FROM customers) SELECT count(*) FROM t WHERE e LIKE 'user1%'", "email"),
                o("LIKE inside EXISTS", "SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c "
                        + "WHERE c.id = o.customer_id AND c.email LIKE 'user1%')", "email"),
                o("LIKE inside a scalar subquery", "SELECT (SELECT count(*) FROM customers WHERE phone LIKE '%0001')", "phone"),
                o("LIKE on a view's derived column", "SELECT id FROM v_contacts WHERE mail LIKE 'user1%'", "email"),
                o("range on another table's email", "SELECT id FROM contacts WHERE email > 'user2'", "email"),
                o("EXPLAIN", "EXPLAIN SELECT id FROM customers WHERE email > 'm'", "email"),
                o("EXPLAIN ANALYZE", "EXPLAIN ANALYZE SELECT id FROM customers WHERE email > 'm'", "email"));
    }

    static Stream<Lookup> lookups() {
        return Stream.of(
                l("= a literal", "SELECT id, email FROM customers WHERE email = 'user1@example.com'", "=m"),
                l("<> a literal", "SELECT id FROM customers WHERE phone <> '+1 415 555 0001' ORDER BY id", "="),
                l("IN a list", "SELECT id, phone FROM customers WHERE email IN ('user1@example.com', 'user2@example.com') "
                        + "ORDER BY id", "=m"),
                l("IS NULL", "SELECT id FROM customers WHERE email IS NULL", "="),
                l("IS NOT NULL", "SELECT id FROM customers WHERE phone IS NOT NULL ORDER BY id", "="),
                l("= ANY(ARRAY[...])", "SELECT id FROM customers WHERE email = ANY(ARRAY['user3@example.com'])", "="),
                l("JOIN ON equal emails", "SELECT a.id, b.id FROM customers a JOIN contacts b ON a.email = b.email "
                        + "ORDER BY a.id", "=="),
                l("JOIN USING (email)", "SELECT customers.id, email FROM customers JOIN contacts USING (email) "
                        + "ORDER BY customers.id", "=m"),
                l("IN (subquery of emails)", "SELECT id FROM customers WHERE email IN (SELECT email FROM contacts) "
                        + "ORDER BY id", "="));
    }

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data);
        MaskedResults.createLineageTables(f);
        direct = f.admin();
        gateway = f.jdbc(f.token("agent-1", "agents"));
        writer = f.token("writer-1", "agent-writers");
        secrets = Secrets.read(direct);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) gateway.close();
        if (direct != null) direct.close();
        if (f != null) f.close();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("oracles")
    void searchingSortingOrGroupingAMaskedColumnIsRefused(Oracle o) throws Exception {
        MaskedResults.assertRefused(o.sql(), () -> MaskedResults.query(gateway, o.sql()), RULE, o.column());
        assertThat(MaskedResults.query(gateway, "SELECT 1").rows()).as("the session goes on after the refusal").hasSize(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lookups")
    void equalityLookupsRunAndAreCorrect(Lookup l) throws Exception {
        Grid through;
        try {
            through = MaskedResults.query(gateway, l.sql());
        } catch (SQLException e) {
            fail("through the gateway: " + l.sql() + "\n  an equality lookup, expected to run; got " + e.getSQLState() + " "
                    + e.getMessage());
            return;
        }
        MaskedResults.assertMasked(l.sql(), MaskedResults.query(direct, l.sql()), through, l.kinds(), secrets);
    }

    @Test
    void equalityWithABoundParameterRuns() throws Exception {
        String sql = "SELECT id, email FROM customers WHERE email = ?";
        try (PreparedStatement ps = gateway.prepareStatement(sql)) {
            ps.setString(1, "user7@example.com");
            try (ResultSet rs = ps.executeQuery()) {
                Grid through = MaskedResults.read(rs);
                assertThat(through.rows()).as(sql).hasSize(1);
                assertThat(through.rows().getFirst()).as(sql).containsExactly("7", MaskedResults.MASKED);
            }
        }
    }

    @Test
    void aWriterCannotUpdateByAPatternOnAMaskedColumn() throws Exception {
        String sql = "UPDATE customers SET name = 'found you' WHERE email LIKE 'user1@%'";
        try (Connection c = f.jdbc(writer); Statement st = c.createStatement()) {
            MaskedResults.assertRefused(sql, () -> st.executeUpdate(sql), "writers-update-delete-with-where", "email");
        }
        assertThat(directCount("SELECT count(*) FROM customers WHERE name = 'found you'")).as("rows changed by: %s", sql)
                .isZero();
    }

    @Test
    void aWriterCannotUpdateByARangeOnAMaskedColumn() throws Exception {
        String sql = "UPDATE customers SET name = 'found you' WHERE phone > '+1 415 555 0010'";
        try (Connection c = f.jdbc(writer); Statement st = c.createStatement()) {
            MaskedResults.assertRefused(sql, () -> st.executeUpdate(sql), "writers-update-delete-with-where", "phone");
        }
        assertThat(directCount("SELECT count(*) FROM customers WHERE name = 'found you'")).as("rows changed by: %s", sql)
                .isZero();
    }

    @Test
    void aWriterCannotDeleteByAPatternOnAMaskedColumn() throws Exception {
        String sql = "DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE email LIKE 'user2%')";
        try (Connection c = f.jdbc(writer); Statement st = c.createStatement()) {
            MaskedResults.assertRefused(sql, () -> st.executeUpdate(sql), "writers-update-delete-with-where", "email");
        }
        assertThat(f.count("orders")).as("orders after: %s", sql).isEqualTo(20);
    }

    @Test
    void aWriterMayUpdateByEquality() throws Exception {
        try (Connection c = f.jdbc(writer); Statement st = c.createStatement()) {
            assertThat(st.executeUpdate("UPDATE customers SET name = name WHERE email = 'user3@example.com'")).isEqualTo(1);
        }
    }

    /**
     * Texts that differ only in constants share one analysis where no constant can change it (the SQL
     * parser's shape cache). A column position is no such constant: however often {@code ORDER BY 1}
     * (by id) ran, {@code ORDER BY 2} (by the masked email) is judged on its own and refused. And each
     * statement of a shared shape is masked, and recorded with its own constant, through real psql.
     */
    @Test
    void statementsOfOneShapeAreEachJudgedAndRecordedAsWritten() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(MaskedResults.query(gateway, "SELECT id, email FROM customers ORDER BY 1").rows()).isNotEmpty();
        }
        String byEmail = "SELECT id, email FROM customers ORDER BY 2";
        MaskedResults.assertRefused(byEmail, () -> MaskedResults.query(gateway, byEmail), RULE, "email");

        String subject = "shape-agent";
        List<String> commands = new ArrayList<>();
        for (int id = 1; id <= 6; id++) commands.add("SELECT id, email FROM customers WHERE id = " + id);
        var run = f.psql(f.token(subject, "agents"), commands.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).doesNotContain("@example.com").contains(MaskedResults.MASKED);
        for (int id = 1; id <= 6; id++) assertThat(run.out()).containsPattern("(?m)^\\s*" + id + " \\| \\[masked\\]$");
        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            var session = store.sessions(SessionQuery.newest().subject(subject)).getFirst();
            List<String> payloads = store.events(session.id()).stream().map(StoredEvent::payload).toList();
            for (int id = 1; id <= 6; id++) {
                String text = "WHERE id = " + id + "\"";
                assertThat(payloads.stream().filter(p -> p.contains(text)).count()).as("events recording %s", text).isEqualTo(1);
            }
        }
    }

    /** Puts back what a wrongly admitted write changed, so one failure does not spread to other cases. */
    @AfterEach
    void restore() throws Exception {
        try (Statement st = direct.createStatement()) {
            st.execute("UPDATE customers SET name = 'Customer ' || id WHERE name <> 'Customer ' || id");
            st.execute("INSERT INTO orders (id, customer_id, amount) SELECT i, i, i * 10 FROM generate_series(1, 20) i "
                    + "ON CONFLICT (id) DO NOTHING");
        }
    }

    private static long directCount(String sql) throws Exception {
        return Long.parseLong(MaskedResults.query(direct, sql).cell(0, 0));
    }
}
