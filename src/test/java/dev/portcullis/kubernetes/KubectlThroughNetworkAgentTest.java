package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.netagent.NetworkAgent;
import dev.portcullis.testing.JoinTokens;
import dev.portcullis.testing.Ports;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kubectl through the gateway to a cluster it reaches only through a network agent: reads, a Secret
 * masked, an exec (an upgrade, through the tunnel), a refusal that never reaches the cluster; and, with the
 * agent gone, an error naming it.
 */
class KubectlThroughNetworkAgentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    KubeGatewayFixture f;
    NetworkAgent agent;
    int agentsPort;

    @BeforeEach
    void start() throws Exception {
        agentsPort = Ports.free();
        f = new KubeGatewayFixture(dir, yaml -> JoinTokens.withAgentListener(yaml, agentsPort)
                .replace("      response-timeout: 60s", "      via: agent cluster-edge\n      response-timeout: 60s"));
        JsonNode j = dev.portcullis.testing.JoinTokens.create(f.adminPort, f.token("ops-1", "platform"), "cluster-edge");
        URI api = f.api.url();
        agent = NetworkAgent.start(new NetworkAgent.Settings("cluster-edge", new InetSocketAddress("127.0.0.1", agentsPort), dir.resolve("agent"),
                Set.of(api.getHost() + ":" + api.getPort()), Optional.of(j.path("token").asText()), Optional.of(j.path("gatewayKey").asText())));
        assertThat(agent.awaitConnected(java.time.Duration.ofSeconds(10))).isTrue();
    }

    @AfterEach
    void stop() {
        if (agent != null) agent.close();
        if (f != null) f.close();
    }

    @Test
    void kubectlWorksThroughTheAgentAndWithoutItTheStatusNamesIt() throws Exception {
        Path kubeconfig = f.kubeconfig("agent", f.token("agent-1", "agents"));
        KubeGatewayFixture.Run pods = f.kubectl("1.33", kubeconfig, "get", "pods", "-n", "dev");
        assertThat(pods.exit()).as(pods.out()).isZero();
        assertThat(pods.out()).contains("web-1");
        KubeGatewayFixture.Run secret = f.kubectl("1.33", kubeconfig, "get", "secret", "db", "-n", "staging", "-o", "json");
        assertThat(secret.out()).doesNotContain(KubeGatewayFixture.SECRET_VALUE);
        KubeGatewayFixture.Run exec = f.kubectl("1.33", kubeconfig, "exec", "web-1", "-n", "dev", "--", "ls");
        assertThat(exec.exit()).as(exec.out()).isZero();
        assertThat(exec.out()).contains("app.py");
        f.api.reset();
        KubeGatewayFixture.Run forbidden = f.kubectl("1.33", kubeconfig, "get", "pods", "-n", "kube-system");
        assertThat(forbidden.out()).contains("Forbidden");
        assertThat(f.api.received()).as("nothing refused reached the cluster").isEmpty();

        agent.close();
        agent = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        KubeGatewayFixture.Run gone;
        do {
            gone = f.kubectl("1.33", kubeconfig, "get", "pods", "-n", "dev");
        } while (!gone.out().contains("network agent 'cluster-edge'") && System.nanoTime() < deadline);
        assertThat(gone.exit()).isNotZero();
        assertThat(gone.out()).contains("network agent 'cluster-edge'").contains("is not connected");
    }
}
