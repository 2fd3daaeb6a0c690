package dev.portcullis.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.core.SqlStatement.Effect;
import dev.portcullis.core.SqlStatement.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class SqlParserTest {

    static SqlStatement one(String sql) throws SqlParseException {
        List<SqlStatement> all = SqlParser.parse(sql);
        assertThat(all).hasSize(1);
        return all.getFirst();
    }

    @Test
    void eachStatementOfAMultiStatementQueryIsAnalysedWithItsOwnText() throws Exception {
        List<SqlStatement> all = SqlParser.parse("SELECT 'é' ; /* then */ DELETE FROM customers WHERE id = 1;");
        assertThat(all).extracting(SqlStatement::kind).containsExactly(Kind.SELECT, Kind.DELETE);
        assertThat(all).extracting(SqlStatement::text).containsExactly("SELECT 'é'", "/* then */ DELETE FROM customers WHERE id = 1");
        assertThat(all.get(0).readOnly()).isTrue();
        assertThat(all.get(1).writes()).isTrue();
        assertThat(all.get(1).hasWhere()).isTrue();
        assertThat(all.get(1).protocol()).isEqualTo("sql");
    }

    @Test
    void blankOrCommentOnlyTextHasNoStatements() throws Exception {
        assertThat(SqlParser.parse("  ; -- nothing\n")).isEmpty();
    }

    @Test
    void unparseableSqlIsAParseExceptionWithTheParsersMessageAndPosition() {
        assertThatThrownBy(() -> SqlParser.parse("SELECT 1; SELCT * FROM customers"))
                .isInstanceOfSatisfying(SqlParseException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("syntax error at or near \"SELCT\"");
                    assertThat(e.cursorPosition()).isEqualTo(11);
                });
    }

    @Test
    void aNulCharacterIsRefusedRatherThanParsedUpToIt() {
        assertThatThrownBy(() -> SqlParser.parse("SELECT 1\0; DROP TABLE customers"))
                .isInstanceOf(SqlParseException.class).hasMessageContaining("NUL");
    }

    @Test
    void tablesComeFromJoinsSubqueriesCtesAndSchemaQualifiedNames() throws Exception {
        SqlStatement s = one("""
                WITH recent AS (SELECT * FROM orders WHERE placed > now() - interval '1 day')
                SELECT c.name FROM public.customers c
                  JOIN recent r ON r.customer_id = c.id
                  LEFT JOIN LATERAL (SELECT * FROM sales.invoices i WHERE i.customer_id = c.id) inv ON true
                WHERE c.id IN (SELECT customer_id FROM refunds) AND EXISTS (SELECT 1 FROM "Audit")""");
        assertThat(s.tables()).containsExactlyInAnyOrder("orders", "public.customers", "sales.invoices", "refunds", "Audit");
        assertThat(s.readOnly()).isTrue();
    }

    @Test
    void aCteNameHidesATableOnlyWhereTheCteIsInScope() throws Exception {
        SqlStatement s = one("SELECT * FROM customers, (WITH customers AS (SELECT 1) SELECT * FROM customers) x");
        assertThat(s.tables()).containsExactly("customers");
        assertThat(one("WITH customers AS (SELECT 1) SELECT * FROM customers").tables()).isEmpty();
        // a DML target always names the real table, even when a CTE has its name
        assertThat(one("WITH customers AS (SELECT 1) DELETE FROM customers").tables()).containsExactly("customers");
        assertThat(one("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r").tables()).isEmpty();
    }

    @Test
    void tablesOfSelectIntoCopyExplainPrepareDropAndTruncate() throws Exception {
        assertThat(one("SELECT * INTO t2 FROM customers").tables()).containsExactly("t2", "customers");
        assertThat(one("COPY customers TO STDOUT").tables()).containsExactly("customers");
        assertThat(one("COPY (SELECT * FROM orders) TO STDOUT").tables()).containsExactly("orders");
        assertThat(one("EXPLAIN SELECT * FROM customers").tables()).containsExactly("customers");
        assertThat(one("PREPARE p AS SELECT * FROM s.customers WHERE id = $1").tables()).containsExactly("s.customers");
        assertThat(one("DROP TABLE a.customers, orders").tables()).containsExactly("a.customers", "orders");
        assertThat(one("TRUNCATE customers").tables()).containsExactly("customers");
        assertThat(one("UPDATE t SET a = 1 FROM u WHERE t.id = u.id").tables()).containsExactly("t", "u");
    }

    @Test
    void identifiersAreResolvedAsTheServerResolvesThem() throws Exception {
        assertThat(one("SELECT * FROM U&\"cust\\006fmers\"").tables()).containsExactly("customers");
        assertThat(one("SELECT * FROM CUSTOMERS").tables()).containsExactly("customers");
        assertThat(one("SELECT * FROM \"CUSTOMERS\"").tables()).containsExactly("CUSTOMERS");
        assertThat(one("dRoP/**/TABLE Customers").tables()).containsExactly("customers");
    }

    @Test
    void functionsAreNamedAsWrittenAndUnknownOnesAreFlagged() throws Exception {
        SqlStatement s = one("SELECT lower(email), pg_catalog.now(), count(*), extract(year FROM created) FROM customers");
        assertThat(s.functions()).containsExactly("lower", "pg_catalog.now", "count", "pg_catalog.extract");
        assertThat(s.effects()).isEmpty();
        SqlStatement custom = one("SELECT app.score(id), lower(name) FROM customers");
        assertThat(custom.functions()).containsExactly("app.score", "lower");
        assertThat(custom.callsUnknownFunctions()).isTrue();
        assertThat(custom.readOnly()).isFalse();
        assertThat(one("SELECT a <~> b FROM t").functions()).containsExactly("OPERATOR(<~>)");
        assertThat(one("SELECT a <~> b FROM t").callsUnknownFunctions()).isTrue();
        assertThat(one("SELECT a ->> 'k', a @> '{}' FROM t").effects()).isEmpty();
    }

    @Test
    void sideEffectingBuiltinsWrite() throws Exception {
        assertThat(one("SELECT nextval('s')").writes()).isTrue();
        assertThat(one("SELECT pg_terminate_backend(1)").writes()).isTrue();
        assertThat(one("SELECT pg_advisory_lock(1)").writes()).isTrue();
        assertThat(one("SELECT lo_import('/etc/passwd')").effects()).contains(Effect.WRITES, Effect.COPY_FILE_OR_PROGRAM);
        assertThat(one("SELECT set_config('role', 'x', false)").effects()).contains(Effect.WRITES, Effect.CHANGES_PRIVILEGES);
        assertThat(one("SELECT set_config('application_name', 'x', false)").effects()).containsExactly(Effect.WRITES);
        assertThat(one("SELECT query_to_xml('DELETE FROM customers', true, true, '')").effects()).contains(Effect.RUNS_CODE, Effect.WRITES);
    }

    @Test
    void hasWhereNeedsEveryUpdateAndDeleteToHaveOne() throws Exception {
        assertThat(one("DELETE FROM customers WHERE id = 1").hasWhere()).isTrue();
        assertThat(one("DELETE FROM customers").hasWhere()).isFalse();
        assertThat(one("UPDATE customers SET a = 1 WHERE true").hasWhere()).isTrue(); // any WHERE counts
        assertThat(one("UPDATE customers SET a = 1 WHERE CURRENT OF c").hasWhere()).isTrue();
        assertThat(one("SELECT * FROM customers WHERE id = 1").hasWhere()).isFalse();
        SqlStatement cte = one("WITH d AS (DELETE FROM customers RETURNING id) UPDATE log SET n = 1 WHERE id IN (SELECT id FROM d)");
        assertThat(cte.hasWhere()).isFalse();
        assertThat(cte.allKinds()).containsExactlyInAnyOrder(Kind.UPDATE, Kind.DELETE);
    }

    @Test
    void kindsHaveConfigNames() throws Exception {
        assertThat(one("COPY t TO STDOUT").kind().configName()).isEqualTo("copy-to");
        assertThat(one("CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$").kind().configName()).isEqualTo("create-function");
        assertThat(Kind.fromConfigName("create-function")).isEqualTo(Kind.CREATE_FUNCTION);
        assertThat(List.of(one("CREATE USER u").kind(), one("ALTER ROLE x SUPERUSER").kind(), one("DROP ROLE r").kind()))
                .containsOnly(Kind.ROLE);
        assertThat(one("GRANT r TO u").kind()).isEqualTo(Kind.GRANT);
        assertThat(one("REVOKE SELECT ON t FROM u").kind()).isEqualTo(Kind.REVOKE);
        assertThat(one("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO x").effects()).contains(Effect.CHANGES_PRIVILEGES);
        assertThat(one("VACUUM customers").kind()).isEqualTo(Kind.MAINTENANCE);
        assertThat(one("ANALYZE customers").kind()).isEqualTo(Kind.MAINTENANCE);
        assertThat(one("SAVEPOINT a").kind()).isEqualTo(Kind.TRANSACTION);
        assertThat(one("COMMIT PREPARED 'x'").kind()).isEqualTo(Kind.OTHER);
        assertThat(one("CREATE INDEX i ON t (a)").kind()).isEqualTo(Kind.CREATE);
        assertThat(one("ALTER TABLE t ADD c int").changesSchema()).isTrue();
        assertThat(one("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE").writes()).isTrue();
    }

    @Test
    void selectForUpdateLocksAndIsNotReadOnly() throws Exception {
        SqlStatement s = one("SELECT * FROM customers FOR UPDATE");
        assertThat(s.writes()).isFalse();
        assertThat(s.locks()).isTrue();
        assertThat(s.readOnly()).isFalse();
        assertThat(one("LOCK customers").locks()).isTrue();
    }

    @Test
    void explainRunsTheStatementOnlyWithAnalyze() throws Exception {
        SqlStatement plain = one("EXPLAIN DELETE FROM customers");
        assertThat(plain.writes()).isFalse();
        assertThat(plain.readOnly()).isTrue();
        SqlStatement analyze = one("EXPLAIN (ANALYZE, VERBOSE) DELETE FROM customers");
        assertThat(analyze.explainAnalyze()).isTrue();
        assertThat(analyze.writes()).isTrue();
        assertThat(analyze.allKinds()).containsExactlyInAnyOrder(Kind.EXPLAIN, Kind.DELETE);
        assertThat(one("EXPLAIN (ANALYZE false) DELETE FROM customers").explainAnalyze()).isFalse();
        assertThat(one("EXPLAIN ANALYZE SELECT * FROM customers").readOnly()).isTrue();
    }

    @Test
    void executeIsJudgedAsThePreparedStatementItRuns() throws Exception {
        SqlStatement prepare = one("PREPARE p(int) AS DELETE FROM customers WHERE id = $1");
        assertThat(prepare.kind()).isEqualTo(Kind.PREPARE);
        assertThat(prepare.preparedName()).contains("p");
        assertThat(prepare.writes()).isTrue();
        SqlStatement execute = one("EXECUTE p(42)");
        assertThat(execute.readOnly()).isFalse(); // unresolved
        SqlStatement resolved = execute.executing(prepare);
        assertThat(resolved.kind()).isEqualTo(Kind.DELETE);
        assertThat(resolved.tables()).containsExactly("customers");
        assertThat(resolved.hasWhere()).isTrue();
        assertThat(resolved.text()).isEqualTo("EXECUTE p(42)");
        assertThat(one("EXECUTE q(nextval('s'))").executing(one("PREPARE q(int) AS SELECT $1")).writes()).isTrue();
        assertThat(one("DEALLOCATE p").preparedName()).contains("p");
        assertThat(one("DEALLOCATE ALL").preparedName()).isEmpty();
        assertThatThrownBy(() -> execute.executing(one("PREPARE other AS SELECT 1"))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void settingsThatChangeWhoTheSessionIsAreNotReadOnly() throws Exception {
        assertThat(one("SET statement_timeout = '5s'").readOnly()).isTrue();
        assertThat(one("SHOW search_path").readOnly()).isTrue();
        for (String sql : List.of("SET ROLE admin", "SET LOCAL ROLE admin", "SET SESSION AUTHORIZATION admin",
                "RESET ALL", "SET search_path = secret", "SET TRANSACTION READ WRITE",
                "SET default_transaction_read_only = off")) {
            assertThat(one(sql).changesPrivileges()).as(sql).isTrue();
        }
    }

    @Test
    void copyToStdoutIsReadOnlyButFilesAndProgramsAreNot() throws Exception {
        assertThat(one("COPY customers TO STDOUT WITH (FORMAT csv)").readOnly()).isTrue();
        assertThat(one("COPY customers TO PROGRAM 'cat > /tmp/x'").copyFileOrProgram()).isTrue();
        assertThat(one("COPY customers FROM '/etc/passwd'").effects()).contains(Effect.COPY_FILE_OR_PROGRAM, Effect.WRITES);
        assertThat(one("COPY customers FROM STDIN").effects()).containsExactly(Effect.WRITES);
    }

    @Test
    void summaryIsOneLineTruncatedAndElidesPasswords() throws Exception {
        assertThat(one("SELECT 1,\n\t 2").summary()).isEqualTo("SELECT 1, 2");
        String longSql = "SELECT " + "x, ".repeat(200) + "1";
        assertThat(one(longSql).summary()).hasSize(SqlStatement.SUMMARY_CHARS).endsWith("…");
        SqlStatement role = one("ALTER USER bob WITH PASSWORD 'hunter2' VALID UNTIL 'infinity'");
        assertThat(role.summary()).isEqualTo("ALTER USER bob WITH PASSWORD ***").doesNotContain("hunter2");
    }

    @Test
    void withParametersKeepsTheAnalysis() throws Exception {
        SqlStatement s = one("SELECT * FROM customers WHERE id = $1");
        SqlStatement bound = s.withParameters(List.of("42"));
        assertThat(bound.bindParameters()).containsExactly("42");
        assertThat(bound.tables()).isEqualTo(s.tables());
        assertThat(s.bindParameters()).isEmpty();
    }

    @Test
    void aCacheHitReturnsTheSameInstances() throws Exception {
        // no constant, so no shape (StatementShapeTest): cached by its exact text
        String sql = "SELECT * FROM customers WHERE id = $1 /* cache */";
        List<SqlStatement> first = SqlParser.parse(sql);
        assertThat(SqlParser.parse(sql)).isSameAs(first);
        assertThat(SqlParser.parse(sql).getFirst()).isSameAs(first.getFirst());
        assertThat(SqlParser.parse(sql + " ")).isNotSameAs(first);
    }

    @Test
    void theCacheEvictsTheLeastRecentlyUsedByEntriesAndCharacters() {
        ParseCache<List<SqlStatement>> cache = new ParseCache<>(2, 1600);
        cache.put("a", List.of());
        cache.put("b", List.of());
        cache.get("a");
        cache.put("c", List.of());
        assertThat(cache.get("b")).isNull();
        assertThat(cache.get("a")).isNotNull();
        cache.put("x".repeat(101), List.of()); // more than a sixteenth of the budget: not kept
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void sixteenVirtualThreadsParsingInParallelGetCorrectResults() throws Exception {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        // distinct text per iteration, so every call really parses
                        String table = "t" + thread + "_" + i;
                        List<SqlStatement> s = SqlParser.parse("SELECT * FROM " + table + " WHERE id = " + i
                                + "; DELETE FROM " + table + "_log");
                        if (!s.get(0).tables().equals(List.of(table)) || !s.get(0).readOnly()) return false;
                        if (!s.get(1).tables().equals(List.of(table + "_log")) || !s.get(1).writes()) return false;
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertThat(f.get()).isTrue();
        }
    }

    /**
     * Short statements are parsed on the caller's thread (a carrier's 1 MiB stack), so the deepest
     * nesting that fits in {@link PgQuery#INLINE_MAX_BYTES} must print in far less: here in a quarter of
     * that stack, for every way of nesting cheaply in text.
     */
    @Test
    void theDeepestStatementsParsedOnTheCallersThreadFitInAQuarterOfItsStack() throws Exception {
        int n = PgQuery.INLINE_MAX_BYTES;
        List<String> deepest = List.of(
                fit("SELECT ", "1+", "1", "", n),
                fit("SELECT ", "f(", "1", ")", n),
                fit("SELECT ", "(SELECT ", "1", ")", n),
                fit("SELECT ", "ARRAY[", "1", "]", n),
                fit("SELECT ", "NOT ", "true", "", n),
                fit("SELECT ", "- ", "1", "", n),
                fit("SELECT ", "(", "1", ")", n),
                fit("SELECT 1 WHERE ", "x IN (", "1", ")", n),
                fit("SELECT ", "CASE WHEN true THEN ", "1", " END", n),
                fit("SELECT ", "row(", "1", ")", n));
        List<Throwable> failures = new ArrayList<>();
        Thread small = Thread.ofPlatform().stackSize(256 * 1024).start(() -> {
            for (String sql : deepest) {
                try {
                    if (sql.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > n) throw new AssertionError("too long: " + sql);
                    PgQuery.instance().parseToJson(sql);
                } catch (SqlParseException e) {
                    // refused by the parser is fine too: it did not crash
                } catch (Throwable t) {
                    failures.add(t);
                }
            }
        });
        small.join();
        assertThat(failures).isEmpty();
    }

    /** {@code prefix + open×k + middle + close×k}, with k as large as fits in {@code max} bytes. */
    private static String fit(String prefix, String open, String middle, String close, int max) {
        int k = (max - prefix.length() - middle.length()) / (open.length() + close.length());
        return prefix + open.repeat(k) + middle + close.repeat(k);
    }

    @Test
    void deeplyNestedExpressionsAreRefusedWithoutCrashingTheGateway() {
        // 400,000 levels of nesting: libpg_query needs ~40 MB of stack to print it (a 1 MiB stack dies at ~10,000)
        String deep = "SELECT " + "1+".repeat(400_000) + "1";
        assertThatThrownBy(() -> SqlParser.parse(deep)).isInstanceOf(SqlParseException.class)
                .hasMessageContaining("too complex");
        assertThatThrownBy(() -> SqlParser.parse("SELECT " + "(SELECT ".repeat(5000) + "1" + ")".repeat(5000)))
                .isInstanceOf(SqlParseException.class);
    }

    @Test
    void textLargerThanTheParserCanSafelyJudgeIsRefused() {
        String huge = "SELECT '" + "x".repeat(PgQuery.MAX_SQL_BYTES) + "'";
        assertThatThrownBy(() -> SqlParser.parse(huge)).isInstanceOf(SqlParseException.class).hasMessageContaining("at most");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
            "SET client_encoding = 'SJIS'", "SET NAMES 'GBK'", "set client_encoding to big5", "SET \"CLIENT_ENCODING\" = 'UHC'",
            "SET standard_conforming_strings = off", "SET standard_conforming_strings TO false", "SET LOCAL standard_conforming_strings = 0",
            "SELECT set_config('standard_conforming_strings', 'off', false)", "SELECT set_config('Client_Encoding', 'SJIS', false)",
            "SELECT set_config(lower('X'), 'off', false)", "SELECT set_config('client_encoding', current_setting('x'), false)"})
    void changingHowTheServerReadsSqlIsItsOwnEffect(String sql) throws Exception {
        assertThat(one(sql).effects()).as(sql).contains(SqlStatement.Effect.CHANGES_SQL_READING);
        assertThat(one(sql).readOnly()).as(sql).isFalse();
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
            "SET client_encoding = 'UTF8'", "SET NAMES 'utf8'", "SET client_encoding TO unicode", "SET standard_conforming_strings = on",
            "SET standard_conforming_strings TO true", "RESET client_encoding", "SET client_encoding TO DEFAULT", "RESET ALL",
            "SELECT set_config('standard_conforming_strings', 'on', false)", "SELECT set_config('application_name', 'x', false)",
            "SET application_name = 'SJIS'"})
    void theValuesTheParserReadsWithAreNoSuchEffect(String sql) throws Exception {
        assertThat(one(sql).effects()).as(sql).doesNotContain(SqlStatement.Effect.CHANGES_SQL_READING);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"SET \"ROLE\" = 'admin'", "SET \"Search_Path\" = evil",
            "SELECT set_config('ROLE', 'admin', false)", "SELECT set_config('Search_Path', 'evil', false)"})
    void settingNamesAreMatchedAsTheServerMatchesThemWithoutCase(String sql) throws Exception {
        assertThat(one(sql).effects()).as(sql).contains(SqlStatement.Effect.CHANGES_PRIVILEGES);
    }
}
