package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent listener and {@code upstream.via}, as the loader reads them: the example, and what it refuses and why. */
class AgentsConfigTest {
    static final Map<String, String> ENV = Map.of("PORTCULLIS_OIDC_ISSUER", "https://idp.example.com", "PORTCULLIS_OIDC_AUDIENCE", "portcullis",
            "PG_DATABASE", "app", "PG_USER", "gateway", "PG_PASSWORD", "secret", "PORTCULLIS_DATA", "/var/lib/portcullis");

    @TempDir
    Path dir;

    Path write(String yaml) throws Exception {
        return Files.writeString(dir.resolve("c.yaml"), yaml);
    }

    @Test
    void theExampleRoutesItsDatabaseThroughItsAgent() throws Exception {
        GatewayConfig c = ConfigLoader.load(Path.of("examples/postgres-via-agent.yaml"), ENV);
        AgentsConfig agents = c.agents().orElseThrow();
        assertThat(agents.listen().getPort()).isEqualTo(8443);
        assertThat(agents.admins()).containsExactly("platform");
        assertThat(agents.certificateTtl()).isEqualTo(Duration.ofHours(24));
        assertThat(agents.caKey()).isEqualTo(Path.of("/var/lib/portcullis/agents-ca"));
        assertThat(c.connection("customers").orElseThrow().viaAgent()).contains("db-private");
    }

    @Test
    void aConnectionViaAnAgentNeedsTheAgentListener() throws Exception {
        String yaml = Files.readString(Path.of("examples/postgres-via-agent.yaml"))
                .replace("agents:\n  listen: ${PORTCULLIS_AGENTS_LISTEN:-127.0.0.1:8443}\n  admins: [platform]\n", "");
        assertThatThrownBy(() -> ConfigLoader.load(write(yaml), ENV)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("connection 'customers' goes via agent db-private, but no agent listener is configured");
    }

    @Test
    void viaSaysAgentAndAName() throws Exception {
        String base = Files.readString(Path.of("examples/postgres-via-agent.yaml"));
        assertThatThrownBy(() -> ConfigLoader.load(write(base.replace("via: agent db-private", "via: proxy db-private")), ENV))
                .hasMessageContaining("upstream.via").hasMessageContaining("agent NAME");
        assertThatThrownBy(() -> ConfigLoader.load(write(base.replace("via: agent db-private", "via: agent DB_Private")), ENV))
                .hasMessageContaining("upstream.via");
        assertThatThrownBy(() -> ConfigLoader.load(write(base.replace("  admins: [platform]\n", "  admins: [platform]\n  certificate-ttl: soon\n")), ENV))
                .hasMessageContaining("agents.certificate-ttl");
    }

    @Test
    void credentialsHeldByTheAgentNeedTheAgentAndNoPasswordHere() throws Exception {
        String base = Files.readString(Path.of("examples/postgres-via-agent.yaml"));
        String agentHolds = base.replace("      user: ${PG_USER}\n      password: ${PG_PASSWORD}\n", "      credentials: agent\n");
        assertThat(agentHolds).contains("credentials: agent");
        GatewayConfig c = ConfigLoader.load(write(agentHolds), ENV);
        assertThat(c.connection("customers").orElseThrow().viaAgent()).contains("db-private");
        assertThatThrownBy(() -> ConfigLoader.load(write(agentHolds.replace("      via: agent db-private\n", "")), ENV))
                .hasMessageContaining("upstream.via").hasMessageContaining("credentials: agent needs the agent");
        assertThatThrownBy(() -> ConfigLoader.load(write(agentHolds.replace("      credentials: agent\n",
                "      credentials: agent\n      password: ${PG_PASSWORD}\n")), ENV))
                .hasMessageContaining("the agent holds the user and password: remove them here");
        assertThatThrownBy(() -> ConfigLoader.load(write(agentHolds.replace("credentials: agent", "credentials: vault")), ENV))
                .hasMessageContaining("upstream.credentials");
    }
}
