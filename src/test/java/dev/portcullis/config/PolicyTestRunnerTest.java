package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTestRunnerTest {

    @TempDir
    Path dir;

    @Test
    void exampleOktaPolicyTestsAllPassWithoutAnySecret() throws Exception {
        PolicyTestRunner.Report report = PolicyTestRunner.run(Path.of("examples/okta-policy-test.yaml"), Map.of());
        assertThat(report.cases()).filteredOn(c -> !c.passed()).isEmpty();
        assertThat(report.passed()).isEqualTo(report.cases().size()).isGreaterThanOrEqualTo(12);
        assertThat(report.cases()).extracting(PolicyTestRunner.CaseResult::actualRule).contains("agents-read-users",
                "agents-create-users", "no-user-deletion", "no-user-deactivation", "admin-roles-need-approval", "default-deny");
    }

    @Test
    void aWrongExpectationIsReportedWithExpectedAndActual() throws Exception {
        Files.copy(Path.of("examples/okta.yaml"), dir.resolve("okta.yaml"));
        Path test = dir.resolve("t.yaml");
        Files.writeString(test, """
                config: okta.yaml
                connection: okta
                cases:
                  - name: wrongly expects deletion to be allowed
                    identity: {subject: agent-1, groups: [agents]}
                    http: {method: DELETE, path: /api/v1/users/00u1}
                    expect: {action: allow}
                """);
        PolicyTestRunner.Report report = PolicyTestRunner.run(test, Map.of());
        assertThat(report.failed()).isEqualTo(1);
        PolicyTestRunner.CaseResult r = report.cases().getFirst();
        assertThat(r.expectedAction()).isEqualTo("allow");
        assertThat(r.actualAction()).isEqualTo("deny");
        assertThat(r.actualRule()).isEqualTo("no-user-deletion");
        assertThat(r.reason()).isEqualTo("Agents may not delete Okta users.");
    }

    @Test
    void maskedColumnsAndPredicateRefusalsAreCheckedAgainstTheFilesCatalog() throws Exception {
        Files.copy(Path.of("examples/postgres.yaml"), dir.resolve("postgres.yaml"));
        Path test = dir.resolve("t.yaml");
        Files.writeString(test, """
                config: postgres.yaml
                connection: customers
                catalog:
                  customers: [id, name, email]
                cases:
                  - name: right about the derived column
                    identity: {subject: agent-1, groups: [agents]}
                    sql: "SELECT name, split_part(email, '@', 1) AS local FROM customers"
                    expect: {action: mask, masked-columns: [local]}
                  - name: wrongly expects nothing masked
                    identity: {subject: agent-1, groups: [agents]}
                    sql: "SELECT md5(email) AS h FROM customers"
                    expect: {action: mask, masked-columns: []}
                  - name: wrongly expects a range on a masked column to pass
                    identity: {subject: agent-1, groups: [agents]}
                    sql: "SELECT id FROM customers WHERE email > 'm'"
                    expect: {action: mask, masked-columns: []}
                  - name: right about the refusal
                    identity: {subject: agent-1, groups: [agents]}
                    sql: "SELECT id FROM customers WHERE email > 'm'"
                    expect: {action: mask, refused: "operator >"}
                """);
        PolicyTestRunner.Report report = PolicyTestRunner.run(test, Map.of());
        assertThat(report.cases()).extracting(PolicyTestRunner.CaseResult::passed).containsExactly(true, false, false, true);
        assertThat(report.cases().get(1).reason()).isEqualTo("masked columns [h]; expected masked columns []");
        assertThat(report.cases().get(2).reason()).startsWith("refused: rule agents-read-only masks column customers.email");
    }

    @Test
    void policyTestJudgesThePathAndQueryAsTheGatewayDecodesThem() throws Exception {
        Files.copy(Path.of("examples/okta.yaml"), dir.resolve("okta.yaml"));
        Path test = dir.resolve("t.yaml");
        Files.writeString(test, """
                config: okta.yaml
                connection: okta
                cases:
                  - name: an escaped DELETE path is the same DELETE
                    identity: {subject: agent-1, groups: [agents]}
                    http: {method: DELETE, path: "/api/v1/%75sers/00u1"}
                    expect: {action: deny, rule: no-user-deletion}
                  - name: a malformed escape in the query is kept, as the gateway keeps it
                    identity: {subject: agent-1, groups: [agents]}
                    http: {method: GET, path: /api/v1/users, query: "limit=%zz&q=a+b"}
                    expect: {action: mask}
                """);
        PolicyTestRunner.Report report = PolicyTestRunner.run(test, Map.of());
        assertThat(report.cases()).extracting(PolicyTestRunner.CaseResult::passed).containsExactly(true, true);
    }

    @Test
    void badTestFilesArePositionedLikeConfigErrors() throws Exception {
        Files.copy(Path.of("examples/okta.yaml"), dir.resolve("okta.yaml"));
        Path test = dir.resolve("t.yaml");
        Files.writeString(test, """
                config: okta.yaml
                connection: oktaa
                cases:
                  - name: x
                    identity: {subject: a}
                    http: {method: GET, path: /}
                    expect: {action: permit}
                """);
        assertThatThrownBy(() -> PolicyTestRunner.run(test, Map.of()))
                .hasMessageContaining("t.yaml:7:22: cases[0].expect.action: expected one of allow, mask, deny, require-approval, got 'permit'");
        Files.writeString(test, Files.readString(test).replace("permit", "deny"));
        assertThatThrownBy(() -> PolicyTestRunner.run(test, Map.of()))
                .hasMessageContaining("t.yaml:2:13: connection: no connection named 'oktaa' in okta.yaml; known: okta");
    }
}
