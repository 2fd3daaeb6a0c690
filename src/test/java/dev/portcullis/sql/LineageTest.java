package dev.portcullis.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.PredicateMode;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Lineage from the parse tree, against a small catalog: which result columns a mask rule masks, and what it refuses. */
class LineageTest {

    static final RelationCatalog CATALOG = (schema, name) -> Optional.ofNullable(switch (name) {
        case "customers" -> new RelationCatalog.Relation("public", "customers", List.of("id", "name", "email", "phone", "notes"),
                Optional.empty(), List.of());
        case "orders" -> new RelationCatalog.Relation("public", "orders", List.of("id", "customer_id", "amount"), Optional.empty(),
                List.of());
        case "contacts" -> new RelationCatalog.Relation("public", "contacts", List.of("id", "email"), Optional.empty(), List.of());
        case "customers_eu" -> new RelationCatalog.Relation("public", "customers_eu", List.of("id", "name", "email", "phone", "notes"),
                Optional.empty(), List.of("public.customers"));
        case "v_contacts" -> new RelationCatalog.Relation("public", "v_contacts", List.of("id", "mail"),
                Optional.of(" SELECT customers.id, lower(customers.email) AS mail FROM customers;"), List.of());
        case "v_nested" -> new RelationCatalog.Relation("public", "v_nested", List.of("m"),
                Optional.of(" SELECT v_contacts.mail AS m FROM v_contacts;"), List.of());
        case "pg_stats" -> new RelationCatalog.Relation("pg_catalog", "pg_stats", List.of("attname", "most_common_vals"),
                Optional.of("SELECT 1"), List.of());
        case "pg_class" -> new RelationCatalog.Relation("pg_catalog", "pg_class", List.of("oid", "relname"), Optional.empty(), List.of());
        default -> null;
    });

    static final MaskPlan PLAN = new MaskPlan(List.of("email", "phone"), Set.of(), PredicateMode.EQUALITY);

    static String masked(String sql) throws Exception {
        BitSet b = MaskedLineage.maskedOutputs(Lineage.of(sql, CATALOG), PLAN, "r");
        return b.toString();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', value = {
            "SELECT email FROM customers => {0}",
            "SELECT id, reverse(email) FROM customers => {1}",
            "SELECT encode(convert_to(email,'UTF8'),'hex') FROM customers => {0}",
            "SELECT split_part(email,'@',1), name FROM customers => {0}",
            "SELECT * FROM customers => {2, 3}",
            "SELECT c.* FROM customers c => {2, 3}",
            "SELECT c FROM customers c => {0}",
            "SELECT row_to_json(c), c.id FROM customers c => {0}",
            "SELECT c::text FROM customers c => {0}",
            "SELECT (c).email, (c).name FROM customers c => {0}",
            "SELECT ROW(c.id, c.email) FROM customers c => {0}",
            "SELECT CASE WHEN id > 0 THEN email END FROM customers => {0}",
            "SELECT coalesce(phone, name), nullif(email, 'x') FROM customers => {0, 1}",
            "SELECT string_agg(email, ','), count(*) FROM customers => {0}",
            "SELECT lag(email) OVER (ORDER BY id) FROM customers => {0}",
            "SELECT (SELECT email FROM customers c2 WHERE c2.id = c.id) FROM customers c => {0}",
            "SELECT ARRAY(SELECT email FROM customers) => {0}",
            "SELECT x FROM (SELECT reverse(email) AS x FROM customers) s => {0}",
            "WITH t AS (SELECT email e FROM customers) SELECT upper(e) FROM t => {0}",
            "WITH RECURSIVE r(n, e) AS (SELECT 1, ''::text UNION ALL SELECT n + 1, e || (SELECT email FROM customers LIMIT 1) FROM r WHERE n < 3) SELECT n, e FROM r => {1}",
            "SELECT l.x FROM customers c, LATERAL (SELECT lower(c.email) x) l => {0}",
            "SELECT * FROM customers JOIN contacts USING (email) => {0, 3}",
            "SELECT * FROM contacts NATURAL JOIN customers => {1, 3}",
            "SELECT name FROM customers UNION ALL SELECT email FROM customers => {0}",
            "SELECT unnest(ARRAY[email, phone]) FROM customers => {0}",
            "SELECT p FROM customers c, unnest(string_to_array(c.email,'@')) p => {0}",
            "SELECT * FROM customers c, unnest(string_to_array(c.email,'@')) p => {2, 3, 5}",
            "SELECT k.key, k.value FROM customers c, jsonb_each(to_jsonb(c)) k => {0, 1}",
            "SELECT mail, id FROM v_contacts => {0}",
            "SELECT * FROM v_nested => {0}",
            "SELECT email FROM customers_eu => {0}",
            "SELECT \"Email\" FROM (SELECT email AS \"Email\" FROM customers) s => {0}",
            "SELECT id FROM customers WHERE email = 'a@b.c' => {}",
            "SELECT id FROM customers WHERE email IN ('a', 'b') OR phone IS NULL => {}",
            "SELECT c.id FROM customers c JOIN contacts k ON c.email = k.email => {}",
            "SELECT id FROM customers WHERE email IN (SELECT email FROM contacts) => {}",
            "SELECT id FROM customers WHERE email = ANY(ARRAY['x']) => {}",
            "SELECT e FROM (SELECT email e FROM customers) s WHERE e = 'x' => {0}",
            "SELECT relname FROM pg_class => {}",
            "SELECT name, id FROM customers ORDER BY name => {}",
            "COPY (SELECT reverse(email), id FROM customers) TO STDOUT => {0}",
            "COPY customers TO STDOUT => {2, 3}",
            "PREPARE p AS SELECT id, md5(email) FROM customers WHERE id = $1 => {1}",
            "INSERT INTO contacts (id, email) VALUES (1, 'a@b.c') RETURNING email, id => {0}",
            "UPDATE customers SET email = lower(email) WHERE id = 1 => {}",
            "SELECT to_json(email)::text || name, json_build_object('k', phone) FROM customers => {0, 1}",
            "TABLE customers => {2, 3}",
            "VALUES ((SELECT email FROM customers LIMIT 1), 1) => {0}",
            "SELECT x.e FROM json_to_record((SELECT to_json(c) FROM customers c LIMIT 1)) AS x(e text, id int) => {0}",
            "SELECT * FROM ROWS FROM (unnest(ARRAY[1]), generate_series(1, 2)) AS r(a, b) => {}",
            "SELECT xmlelement(name x, email), xmlforest(phone) FROM customers => {0, 1}",
            "WITH d AS (UPDATE customers SET name = 'n' WHERE id = 1 RETURNING email, id) SELECT * FROM d => {0}",
            "SELECT (customers).email, customers.name FROM customers => {0}",
            "SELECT format('%s', c), count(*) OVER () FROM customers c => {0}",
            "SELECT json_agg(c) FROM customers c => {0}",
            "SELECT id FROM customers WHERE email IS DISTINCT FROM 'x' AND NOT (phone = 'y') => {}",
            "SELECT id FROM customers WHERE (email, phone) = ('a', 'b') => {}",
            "SELECT count(*) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id ORDER BY 1 => {}",
            "DELETE FROM customers WHERE id = 3 RETURNING * => {2, 3}",
            "SELECT id FROM customers LIMIT $1 OFFSET 2 => {}",
            "SELECT id FROM customers WHERE email IS NULL OR (email = 'x') IS TRUE OR email OPERATOR(pg_catalog.=) 'y' => {}",
            "SELECT x.e FROM customers AS x(i, n, e) => {0}",
            "SELECT count(*) FILTER (WHERE email = 'x'), EXISTS (SELECT 1 FROM customers WHERE phone = 'y') FROM customers => {}",
    })
    void derivedColumnsAreMasked(String sql, String expected) throws Exception {
        assertThat(masked(sql)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT count(*) FROM customers WHERE email LIKE 'customer1%'",
            "SELECT id FROM customers WHERE email ILIKE 'a%'",
            "SELECT id FROM customers WHERE email ~ '^a'",
            "SELECT id FROM customers WHERE email > 'm'",
            "SELECT id FROM customers WHERE email BETWEEN 'a' AND 'b'",
            "SELECT id FROM customers WHERE substr(email, 1, 1) = 'u'",
            "SELECT id FROM customers WHERE lower(email) = 'x'",
            "SELECT id, email FROM customers ORDER BY email",
            "SELECT id, email FROM customers ORDER BY 2",
            "SELECT id, email AS e FROM customers ORDER BY e",
            "SELECT id FROM customers ORDER BY reverse(email)",
            "SELECT email, count(*) FROM customers GROUP BY email",
            "SELECT email, count(*) FROM customers GROUP BY 1",
            "SELECT max(email) FROM customers HAVING max(email) > 'm'",
            "SELECT DISTINCT ON (email) id FROM customers",
            "SELECT DISTINCT email FROM customers",
            "SELECT count(*) FILTER (WHERE email LIKE 'u%') FROM customers",
            "SELECT row_number() OVER (PARTITION BY email) FROM customers",
            "SELECT rank() OVER (ORDER BY phone) FROM customers",
            "SELECT CASE WHEN email LIKE 'u%' THEN 1 ELSE 0 END FROM customers",
            "SELECT * FROM (SELECT reverse(email) r FROM customers) s WHERE r LIKE 'moc%'",
            "SELECT mail FROM v_contacts WHERE mail LIKE 'a%'",
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM customers WHERE email LIKE 'a%')",
            "WITH t AS (SELECT id FROM customers WHERE phone < '5') SELECT * FROM t",
            "EXPLAIN SELECT id FROM customers WHERE email > 'm'",
            "EXPLAIN ANALYZE SELECT id FROM customers WHERE email > 'm'",
            "UPDATE customers SET name = 'x' WHERE email LIKE 'a%'",
            "DELETE FROM customers WHERE email LIKE 'a%'",
            "SELECT id FROM customers WHERE id = (SELECT length(email) FROM customers LIMIT 1)",
            "SELECT id FROM customers LIMIT (SELECT ascii(email) FROM customers LIMIT 1)",
            "SELECT generate_series(1, ascii(email)) FROM customers",
            "SELECT string_agg(name, ',' ORDER BY email) FROM customers",
            "SELECT email FROM customers UNION SELECT 'x'",
            "SELECT id FROM customers WHERE starts_with(email, 'a')",
            "SELECT id FROM customers WHERE (email, name) > ('a', 'b')",
            "SELECT id FROM customers c WHERE (c).email LIKE 'a%'",
            "SELECT id FROM customers c WHERE c::text LIKE '%@%'",
            "INSERT INTO orders (id, customer_id, amount) SELECT id, id, length(email) FROM customers",
            "SELECT email AS e INTO copied FROM customers",
            "SELECT id FROM customers_eu WHERE email LIKE 'a%'",
            "SELECT email, count(*) FROM customers GROUP BY ROLLUP (email)",
            "SELECT e.id FROM v_contacts e WHERE e.mail = 'x'",
            "SELECT id FROM customers WHERE NULLIF(substr(email, 1, 1), 'u') IS NULL",
            "SELECT id FROM customers WHERE email OPERATOR(pg_catalog.~~) 'a%'",
            "SELECT id FROM customers WHERE email > ALL (ARRAY['m'])",
            "SELECT id FROM customers WHERE email = (SELECT min(email) FROM customers)",
            "SELECT id FROM customers c WHERE (SELECT c.email) LIKE 'a%'",
            "SELECT v.x FROM customers c JOIN (VALUES ('a'), ('b')) v(x) ON c.email > v.x",
            "COPY (SELECT id FROM customers WHERE email LIKE 'a%') TO STDOUT",
            "SELECT sum(CASE WHEN email LIKE 'a%' THEN 1 ELSE 0 END) FROM customers",
            "SELECT id FROM customers WHERE starts_with(email, 'a') IS TRUE",
            "SELECT id FROM customers WHERE position('a' in email) = 1",
            "SELECT id FROM customers WHERE ARRAY[email] @> ARRAY['x']",
            "SELECT id FROM customers c WHERE to_jsonb(c) @> '{\"email\": \"x\"}'",
            "SELECT id FROM customers c1 WHERE EXISTS (SELECT 1 FROM customers c2 WHERE c2.email < c1.email)",
            "SELECT c.id FROM customers c JOIN LATERAL (SELECT 1 WHERE c.email LIKE 'a%') x ON true",
            "SELECT id FROM customers WHERE email IN (SELECT substr(email, 1, 1) FROM customers)",
            "SELECT count(*) OVER (PARTITION BY phone) FROM customers",
            "SELECT email FROM customers INTERSECT SELECT email FROM contacts",
            "UPDATE customers SET notes = reverse(email) WHERE id = 1 RETURNING notes",
            "SELECT id FROM customers c JOIN contacts k ON lower(c.email) = lower(k.email)",
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, customers WHERE n < length(customers.email)) SELECT n FROM r",
    })
    void searchesAndCopiesOfMaskedColumnsAreRefused(String sql) {
        assertThatThrownBy(() -> masked(sql)).isInstanceOf(MaskedLineage.Refused.class)
                .hasMessageContaining("rule r masks column");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT most_common_vals FROM pg_stats WHERE attname = 'email'",
            "SELECT my_function(email) FROM customers",
            "SELECT id FROM nowhere",
            "SELECT query_to_xml('SELECT email FROM customers', true, true, '')",
            "FETCH ALL FROM c",
            "DECLARE c CURSOR FOR SELECT email FROM customers",
            "EXECUTE p(1)",
            "DO $$ BEGIN RAISE NOTICE '%', (SELECT email FROM customers LIMIT 1); END $$",
            "SELECT * FROM customers c, jsonb_to_record(to_jsonb(c)) AS x",
            "SELECT nosuchcolumn FROM customers",
            "SELECT id FROM customers WHERE email === 'x'",
            "SELECT email <-> 'x' FROM customers",
    })
    void whatCannotBeProvenIsRefused(String sql) {
        assertThatThrownBy(() -> masked(sql)).isInstanceOf(LineageException.class);
    }

    @org.junit.jupiter.api.Test
    void aCatalogThatCannotAnswerRefusesTheStatement() {
        RelationCatalog down = (schema, name) -> {
            throw new LineageException("the catalog lookup of customers failed: connection refused");
        };
        assertThatThrownBy(() -> Lineage.of("SELECT reverse(email) FROM customers", down))
                .isInstanceOf(LineageException.class).hasMessageContaining("connection refused");
    }

    @org.junit.jupiter.api.Test
    void aViewThatReachesItselfIsRefused() {
        RelationCatalog loop = (schema, name) -> Optional.of(new RelationCatalog.Relation("public", name, List.of("x"),
                Optional.of("SELECT x FROM " + (name.equals("a") ? "b" : "a")), List.of()));
        assertThatThrownBy(() -> Lineage.of("SELECT x FROM a", loop)).isInstanceOf(LineageException.class)
                .hasMessageContaining("nested too deeply");
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT id FROM customers WHERE email = 'x'", "SELECT id FROM customers WHERE phone IS NULL"})
    void predicatesRefuseRefusesEvenEquality(String sql) throws Exception {
        MaskPlan refuse = new MaskPlan(List.of("email", "phone"), Set.of(), PredicateMode.REFUSE);
        assertThatThrownBy(() -> MaskedLineage.maskedOutputs(Lineage.of(sql, CATALOG), refuse, "r"))
                .hasMessageContaining("predicates: refuse");
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT email FROM customers WHERE email LIKE 'a%' ORDER BY email"})
    void predicatesAllowStillMasksTheOutput(String sql) throws Exception {
        MaskPlan allow = new MaskPlan(List.of("email"), Set.of(), PredicateMode.ALLOW);
        assertThat(MaskedLineage.maskedOutputs(Lineage.of(sql, CATALOG), allow, "r").toString()).isEqualTo("{0}");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {"customers.email | {0}", "orders.email | {}", "public.customers.email | {0}",
            "other.customers.email | {}"})
    void qualifiedFieldsMatchTheirTableOnly(String field, String expected) throws Exception {
        MaskPlan plan = new MaskPlan(List.of(field), Set.of());
        assertThat(MaskedLineage.maskedOutputs(Lineage.of("SELECT upper(email), id FROM customers", CATALOG), plan, "r").toString())
                .isEqualTo(expected);
    }

}
