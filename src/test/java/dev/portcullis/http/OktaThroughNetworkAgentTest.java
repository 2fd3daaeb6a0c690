package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.netagent.NetworkAgent;
import dev.portcullis.testing.JoinTokens;
import dev.portcullis.testing.Ports;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Okta tour through a network agent: the HTTP data path's upstream connections go through the
 * agent's tunnel, with masking and refusals as ever; with the agent gone, a 502 problem names it.
 */
class OktaThroughNetworkAgentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    OktaGatewayFixture f;
    NetworkAgent agent;
    int agentsPort;

    @BeforeEach
    void start() throws Exception {
        agentsPort = Ports.free();
        Files.createDirectories(dir.resolve("gw"));
        f = new OktaGatewayFixture(dir.resolve("gw"), 3, yaml -> JoinTokens.withAgentListener(yaml, agentsPort)
                .replace("      connect-timeout: 5s\n", "      connect-timeout: 5s\n      via: agent okta-edge\n"));
    }

    @AfterEach
    void stop() {
        if (agent != null) agent.close();
        if (f != null) f.close();
    }

    @Test
    void theOktaTourGoesThroughTheAgentAndWithoutItA502NamesIt() throws Exception {
        String token = f.token("agent-1", "agents");
        HttpResponse<String> offline = f.send("GET", "/api/v1/users?limit=2", token, null);
        assertThat(offline.statusCode()).isEqualTo(502);
        assertThat(offline.body()).contains("network agent 'okta-edge'").contains("is not connected");
        assertThat(f.okta.received()).as("nothing reached Okta").isEmpty();

        JsonNode j = dev.portcullis.testing.JoinTokens.create(f.adminPort, f.token("ops-1", "platform"), "okta-edge");
        URI okta = f.okta.orgUrl();
        agent = NetworkAgent.start(new NetworkAgent.Settings("okta-edge", new InetSocketAddress("127.0.0.1", agentsPort), dir.resolve("agent"),
                Set.of(okta.getHost() + ":" + okta.getPort()), Optional.of(j.path("token").asText()), Optional.of(j.path("gatewayKey").asText())));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        HttpResponse<String> listed;
        do {
            listed = f.send("GET", "/api/v1/users?limit=2", token, null);
            if (listed.statusCode() == 200) break;
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        assertThat(listed.body()).contains("\"login\"").doesNotContain("@example.com\""); // emails masked as ever
        assertThat(f.okta.received()).isNotEmpty().allSatisfy(r -> assertThat(r.authorization()).contains("SSWS " + OktaGatewayFixture.OKTA_API_TOKEN));

        agent.close();
        agent = null;
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        HttpResponse<String> after;
        do {
            after = f.send("GET", "/api/v1/users?limit=2", token, null);
            if (after.statusCode() == 502) break;
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        assertThat(after.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(after.body()).path("detail").asText()).contains("network agent 'okta-edge'");
    }
}
