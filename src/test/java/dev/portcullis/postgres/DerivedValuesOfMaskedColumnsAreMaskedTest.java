package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.fail;

import dev.portcullis.postgres.MaskedResults.Grid;
import dev.portcullis.postgres.MaskedResults.Secrets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Any output column computed from {@code email} or {@code phone} comes back masked, however it was
 * computed ({@code [masked]} for text-like types, {@code "[masked]"} for json, NULL otherwise); output
 * columns not derived from them come back exactly as from a direct connection. Each case runs the same
 * statement directly and through the gateway (pgjdbc) and compares cell by cell.
 */
class DerivedValuesOfMaskedColumnsAreMaskedTest {
    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static Connection direct;
    static Connection gateway;
    static Secrets secrets;

    /** One construct: the statement, and per output column {@code =} exact, {@code m} masked or {@code s} scanned. */
    record Derivation(String construct, String sql, String kinds) {
        @Override
        public String toString() {
            return construct;
        }
    }

    static Derivation d(String construct, String sql, String kinds) {
        return new Derivation(construct, sql, kinds);
    }

    /** {@code SELECT id, <expression> FROM customers ORDER BY id}: the id exact, the expression masked. */
    static Derivation each(String expression) {
        return d(expression, "SELECT id, " + expression + " FROM customers ORDER BY id", "=m");
    }

    static Stream<Derivation> derivations() {
        return Stream.of(
                d("plain email and phone", "SELECT id, name, email, phone FROM customers ORDER BY id", "==mm"),
                // operators and functions
                each("email || 'x'"),
                each("'<' || phone || '>'"),
                each("reverse(email)"),
                each("upper(email)"),
                each("lower(phone)"),
                each("split_part(email, '@', 1)"),
                each("substr(email, 2)"),
                each("substring(phone from 4 for 3)"),
                each("left(email, 5)"),
                each("right(phone, 4)"),
                each("md5(email)"),
                each("encode(convert_to(email, 'UTF8'), 'hex')"),
                each("translate(email, 'abcdefghijklmnopqrstuvwxyz', 'zyxwvutsrqponmlkjihgfedcba')"),
                each("replace(email, '@', ' at ')"),
                each("regexp_replace(phone, '[0-9]', '#', 'g')"),
                each("overlay(email placing 'X' from 1 for 1)"),
                each("format('%s', email)"),
                each("concat(email, phone)"),
                each("concat_ws(',', 'a', email)"),
                each("initcap(email)"),
                each("btrim(email, 'u')"),
                each("lpad(phone, 30, '*')"),
                each("length(email)"),
                each("octet_length(phone)"),
                each("position('@' in email)"),
                // casts
                each("email::bytea"),
                each("CAST(phone AS varchar(3))"),
                each("email::char(1)"),
                each("email::varchar"),
                each("to_json(email)"),
                each("to_jsonb(phone)"),
                // conditionals
                each("CASE WHEN id > 0 THEN email END"),
                each("CASE WHEN id % 2 = 0 THEN phone ELSE 'odd' END"),
                each("COALESCE(email, 'none')"),
                each("NULLIF(phone, '')"),
                each("GREATEST(email, 'a')"),
                each("LEAST(phone, 'zzz')"),
                // aggregates (count(*) is not derived)
                d("min and max", "SELECT min(email), max(phone) FROM customers", "mm"),
                d("string_agg", "SELECT string_agg(email, ',' ORDER BY id) FROM customers", "m"),
                d("array_agg", "SELECT array_agg(email ORDER BY id) FROM customers", "m"),
                d("json_agg", "SELECT json_agg(phone ORDER BY id) FROM customers", "m"),
                d("count(email) beside count(*)", "SELECT count(*), count(email) FROM customers", "=m"),
                d("aggregate per group of a plain column",
                        "SELECT name, max(email) FROM customers GROUP BY name ORDER BY name", "=m"),
                // window functions
                d("lag over id", "SELECT id, lag(email) OVER (ORDER BY id) FROM customers ORDER BY id", "=m"),
                d("first_value over all", "SELECT id, first_value(phone) OVER () FROM customers ORDER BY id", "=m"),
                // subqueries, derived tables, CTEs, LATERAL
                d("scalar subquery", "SELECT c.id, (SELECT email FROM customers c2 WHERE c2.id = c.id) FROM customers c "
                        + "ORDER BY c.id", "=m"),
                d("ARRAY(subquery)", "SELECT ARRAY(SELECT email FROM customers ORDER BY id)", "m"),
                d("ARRAY(subquery) to text", "SELECT ARRAY(SELECT email FROM customers ORDER BY id)::text", "m"),
                d("derived table", "SELECT x FROM (SELECT id, reverse(email) AS x FROM customers) s ORDER BY s.id", "m"),
                d("CTE", "WITH t AS (SELECT id, email e FROM customers) SELECT id, upper(e) FROM t ORDER BY id", "=m"),
                d("recursive CTE carrying email", """
                        WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM customers WHERE id = 1
                                                   UNION ALL SELECT n + 1, e || '!' FROM r WHERE n < 3)
                        SELECT n, e FROM r ORDER BY n""", "=m"),
                d("LATERAL", "SELECT c.id, l.x FROM customers c, LATERAL (SELECT lower(c.email) x) l ORDER BY c.id", "=m"),
                // joins
                d("join on id, derived from the other table's email", "SELECT c.id, k.email || c.name FROM customers c "
                        + "JOIN contacts k ON k.id = c.id ORDER BY c.id", "=m"),
                d("join USING (email)", "SELECT customers.id, upper(email) FROM customers JOIN contacts USING (email) "
                        + "ORDER BY customers.id", "=m"),
                d("NATURAL join, derived", "SELECT id, reverse(email) FROM customers NATURAL JOIN contacts ORDER BY id", "=m"),
                d("NATURAL join, star", "SELECT * FROM customers NATURAL JOIN contacts ORDER BY id", "=m=msss"),
                d("star across a join", "SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY c.id",
                        "==mmsss==="),
                // set operations and VALUES
                d("UNION ALL of a plain and a masked column",
                        "SELECT name FROM customers UNION ALL SELECT email FROM customers", "m"),
                d("VALUES with LATERAL", "SELECT * FROM (VALUES (1, 'a')) v(a, b) "
                        + "CROSS JOIN LATERAL (SELECT v.b || email FROM customers LIMIT 1) x", "==m"),
                // set-returning functions
                d("unnest(ARRAY[email, phone])", "SELECT id, unnest(ARRAY[email, phone]) FROM customers ORDER BY id", "=m"),
                d("unnest in FROM", "SELECT * FROM customers c, unnest(string_to_array(c.email, '@')) p ORDER BY c.id",
                        "==mmsssm"),
                d("regexp_split_to_table", "SELECT regexp_split_to_table(phone, ' ') FROM customers", "m"),
                // whole-row references
                d("whole row c", "SELECT c FROM customers c ORDER BY id", "m"),
                d("c.*", "SELECT c.* FROM customers c ORDER BY id", "==mmsss"),
                d("row_to_json(c)", "SELECT row_to_json(c) FROM customers c ORDER BY id", "m"),
                d("to_jsonb(c)", "SELECT to_jsonb(c) FROM customers c ORDER BY id", "m"),
                d("c::text", "SELECT c::text FROM customers c ORDER BY id", "m"),
                d("ROW(c.id, c.email)", "SELECT ROW(c.id, c.email) FROM customers c ORDER BY id", "m"),
                d("(c).email", "SELECT (c).email FROM customers c ORDER BY id", "m"),
                d("row_to_json of a subquery row", "SELECT row_to_json(s) FROM (SELECT id, phone FROM customers) s "
                        + "ORDER BY s.id", "m"),
                // views
                d("view column derived from email", "SELECT mail FROM v_contacts ORDER BY id", "m"),
                d("view star", "SELECT * FROM v_contacts ORDER BY id", "=m"),
                // names
                d("schema-qualified and quoted", "SELECT reverse(\"public\".\"customers\".\"email\") FROM \"public\".\"customers\" "
                        + "ORDER BY id", "m"),
                d("Unicode-escaped identifier", "SELECT upper(U&\"em\\0061il\") FROM customers ORDER BY id", "m"));
    }

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
    @MethodSource("derivations")
    void derivedValuesComeBackMaskedAndTheRestExact(Derivation d) throws Exception {
        Grid expected = MaskedResults.query(direct, d.sql());
        Grid actual;
        try {
            actual = MaskedResults.query(gateway, d.sql());
        } catch (SQLException e) {
            fail("through the gateway: " + d.sql() + "\n  expected a masked result, got " + e.getSQLState() + " "
                    + e.getMessage());
            return;
        }
        MaskedResults.assertMasked(d.sql(), expected, actual, d.kinds(), secrets);
    }
}
