package dev.portcullis.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.SqlStatement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Texts that differ only in constants share one analysis (and one lineage) where no constant's value
 * can change it, and never where one can. Every answer through the caches is compared with a fresh
 * analysis of the same text: the cache may only save time, never change what is judged.
 */
class StatementShapeTest {

    /** Shapes whose constants are values only: the second text and later are answered by the first's analysis. */
    private static final List<String> INERT = List.of(
            "SELECT name, email FROM customers WHERE id = {}",
            "select name from customers where id = {} and email = {}   -- a comment stays in the shape",
            "SELECT * FROM customers WHERE email LIKE {} LIMIT {} OFFSET {}",
            "SELECT id FROM customers WHERE id IN ({}, {}, {})",
            "SELECT id FROM customers WHERE id NOT BETWEEN {} AND {}",
            "INSERT INTO orders (id, customer_id, amount) VALUES ({}, {}, {}), ({}, {}, {})",
            "UPDATE orders SET amount = amount + {} WHERE id = {}",
            "DELETE FROM orders WHERE amount > {} AND customer_id <> {};",
            "SELECT c.name, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.amount * {} > {}");

    /** Shapes with a constant whose value can change the analysis, the lineage or the summary: never shared. */
    private static final List<String> NOT_INERT = List.of(
            "SELECT name, email, phone FROM customers ORDER BY {}",
            "SELECT name, email FROM customers GROUP BY {}, {}",
            "SELECT DISTINCT ON ({}) name, email FROM customers",
            "SELECT set_config({}, 'x', false)",
            "SELECT * FROM customers WHERE id = 1 OR set_config({}, {}, false) IS NULL",
            "SELECT {}::regclass",
            "SELECT CAST(name AS varchar({})) FROM customers",
            "SELECT pg_read_file({})",
            "SELECT {} FROM customers",
            "EXPLAIN SELECT * FROM customers WHERE id = {}",
            "PREPARE p AS SELECT * FROM customers WHERE id = {}",
            "ALTER ROLE bob PASSWORD {}",
            "SELECT * FROM customers WHERE id = {}; SELECT {}",
            "SET search_path = {}",
            "SELECT * FROM customers WHERE name = U&{} UESCAPE '!'",
            "SELECT * FROM customers WHERE id = {} ORDER BY 2");

    /** Constants of every lexical form, each fitting every place above (the grammar does not care which). */
    private static final List<String> NUMBERS = List.of("1", "2", "3", "42", "-7", "- 8", "1.5", "1e3", "2147483648", "0");
    private static final List<String> STRINGS = List.of("'a'", "'email'", "'role'", "'search_path'", "'it''s'",
            "E'tab\\there'", "'multi'\n'line'", "$$dollar$$", "$t$tagged$t$", "'/etc/passwd'", "'pg_class'", "'日本'",
            "'application_name'", "'secret'");

    @Test
    void everyTextThroughTheCachesIsAnalysedExactlyAsOnItsOwn() throws Exception {
        Map<String, Object> lineages = new HashMap<>(); // what ColumnCatalog keeps, by SqlParser.lineageKey
        int compared = 0;
        List<String> shapes = new ArrayList<>(INERT);
        shapes.addAll(NOT_INERT);
        for (String shape : shapes) {
            for (List<String> constants : List.of(NUMBERS, STRINGS)) {
                for (int v = 0; v < constants.size(); v++) {
                    String sql = fill(shape, constants, v);
                    List<SqlStatement> fresh;
                    try {
                        fresh = SqlParser.parseUncached(sql);
                    } catch (SqlParseException e) {
                        continue; // this constant does not fit here; nothing to compare
                    }
                    List<SqlStatement> cached = SqlParser.parse(sql);
                    assertThat(cached).as(sql).isEqualTo(fresh);
                    if (fresh.size() == 1) {
                        String text = cached.getFirst().text();
                        Object expected = lineage(text);
                        Object viaCache = lineages.computeIfAbsent(SqlParser.lineageKey(text), k -> expected);
                        assertThat(viaCache).as("lineage of " + text).isEqualTo(expected);
                    }
                    compared++;
                }
            }
        }
        assertThat(compared).isGreaterThan(300);
    }

    @Test
    void valueOnlyConstantsShareOneAnalysisAndOthersNever() throws Exception {
        for (String shape : INERT) {
            SqlParser.parse(fill(shape, NUMBERS, 4));
            assertThat(SqlParser.analysedByShape(fill(shape, NUMBERS, 3))).as(shape).isTrue();
        }
        for (String shape : NOT_INERT) {
            for (List<String> constants : List.of(NUMBERS, STRINGS)) {
                try {
                    SqlParser.parse(fill(shape, constants, 1));
                } catch (SqlParseException e) {
                    continue;
                }
                assertThat(SqlParser.analysedByShape(fill(shape, constants, 2))).as(shape).isFalse();
            }
        }
    }

    @Test
    void theTextAndSummaryAreTheTextsOwnAndTheLineageIsShared() throws Exception {
        SqlParser.parse("SELECT name, email FROM customers WHERE email = 'a@example.com'");
        SqlStatement second = SqlParser.parse("  SELECT name, email FROM customers WHERE email = 'b@example.com'  ;").getFirst();
        assertThat(second.text()).isEqualTo("SELECT name, email FROM customers WHERE email = 'b@example.com'");
        assertThat(second.summary()).isEqualTo(second.text());
        // the leading blanks make another shape: analysed on its own, and then a template of its own
        assertThat(SqlParser.analysedByShape("  SELECT name, email FROM customers WHERE email = 'c'  ;")).isTrue();
        assertThat(SqlParser.lineageKey(second.text())).isNotEqualTo(second.text());
        assertThat(SqlParser.lineageKey("SELECT 1")).isEqualTo("SELECT 1");
    }

    @Test
    void aPositionInOrderByIsNeverTakenForAValue() throws Exception {
        // ORDER BY 2 sorts by email, a masked column's order is a search of it; ORDER BY 1 by name
        SqlParser.parse("SELECT name, email FROM customers ORDER BY 1");
        String byEmail = "SELECT name, email FROM customers ORDER BY 2";
        SqlStatement s = SqlParser.parse(byEmail).getFirst();
        assertThat(SqlParser.lineageKey(s.text())).isEqualTo(byEmail);
        assertThat(Lineage.of(byEmail, LineageTest.CATALOG).uses()).anySatisfy(u -> assertThat(u.construct()).contains("ORDER BY"));
    }

    @Test
    void textsTheLexerRefusesHaveNoShape() {
        assertThat(StatementShape.of("SELECT 'unterminated", 2048)).isNull();
        assertThat(StatementShape.of("SELECT 1 /* open", 2048)).isNull();
        assertThat(StatementShape.of("SELECT name FROM customers", 2048)).isNull(); // no constant
        assertThat(StatementShape.of("SELECT 1", 4)).isNull(); // too long to be worth it
    }

    @Test
    void aSummaryPutsEveryRunOfBlanksOnOneSpaceAsTheRegexDid() {
        java.util.Random random = new java.util.Random(7);
        String alphabet = " \t\n\u000B\f\r\u00A0\u2003\u001Cab;'";
        for (int i = 0; i < 2_000; i++) {
            StringBuilder text = new StringBuilder();
            for (int j = random.nextInt(30); j > 0; j--) text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            assertThat(StatementAnalyzer.oneLine(text.toString())).isEqualTo(text.toString().replaceAll("\\s+", " "));
        }
    }

    private static Object lineage(String text) {
        try {
            return Lineage.of(text, LineageTest.CATALOG);
        } catch (LineageException | SqlParseException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /** {@code shape} with its {@code {}} replaced by constants, starting at index {@code v} and going round. */
    private static String fill(String shape, List<String> constants, int v) {
        StringBuilder out = new StringBuilder();
        int from = 0, n = v;
        for (int at = shape.indexOf("{}"); at >= 0; at = shape.indexOf("{}", from)) {
            out.append(shape, from, at).append(constants.get(n++ % constants.size()));
            from = at + 2;
        }
        return out.append(shape.substring(from)).toString();
    }
}
