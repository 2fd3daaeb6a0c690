package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.Identity;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.Verdict;
import dev.portcullis.sql.SqlParseException;
import dev.portcullis.sql.SqlParser;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The product's PostgreSQL rules, from YAML, against an evasion corpus and its false positives. */
class AgentSqlPolicyTest {

    static final Identity AGENT = identity("agent-1", "agents");
    static final Identity WRITER = identity("writer-1", "agent-writers");
    static final Identity OUTSIDER = identity("someone", "contractors");
    static Policy policy;

    static Identity identity(String subject, String group) {
        return new Identity(subject, Set.of(group), "jti", "", "https://idp", Map.of(), Instant.MAX);
    }

    @BeforeAll
    static void loadPolicy() throws Exception {
        try (InputStream in = AgentSqlPolicyTest.class.getResourceAsStream("agents-sql-policy.yaml")) {
            policy = ConfigLoader.loadPolicy("agents-sql-policy.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** As the gateway judges a query: every statement; the first that is not allowed decides. */
    static Verdict judge(Identity who, String sql) throws SqlParseException {
        List<SqlStatement> statements = SqlParser.parse(sql);
        assertThat(statements).isNotEmpty();
        Verdict last = null;
        for (SqlStatement s : statements) {
            last = policy.decide(who, s).verdict();
            if (!(last instanceof Verdict.Allow || last instanceof Verdict.Mask)) return last;
        }
        return last;
    }

    static boolean allowed(Verdict v) {
        return v instanceof Verdict.Allow || v instanceof Verdict.Mask;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "DROP TABLE customers",
            "dRoP/**/TABLE customers",
            "/* c */ DELETE FROM customers",
            "SELECT 1; DELETE FROM customers",
            "SELECT 1; SELECT 2; TRUNCATE customers",
            "WITH d AS (DELETE FROM customers RETURNING *) SELECT * FROM d",
            "SELECT * INTO t2 FROM customers",
            "CREATE TABLE t2 AS SELECT * FROM customers",
            "DO $$ BEGIN DELETE FROM customers; END $$",
            "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'DELETE FROM customers'",
            "CALL cleanup()",
            "COPY customers TO PROGRAM 'cat > /tmp/x'",
            "COPY customers TO '/tmp/customers.csv'",
            "COPY customers FROM '/etc/passwd'",
            "COPY customers FROM STDIN",
            "EXPLAIN ANALYZE DELETE FROM customers",
            "PREPARE p AS DELETE FROM customers",
            "EXECUTE p",
            "SELECT nextval('s')",
            "SELECT pg_terminate_backend(1)",
            "SELECT set_config('role','x',false)",
            "SELECT lo_import('/etc/passwd')",
            "SELECT query_to_xml('DELETE FROM customers', true, true, '')",
            "SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(x int)",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT app.exfiltrate(email) FROM customers",
            "DELETE FROM U&\"cust\\006fmers\"",
            "DELETE FROM \"CUSTOMERS\"",
            "GRANT ALL ON customers TO agent",
            "ALTER ROLE x SUPERUSER",
            "CREATE ROLE sneaky LOGIN SUPERUSER",
            "SET ROLE postgres",
            "SET search_path = secret, public",
            "SELECT * FROM customers FOR UPDATE",
            "LOCK customers",
            "INSERT INTO customers VALUES (1)",
            "UPDATE customers SET email = 'x' WHERE id = 1",
            "NOTIFY jobs",
            "VACUUM customers",
            "DISCARD ALL",
    })
    void agentsAreNotAllowed(String sql) throws Exception {
        assertThat(judge(AGENT, sql)).as(sql).matches(v -> !allowed(v), "not allow or mask");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT 'DROP TABLE customers'",
            "SELECT $$DELETE FROM x$$",
            "SELECT 1 -- DROP TABLE x",
            "SELECT \"drop\" FROM t",
            "SELECT lower(email) FROM customers",
            "SELECT c.name, count(*) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY 1",
            "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent",
            "SELECT data->>'name', jsonb_array_length(data->'items') FROM events WHERE created > now() - interval '1 day'",
            "EXPLAIN SELECT * FROM customers",
            "EXPLAIN DELETE FROM customers",
            "COPY (SELECT * FROM customers) TO STDOUT WITH (FORMAT csv)",
            "BEGIN; SELECT 1; COMMIT",
            "SHOW search_path",
            "SET statement_timeout = '5s'",
            "PREPARE q AS SELECT * FROM customers WHERE id = $1",
    })
    void agentsReadWithMasking(String sql) throws Exception {
        assertThat(judge(AGENT, sql)).as(sql).isInstanceOfSatisfying(Verdict.Mask.class,
                m -> assertThat(m.ruleId()).isEqualTo("agents-read-only"));
    }

    @Test
    void anExecuteOfAReadOnlyPreparedStatementIsReadOnlyOnceResolved() throws Exception {
        SqlStatement prepare = SqlParser.parse("PREPARE q AS SELECT * FROM customers WHERE id = $1").getFirst();
        SqlStatement execute = SqlParser.parse("EXECUTE q(1)").getFirst();
        assertThat(policy.decide(AGENT, execute).verdict().ruleId()).isEqualTo("default-deny");
        assertThat(policy.decide(AGENT, execute.executing(prepare)).verdict().ruleId()).isEqualTo("agents-read-only");
    }

    @Test
    void writersInsertAndUpdateOrDeleteOnlyWithAWhere() throws Exception {
        assertThat(judge(WRITER, "INSERT INTO customers (name) VALUES ('a') RETURNING id").ruleId()).isEqualTo("writers-insert");
        assertThat(judge(WRITER, "INSERT INTO orders (id) VALUES (nextval('orders_id'))").ruleId()).isEqualTo("writers-insert");
        assertThat(judge(WRITER, "UPDATE customers SET name = 'b' WHERE id = 1").ruleId()).isEqualTo("writers-update-delete-with-where");
        assertThat(judge(WRITER, "DELETE FROM customers WHERE id = 1").ruleId()).isEqualTo("writers-update-delete-with-where");
        assertThat(judge(WRITER, "SELECT * FROM customers").ruleId()).isEqualTo("agents-read-only");
        assertThat(judge(WRITER, "DELETE FROM customers").ruleId()).isEqualTo("default-deny");
        assertThat(judge(WRITER, "UPDATE customers SET name = 'b'").ruleId()).isEqualTo("default-deny");
        // a delete without WHERE riding in a CTE of an insert or of an update with WHERE
        assertThat(judge(WRITER, "WITH d AS (DELETE FROM customers RETURNING *) INSERT INTO archive SELECT * FROM d").ruleId())
                .isEqualTo("default-deny");
        assertThat(judge(WRITER, "WITH d AS (DELETE FROM customers RETURNING id) UPDATE log SET n = 1 WHERE id IN (SELECT id FROM d)").ruleId())
                .isEqualTo("default-deny");
        assertThat(judge(WRITER, "INSERT INTO t SELECT app.run_anything()").ruleId()).isEqualTo("default-deny");
        assertThat(judge(WRITER, "INSERT INTO t VALUES (lo_import('/etc/passwd'))").ruleId()).isEqualTo("default-deny");
        assertThat(judge(WRITER, "INSERT INTO t SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_stat_activity").ruleId())
                .isEqualTo("no-server-administration");
    }

    @Test
    void schemaAndPrivilegeChangesWaitForADba() throws Exception {
        for (String sql : List.of("DROP TABLE customers", "TRUNCATE customers", "ALTER TABLE customers ADD note text",
                "GRANT SELECT ON customers TO bob", "REVOKE SELECT ON customers FROM bob")) {
            assertThat(judge(AGENT, sql)).as(sql).isInstanceOfSatisfying(Verdict.HoldForApproval.class, h -> {
                assertThat(h.ruleId()).isEqualTo("schema-and-grants-need-dba");
                assertThat(h.approverGroups()).containsExactly("dba");
            });
        }
    }

    @Test
    void everythingElseIsDenied() throws Exception {
        assertThat(judge(OUTSIDER, "SELECT 1").ruleId()).isEqualTo("default-deny");
        assertThat(judge(AGENT, "CREATE TABLE t (id int)").ruleId()).isEqualTo("default-deny");
        assertThat(judge(AGENT, "DO $$ BEGIN END $$").ruleId()).isEqualTo("default-deny");
    }

    @Test
    void unparseableSqlIsRefusedWithTheParsersMessage() {
        assertThatThrownBy(() -> judge(AGENT, "DELETE customers WHERE"))
                .isInstanceOf(SqlParseException.class).hasMessageContaining("syntax error at or near");
    }
}
