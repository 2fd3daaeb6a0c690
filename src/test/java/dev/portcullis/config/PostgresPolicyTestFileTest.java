package dev.portcullis.config;

import dev.portcullis.postgres.PostgresConnectionConfig;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PostgresPolicyTestFileTest {

    @Test
    void examplePostgresPolicyTestsPassAndCoverEveryRuleWithoutAnySecret() throws Exception {
        PolicyTestRunner.Report report = PolicyTestRunner.run(Path.of("examples/postgres-policy-test.yaml"), Map.of());

        assertThat(report.cases()).filteredOn(c -> !c.passed()).isEmpty();
        assertThat(report.passed()).isEqualTo(report.cases().size()).isGreaterThanOrEqualTo(20);
        GatewayConfig config = ConfigLoader.loadForPolicyTest(Path.of("examples/postgres.yaml"), Map.of());
        PostgresConnectionConfig customers = (PostgresConnectionConfig) config.connections().stream()
                .filter(c -> c.name().equals("customers")).findFirst().orElseThrow();
        assertThat(report.cases()).extracting(PolicyTestRunner.CaseResult::actualRule)
                .containsAll(customers.policy().rules().stream().map(dev.portcullis.policy.Rule::id).toList())
                .contains("default-deny");
    }
}
