package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.config.PolicyTestRunner;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shipped Kubernetes policy tests pass, need no secret, and exercise every rule of the example. */
class KubernetesPolicyTestFileTest {

    @Test
    void exampleKubernetesPolicyTestsPassAndCoverEveryRule() throws Exception {
        PolicyTestRunner.Report report = PolicyTestRunner.run(Path.of("examples/kubernetes-policy-test.yaml"), Map.of());

        assertThat(report.cases()).filteredOn(c -> !c.passed()).isEmpty();
        assertThat(report.passed()).isEqualTo(report.cases().size()).isGreaterThanOrEqualTo(20);
        GatewayConfig config = ConfigLoader.loadForPolicyTest(Path.of("examples/kubernetes.yaml"), Map.of());
        KubernetesConnectionConfig cluster = (KubernetesConnectionConfig) config.connections().stream()
                .filter(c -> c.name().equals("cluster")).findFirst().orElseThrow();
        assertThat(report.cases()).extracting(PolicyTestRunner.CaseResult::actualRule)
                .containsAll(cluster.policy().rules().stream().map(dev.portcullis.policy.Rule::id).toList())
                .contains("default-deny");
    }
}
