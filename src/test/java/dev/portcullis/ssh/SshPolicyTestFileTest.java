package dev.portcullis.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.config.PolicyTestRunner;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shipped SSH policy tests pass without any secret and exercise every rule of the example. */
class SshPolicyTestFileTest {
    @Test
    void exampleSshPolicyTestsPassAndCoverEveryRule() throws Exception {
        PolicyTestRunner.Report report = PolicyTestRunner.run(Path.of("examples/ssh-policy-test.yaml"), Map.of());
        assertThat(report.cases()).filteredOn(c -> !c.passed()).isEmpty();
        assertThat(report.passed()).isEqualTo(report.cases().size()).isGreaterThanOrEqualTo(15);
        GatewayConfig config = ConfigLoader.loadForPolicyTest(Path.of("examples/ssh.yaml"), Map.of());
        assertThat(report.cases()).extracting(PolicyTestRunner.CaseResult::actualRule)
                .containsAll(config.connections().getFirst().policy().rules().stream().map(dev.portcullis.policy.Rule::id).toList())
                .contains("default-deny");
    }
}
