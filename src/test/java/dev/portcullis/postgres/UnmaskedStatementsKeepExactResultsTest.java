package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.fail;

import dev.portcullis.postgres.MaskedResults.Grid;
import dev.portcullis.postgres.MaskedResults.Secrets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Statements that touch no masked column (nor a column the content detectors rewrite: notes, profile,
 * card) come back through the gateway exactly as from a direct connection, cell by cell: following
 * lineage must not over-mask.
 */
class UnmaskedStatementsKeepExactResultsTest {
    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static Connection direct;
    static Connection gateway;
    static Secrets secrets;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data);
        MaskedResults.createLineageTables(f);
        direct = f.admin();
        gateway = f.jdbc(f.token("agent-1", "agents"));
        secrets = Secrets.read(direct);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) gateway.close();
        if (direct != null) direct.close();
        if (f != null) f.close();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT name, id FROM customers ORDER BY name",
            "SELECT id, name FROM customers WHERE id BETWEEN 3 AND 7 ORDER BY id",
            "SELECT upper(name), length(name), reverse(name) FROM customers ORDER BY id",
            "SELECT count(*) FROM customers",
            "SELECT count(*), sum(amount), avg(amount), min(amount), max(amount) FROM orders",
            "SELECT c.name, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.id",
            "SELECT c.name, sum(o.amount) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id "
                    + "GROUP BY c.name ORDER BY c.name",
            "SELECT c.id, count(o.id) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id "
                    + "HAVING sum(o.amount) > 100 ORDER BY c.id",
            "SELECT id, amount, sum(amount) OVER (ORDER BY id) FROM orders ORDER BY id",
            "SELECT id, rank() OVER (ORDER BY amount DESC), lag(amount) OVER (ORDER BY id) FROM orders ORDER BY id",
            "SELECT name, row_number() OVER (PARTITION BY id % 3 ORDER BY id) FROM customers ORDER BY id",
            "WITH big AS (SELECT * FROM orders WHERE amount > 150) SELECT customer_id, amount FROM big ORDER BY 1",
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i, i * i FROM n",
            "SELECT x FROM (SELECT name || '!' AS x, id FROM customers) s ORDER BY s.id",
            "SELECT c.id, l.n FROM customers c, LATERAL (SELECT upper(c.name) AS n) l ORDER BY c.id",
            "SELECT (SELECT max(amount) FROM orders o WHERE o.customer_id = c.id) FROM customers c ORDER BY c.id",
            "SELECT name FROM customers UNION ALL SELECT amount::text FROM orders",
            "SELECT id FROM customers INTERSECT SELECT customer_id FROM orders ORDER BY 1",
            "SELECT id FROM customers EXCEPT SELECT customer_id FROM orders WHERE amount > 100 ORDER BY 1",
            "SELECT * FROM orders ORDER BY id",
            "SELECT o.* FROM orders o WHERE o.customer_id IN (SELECT id FROM customers WHERE name LIKE 'Customer 1%') "
                    + "ORDER BY o.id",
            "SELECT id FROM contacts ORDER BY id",
            "SELECT id FROM v_contacts ORDER BY id",
            "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(a, b)",
            "SELECT generate_series(1, 5), 'x'",
            "SELECT row_to_json(o) FROM orders o ORDER BY id",
            "SELECT o FROM orders o ORDER BY id",
            "SELECT array_agg(name ORDER BY id), string_agg(id::text, ',') FROM customers",
            "SELECT json_agg(json_build_object('id', id, 'amount', amount) ORDER BY id) FROM orders",
            "SELECT CASE WHEN amount > 100 THEN 'big' ELSE 'small' END, COALESCE(NULL, amount) FROM orders ORDER BY id",
            "SELECT DISTINCT ON (customer_id % 4) customer_id % 4, amount FROM orders ORDER BY customer_id % 4, amount",
            "SELECT name FROM customers ORDER BY name DESC LIMIT 5 OFFSET 2",
            "SELECT 1::bytea, true, 3.14::numeric, '2026-01-02'::date, ARRAY[1, 2]",
            "SELECT ROW(o.id, o.amount) FROM orders o ORDER BY id",
            "SELECT \"public\".\"customers\".\"name\" FROM \"public\".\"customers\" ORDER BY 1",
    })
    void resultsAreExactlyAsDirect(String sql) throws Exception {
        Grid expected = MaskedResults.query(direct, sql);
        Grid actual;
        try {
            actual = MaskedResults.query(gateway, sql);
        } catch (SQLException e) {
            fail("through the gateway: " + sql + "\n  touches no masked column, expected to run; got " + e.getSQLState() + " "
                    + e.getMessage());
            return;
        }
        MaskedResults.assertMasked(sql, expected, actual, "=".repeat(expected.names().size()), secrets);
    }
}
