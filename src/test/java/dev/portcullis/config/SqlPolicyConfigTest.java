package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.SqlStatement.Effect;
import dev.portcullis.core.SqlStatement.Kind;
import dev.portcullis.policy.SqlCondition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code sql:} block of a rule, and {@code sql:} cases in policy test files. */
class SqlPolicyConfigTest {

    @TempDir
    Path dir;

    @Test
    void anSqlBlockBecomesAnSqlCondition() throws Exception {
        var policy = ConfigLoader.loadPolicy("p.yaml", """
                rules:
                  - id: r
                    when:
                      sql:
                        kinds: [update, delete]
                        tables: [public.customers, "hr.*"]
                        functions: [lower]
                        has-where: true
                        read-only: false
                        writes: true
                        runs-code: false
                        copy-file-or-program: false
                        changes-schema: false
                        changes-privileges: false
                        calls-unknown-functions: false
                        locks: false
                    action: allow
                """);
        SqlCondition c = (SqlCondition) policy.rules().getFirst().when().operation().orElseThrow();
        assertThat(c.kinds()).containsExactlyInAnyOrder(Kind.UPDATE, Kind.DELETE);
        assertThat(c.tables()).extracting(Object::toString).containsExactly("public.customers", "hr.*");
        assertThat(c.functions()).extracting(Object::toString).containsExactly("lower");
        assertThat(c.hasWhere()).contains(true);
        assertThat(c.readOnly()).contains(false);
        assertThat(c.effects()).containsEntry(Effect.WRITES, true).containsEntry(Effect.RUNS_CODE, false).hasSize(7);
    }

    @Test
    void sqlBlockMistakesArePositionedAndListWhatIsKnown() {
        assertThatThrownBy(() -> ConfigLoader.loadPolicy("p.yaml", """
                rules:
                  - id: r
                    when:
                      sql:
                        kinds: [select, delet]
                        tables: ["*"]
                        read-only: yes please
                        writez: true
                    action: allow
                """))
                .hasMessageContaining("p.yaml:5:25: rules[0].when.sql.kinds[1]: expected one of select, insert, update, delete, merge, copy-to, copy-from")
                .hasMessageContaining("create-function")
                .hasMessageContaining("got 'delet'")
                .hasMessageContaining("p.yaml:6:18: rules[0].when.sql.tables[0]: expected name, schema.name or schema.*, got '*'")
                .hasMessageContaining("p.yaml:7:20: rules[0].when.sql.read-only: expected true or false, got 'yes please'")
                .hasMessageContaining("p.yaml:8:9: rules[0].when.sql.writez: unknown key; did you mean 'writes'?");
    }

    @Test
    void aRuleHasOneProtocolBlock() {
        assertThatThrownBy(() -> ConfigLoader.loadPolicy("p.yaml", """
                rules:
                  - id: r
                    when:
                      http: {methods: [GET]}
                      sql: {read-only: true}
                    action: allow
                """)).hasMessageContaining("p.yaml:5:12: rules[0].when.sql: a rule applies to one protocol: write http or sql, not both");
    }

    @Test
    void policyTestFilesTakeSqlCasesJudgedWithTheRealParser() throws Exception {
        Files.writeString(dir.resolve("db.yaml"), ConfigLoaderTest.VALID.replace("""
                        http:
                          methods: [GET]
                          paths: [/api/v1/users]
                      action: allow
            """, """
                        sql: {read-only: true}
                      action: allow
                    - id: no-drops
                      when:
                        sql: {kinds: [drop]}
                      action: deny
            """));
        Path test = dir.resolve("t.yaml");
        Files.writeString(test, """
                config: db.yaml
                connection: okta
                cases:
                  - name: agents read
                    identity: {subject: a, groups: [agents]}
                    sql: "SELECT lower(email) FROM customers"
                    expect: {action: allow, rule: read}
                  - name: every statement is judged
                    identity: {subject: a, groups: [agents]}
                    sql: "SELECT 1; DROP TABLE customers; DELETE FROM customers"
                    expect: {action: deny, rule: no-drops}
                  - name: a string literal is not a statement
                    identity: {subject: a, groups: [agents]}
                    sql: "SELECT 'DROP TABLE customers'"
                    expect: {action: allow}
                  - name: bad sql fails the case
                    identity: {subject: a, groups: [agents]}
                    sql: "SELEC 1"
                    expect: {action: deny}
                """);
        PolicyTestRunner.Report report = PolicyTestRunner.run(test, Map.of());
        assertThat(report.cases()).extracting(PolicyTestRunner.CaseResult::passed).containsExactly(true, true, true, false);
        PolicyTestRunner.CaseResult bad = report.cases().get(3);
        assertThat(bad.actualAction()).isEqualTo("error");
        assertThat(bad.reason()).isEqualTo("the SQL does not parse: syntax error at or near \"SELEC\" (at character 1)");
    }
}
