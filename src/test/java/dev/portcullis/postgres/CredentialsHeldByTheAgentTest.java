package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.netagent.NetworkAgent;
import dev.portcullis.testing.JoinTokens;
import dev.portcullis.testing.Ports;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code credentials: agent}: the database's user and password are the network agent's alone. The gateway
 * has no password in its configuration or environment, yet psql works through it, statements judged and
 * masked as ever; a cancel goes through the agent too; an agent without the login, or with a wrong
 * password, makes a clear error.
 */
class CredentialsHeldByTheAgentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    PostgresGatewayFixture f;
    NetworkAgent agent;
    int agentsPort;

    @BeforeEach
    void start() throws Exception {
        agentsPort = Ports.free();
        Files.createDirectories(dir.resolve("gw"));
        f = new PostgresGatewayFixture(dir.resolve("gw"), yaml -> JoinTokens.withAgentListener(yaml, agentsPort)
                .replace("      user: ${PG_USER}\n      password: ${PG_PASSWORD}\n", "      credentials: agent\n      via: agent db-private\n"));
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) agent.close();
        if (f != null) f.close();
    }

    NetworkAgent startAgent(Path state, Map<String, dev.portcullis.postgres.AgentLogin.Target> logins) throws Exception {
        JsonNode j = dev.portcullis.testing.JoinTokens.create(f.adminPort, f.token("ops-1", "platform"), "db-private");
        String target = "127.0.0.1:" + f.postgres.getPort();
        NetworkAgent started = NetworkAgent.start(new NetworkAgent.Settings("db-private", List.of(new InetSocketAddress("127.0.0.1", agentsPort)), state,
                Set.of(target), Optional.of(j.path("token").asText()), Optional.of(j.path("gatewayKey").asText()), logins));
        assertThat(started.awaitConnected(Duration.ofSeconds(10))).isTrue();
        return started;
    }

    Map<String, dev.portcullis.postgres.AgentLogin.Target> login(String password) {
        return Map.of("127.0.0.1:" + f.postgres.getPort(),
                new dev.portcullis.postgres.AgentLogin.Target("127.0.0.1", f.postgres.getPort(), PostgresGatewayFixture.DB_USER, password));
    }

    @Test
    void theAgentLogsInAndTheGatewayNeverHasThePassword() throws Exception {
        agent = startAgent(dir.resolve("agent"), login(PostgresGatewayFixture.DB_PASSWORD));
        String token = f.token("agent-1", "agents");
        PostgresGatewayFixture.PsqlRun who = f.psql(token, "SELECT current_user", "SELECT name, email FROM customers WHERE id = 2");
        assertThat(who.exitCode()).as(who.err()).isZero();
        assertThat(who.out()).contains(PostgresGatewayFixture.DB_USER).contains("Customer 2").doesNotContain("user2@example.com");
        PostgresGatewayFixture.PsqlRun refused = f.psql(token, "DELETE FROM customers");
        assertThat(refused.err()).contains("Portcullis");
        assertThat(f.count("customers")).isEqualTo(20);

        // nothing the gateway wrote holds the password: it never had it
        try (Stream<Path> files = Files.walk(dir.resolve("gw"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.ISO_8859_1))
                        .as(file.toString()).doesNotContain(PostgresGatewayFixture.DB_PASSWORD);
            }
        }
        assertThat(Files.readString(dir.resolve("gw").resolve("postgres.yaml"))).doesNotContain("password: ${PG_PASSWORD}")
                .contains("credentials: agent");
    }

    @Test
    void aCancelGoesThroughTheAgentToo() throws Exception {
        agent = startAgent(dir.resolve("agent"), login(PostgresGatewayFixture.DB_PASSWORD));
        try (Connection c = f.jdbc(f.token("agent-1", "agents")); Statement st = c.createStatement()) {
            CompletableFuture<Throwable> running = CompletableFuture.supplyAsync(() -> {
                try {
                    st.execute("SELECT count(*) FROM generate_series(1, 2000000000)"); // allowed, and long
                    return null;
                } catch (Exception e) {
                    return e;
                }
            });
            Thread.sleep(1500);
            long t0 = System.nanoTime();
            st.cancel();
            Throwable outcome = running.get(10, TimeUnit.SECONDS);
            assertThat(outcome).isInstanceOfSatisfying(java.sql.SQLException.class, e -> assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("57014"));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void anAgentWithoutTheLoginOrWithAWrongPasswordMakesAClearError() throws Exception {
        agent = startAgent(dir.resolve("agent"), Map.of());
        PostgresGatewayFixture.PsqlRun none = f.psql(f.token("agent-1", "agents"), "SELECT 1");
        assertThat(none.exitCode()).isNotZero();
        assertThat(none.err()).contains("the agent did not log in");
        agent.close();

        agent = startAgent(dir.resolve("agent2"), login("not-the-password"));
        PostgresGatewayFixture.PsqlRun wrong = f.psql(f.token("agent-1", "agents"), "SELECT 1");
        assertThat(wrong.exitCode()).isNotZero();
        assertThat(wrong.err()).contains("Portcullis network agent: its login to").contains("failed");
        assertThatThrownBy(() -> f.jdbc(f.token("agent-1", "agents"))).hasMessageContaining("network agent");
    }
}
