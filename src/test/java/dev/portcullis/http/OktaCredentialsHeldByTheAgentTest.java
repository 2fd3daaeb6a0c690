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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code credentials: agent} on an HTTP connection: Okta's API token is the network agent's alone. The
 * gateway has none in its configuration; the agent sets it on each request; the AI agent's own token
 * never reaches Okta; an agent without the credential gets Okta's own 401, and nothing of a credential
 * was sent.
 */
class OktaCredentialsHeldByTheAgentTest {
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
                .replace("      connect-timeout: 5s\n", "      connect-timeout: 5s\n      via: agent okta-edge\n")
                .replace("    credentials:\n      header: Authorization\n      value: SSWS ${OKTA_API_TOKEN}\n", "    credentials: agent\n"));
    }

    @AfterEach
    void stop() {
        if (agent != null) agent.close();
        if (f != null) f.close();
    }

    void startAgent(Path state, Map<String, AgentCredentials.Target> credentials) throws Exception {
        JsonNode j = dev.portcullis.testing.JoinTokens.create(f.adminPort, f.token("ops-1", "platform"), "okta-edge");
        URI okta = f.okta.orgUrl();
        agent = NetworkAgent.start(new NetworkAgent.Settings("okta-edge", List.of(new InetSocketAddress("127.0.0.1", agentsPort)), state,
                Set.of(okta.getHost() + ":" + okta.getPort()), Optional.of(j.path("token").asText()), Optional.of(j.path("gatewayKey").asText()),
                Map.of(), credentials));
        assertThat(agent.awaitConnected(java.time.Duration.ofSeconds(10))).isTrue();
    }

    @Test
    void theAgentAddsOktasTokenAndTheGatewayNeverHasIt() throws Exception {
        URI okta = f.okta.orgUrl();
        startAgent(dir.resolve("agent"), Map.of(okta.getHost() + ":" + okta.getPort(), new AgentCredentials.Target(okta.getHost(), okta.getPort(), false,
                "Authorization", "SSWS " + OktaGatewayFixture.OKTA_API_TOKEN)));
        String token = f.token("agent-1", "agents");
        HttpResponse<String> listed = f.send("GET", "/api/v1/users?limit=2", token, null);
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        assertThat(listed.body()).contains("\"login\"").doesNotContain("@example.com\"");
        HttpResponse<String> created = f.send("POST", "/api/v1/users?activate=false", token,
                "{\"profile\":{\"firstName\":\"Ada\",\"lastName\":\"L\",\"email\":\"ada@example.com\",\"login\":\"ada@example.com\"}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        assertThat(f.okta.received()).as("the body passed through the agent as it was sent")
                .anySatisfy(r -> assertThat(r.method() + " " + r.body()).startsWith("POST").contains("\"firstName\":\"Ada\""));
        assertThat(f.okta.received()).isNotEmpty()
                .allSatisfy(r -> assertThat(r.authorization()).contains("SSWS " + OktaGatewayFixture.OKTA_API_TOKEN));
        try (Stream<Path> files = Files.walk(dir.resolve("gw"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.ISO_8859_1))
                        .as(file.toString()).doesNotContain(OktaGatewayFixture.OKTA_API_TOKEN);
            }
        }
    }

    @Test
    void anAgentWithoutTheCredentialGetsOktasOwn401AndNoCredentialIsSent() throws Exception {
        startAgent(dir.resolve("agent"), Map.of());
        HttpResponse<String> refused = f.send("GET", "/api/v1/users?limit=2", f.token("agent-1", "agents"), null);
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(f.okta.received()).isNotEmpty().allSatisfy(r -> assertThat(r.authorization()).isEmpty());
    }
}
