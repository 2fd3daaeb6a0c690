package dev.portcullis.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.core.SqlStatement.Effect;
import dev.portcullis.core.SqlStatement.Kind;
import dev.portcullis.policy.SqlCondition.NamePattern;
import dev.portcullis.sql.SqlParser;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SqlConditionTest {

    static SqlStatement sql(String text) throws Exception {
        return SqlParser.parse(text).getFirst();
    }

    static SqlCondition tables(String... patterns) {
        return new SqlCondition(Set.of(), List.of(patterns).stream().map(NamePattern::of).toList(), List.of(),
                Optional.empty(), Optional.empty(), Map.of());
    }

    @Test
    void aBarePatternMatchesTheNameInAnySchema() {
        NamePattern p = NamePattern.of("customers");
        assertThat(p.matches("customers")).isTrue();
        assertThat(p.matches("sales.customers")).isTrue();
        assertThat(p.matches("db.sales.customers")).isTrue();
        assertThat(p.matches("customers_archive")).isFalse();
        assertThat(p.matches("CUSTOMERS")).isFalse();
    }

    @Test
    void aQualifiedPatternAlsoMatchesTheBareNameTheServerMayResolveToIt() {
        NamePattern p = NamePattern.of("public.customers");
        assertThat(p.matches("public.customers")).isTrue();
        assertThat(p.matches("customers")).isTrue();
        assertThat(p.matches("sales.customers")).isFalse();
        NamePattern schema = NamePattern.of("hr.*");
        assertThat(schema.matches("hr.salaries")).isTrue();
        assertThat(schema.matches("salaries")).isFalse();
        assertThat(schema.matches("public.salaries")).isFalse();
    }

    @Test
    void malformedPatternsAreRefused() {
        for (String bad : List.of("*", "a..b", ".a", "a.b.c", "*.t", "")) {
            assertThatThrownBy(() -> NamePattern.of(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void denyRulesMatchWhenAnyTableMatchesAllowRulesWhenEveryTableDoes() throws Exception {
        SqlCondition c = tables("orders");
        SqlStatement join = sql("SELECT * FROM orders JOIN secrets ON true");
        assertThat(c.matches(join, false)).isTrue();
        assertThat(c.matches(join, true)).isFalse();
        assertThat(c.matches(sql("SELECT * FROM orders o1 JOIN public.orders o2 ON true"), true)).isTrue();
        assertThat(c.matches(sql("SELECT 1"), true)).isFalse(); // no table: a tables condition never matches
        assertThat(c.matches(sql("SELECT 1"), false)).isFalse();
    }

    @Test
    void kindsIncludeNestedDataModifyingStatements() throws Exception {
        SqlCondition inserts = new SqlCondition(Set.of(Kind.INSERT), List.of(), List.of(), Optional.empty(),
                Optional.empty(), Map.of());
        SqlStatement sneaky = sql("WITH d AS (DELETE FROM customers RETURNING *) INSERT INTO archive SELECT * FROM d");
        assertThat(inserts.matches(sneaky, true)).isFalse();
        assertThat(inserts.matches(sneaky, false)).isTrue();
        SqlCondition deletes = new SqlCondition(Set.of(Kind.DELETE), List.of(), List.of(), Optional.empty(),
                Optional.empty(), Map.of());
        assertThat(deletes.matches(sneaky, false)).isTrue(); // a deny on delete catches it
    }

    @Test
    void flagsMustEqualTheirConfiguredValues() throws Exception {
        SqlCondition noCode = new SqlCondition(Set.of(), List.of(), List.of(), Optional.of(true), Optional.empty(),
                Map.of(Effect.RUNS_CODE, false));
        assertThat(noCode.matches(sql("DELETE FROM t WHERE id = 1"), true)).isTrue();
        assertThat(noCode.matches(sql("DELETE FROM t"), true)).isFalse();
        assertThat(noCode.matches(sql("DELETE FROM t WHERE id = (SELECT dblink_exec('x'))"), true)).isFalse();
        SqlCondition readOnly = new SqlCondition(Set.of(), List.of(), List.of(), Optional.empty(), Optional.of(true), Map.of());
        assertThat(readOnly.matches(sql("SELECT 1"), true)).isTrue();
        assertThat(readOnly.matches(sql("SELECT nextval('s')"), true)).isFalse();
    }

    @Test
    void sqlConditionsNeverMatchHttpCallsAndHttpConditionsNeverMatchSql() throws Exception {
        Conditions sqlRule = new Conditions(Set.of(), Set.of(), Map.of(), Optional.of(tables("customers")));
        Conditions httpRule = PolicyTest.http(Set.of(), PolicyTest.methodsAndPaths(Set.of("GET"), "/**"));
        assertThat(sqlRule.matches(PolicyTest.AGENT, PolicyTest.call("GET", "/customers"), false)).isFalse();
        assertThat(httpRule.matches(PolicyTest.AGENT, sql("SELECT * FROM customers"), false)).isFalse();
        assertThat(sqlRule.matches(PolicyTest.AGENT, sql("SELECT * FROM customers"), false)).isTrue();
    }
}
