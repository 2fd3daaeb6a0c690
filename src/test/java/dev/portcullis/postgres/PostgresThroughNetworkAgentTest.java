package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.netagent.NetworkAgent;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.testing.JoinTokens;
import dev.portcullis.testing.Ports;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * psql through the gateway to a database it reaches only through a network agent: the agent enrols with a
 * one-time join token, dials out, and carries the session; offline, revoked or refused by its allow-list,
 * the agent's name is in the error (SQLSTATE 08001) and the refusal is recorded. (The private network
 * for real, with namespaces, is {@code NetworkAgentInPrivateNetworkTest}.)
 */
class PostgresThroughNetworkAgentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    PostgresGatewayFixture f;
    int agentsPort;
    NetworkAgent agent;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        agentsPort = Ports.free();
        java.nio.file.Files.createDirectories(dir.resolve("gw"));
        f = new PostgresGatewayFixture(dir.resolve("gw"), yaml -> JoinTokens.withAgentListener(yaml, agentsPort)
                .replace("      password: ${PG_PASSWORD}\n", "      password: ${PG_PASSWORD}\n      via: agent db-private\n"));
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) agent.close();
        if (f != null) f.close();
    }

    HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort + path))
                .header("Authorization", "Bearer " + f.token("ops-1", "platform"))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode joinToken(String name, String ttl) throws Exception {
        HttpResponse<String> r = admin("POST", "/api/v1/agents/join-tokens", "{\"name\":\"" + name + "\",\"ttl\":\"" + ttl + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body());
    }

    NetworkAgent startAgent(String name, Path state, Optional<String> token, Optional<String> key, String... allow) throws Exception {
        return NetworkAgent.start(new NetworkAgent.Settings(name, new InetSocketAddress("127.0.0.1", agentsPort), state, Set.of(allow), token, key));
    }

    void awaitConnected(String name, boolean connected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (JsonNode a : JSON.readTree(admin("GET", "/api/v1/agents", null).body()).path("agents")) {
                if (a.path("name").asText().equals(name) && a.path("connected").asBoolean() == connected) return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("agent " + name + (connected ? " never connected" : " never went away"));
    }

    String replay() throws Exception {
        StringBuilder all = new StringBuilder();
        try (AuditStore store = LoggedStore.openForReading(dir.resolve("gw").resolve("portcullis.db"))) {
            Replay replay = new Replay(store, ZoneId.of("UTC"));
            for (var s : store.sessions(SessionQuery.newest().limit(200))) all.append(replay.text(s.id()));
        }
        return all.toString();
    }

    String target() {
        return "127.0.0.1:" + f.postgres.getPort();
    }

    @Test
    void psqlReachesTheDatabaseThroughTheAgentAndItsErrorsNameTheAgent() throws Exception {
        String token = f.token("agent-1", "agents");
        // before any agent: refused at once, 08001 naming the agent, recorded
        PostgresGatewayFixture.PsqlRun offline = f.psql(token, "SELECT count(*) FROM customers");
        assertThat(offline.exitCode()).isNotZero();
        assertThat(offline.err()).contains("network agent 'db-private'").contains("is not connected");

        JsonNode join = joinToken("db-private", "1h");
        // the token alone: it carries the gateway's host key, which the agent pins
        agent = startAgent("db-private", dir.resolve("agent"), Optional.of(join.path("token").asText()), Optional.empty(), target());
        awaitConnected("db-private", true);

        // readiness and metrics show it (an agent's state does not decide the gateway's readiness)
        HttpResponse<String> ready = admin("GET", "/readyz", null);
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(ready.body()).path("checks").path("agents").asText()).startsWith("db-private: connected from 127.0.0.1");
        assertThat(admin("GET", "/metrics", null).body()).contains("portcullis_agent_connected{agent=\"db-private\"} 1.0");

        PostgresGatewayFixture.PsqlRun ok = f.psql(token, "SELECT name, email FROM customers WHERE id = 1");
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("Customer 1").doesNotContain("user1@example.com"); // masked as ever
        // a refused statement still never reaches the database
        PostgresGatewayFixture.PsqlRun refused = f.psql(token, "DELETE FROM customers");
        assertThat(refused.err()).contains("Portcullis");
        assertThat(f.count("customers")).isEqualTo(20);

        // the agent goes away: the next session is refused at once with its name
        agent.close();
        agent = null;
        awaitConnected("db-private", false);
        long started = System.nanoTime();
        PostgresGatewayFixture.PsqlRun gone = f.psql(token, "SELECT 1");
        assertThat(gone.err()).contains("network agent 'db-private'").contains("is not connected");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        assertThat(replay()).contains("refused: the database cannot be reached: network agent 'db-private': is not connected");
        HttpResponse<String> stillReady = admin("GET", "/readyz", null);
        assertThat(stillReady.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(stillReady.body()).path("checks").path("agents").asText()).isEqualTo("db-private: offline");
        assertThat(admin("GET", "/metrics", null).body()).contains("portcullis_agent_connected{agent=\"db-private\"} 0.0");
    }

    @Test
    void aTargetOffTheAgentsAllowListIsNeverDialled() throws Exception {
        JsonNode join = joinToken("db-private", "1h");
        agent = startAgent("db-private", dir.resolve("agent"), Optional.of(join.path("token").asText()),
                Optional.of(join.path("gatewayKey").asText()), "127.0.0.1:1"); // not the database
        awaitConnected("db-private", true);
        PostgresGatewayFixture.PsqlRun r = f.psql(f.token("agent-1", "agents"), "SELECT 1");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("network agent 'db-private'").contains("allow-list");
    }

    @Test
    void joinTokensAreOneTimeShortLivedAndExactAndRefusalsAreRecorded() throws Exception {
        JsonNode join = joinToken("db-private", "1h");
        String key = join.path("gatewayKey").asText();
        assertThatThrownBy(() -> startAgent("db-private", dir.resolve("wrong"), Optional.of("not-the-token"), Optional.of(key), target()))
                .hasMessageContaining("refused");
        String bareSecret = join.path("token").asText().substring(0, join.path("token").asText().indexOf('.'));
        assertThatThrownBy(() -> startAgent("db-private", dir.resolve("pin"), Optional.of(bareSecret),
                Optional.of("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), target()))
                .as("another gateway key than the listener's").hasMessageContaining("is not the one given");
        assertThatThrownBy(() -> startAgent("db-private", dir.resolve("pin2"), Optional.of(join.path("token").asText()),
                Optional.of("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), target()))
                .as("a --gateway-key that contradicts the token's").hasMessageContaining("refusing to enrol");
        agent = startAgent("db-private", dir.resolve("agent"), Optional.of(join.path("token").asText()), Optional.of(key), target());
        assertThatThrownBy(() -> startAgent("db-private", dir.resolve("again"), Optional.of(join.path("token").asText()), Optional.of(key), target()))
                .as("the same token a second time").hasMessageContaining("refused");

        JsonNode shortLived = joinToken("db-other", "1s");
        Thread.sleep(1500);
        assertThatThrownBy(() -> startAgent("db-other", dir.resolve("late"), Optional.of(shortLived.path("token").asText()), Optional.of(key), target()))
                .hasMessageContaining("refused");

        String trail = replay();
        assertThat(trail).contains("authentication failed (join-token-refused)")
                .contains("wrong join token for agent db-private")
                .contains("this join token was used already")
                .contains("this join token expired");
    }

    @Test
    void revokingAnAgentDropsItsTunnelAtOnceAndItCannotComeBack() throws Exception {
        JsonNode join = joinToken("db-private", "1h");
        agent = startAgent("db-private", dir.resolve("agent"), Optional.of(join.path("token").asText()),
                Optional.of(join.path("gatewayKey").asText()), target());
        awaitConnected("db-private", true);
        // a session is open through it
        Process open = f.startPsql("disable", f.token("agent-1", "agents"), dir.resolve("open.out"), dir.resolve("open.err"),
                "SELECT 1", "SELECT count(*) FROM generate_series(1, 2000000000)");
        Thread.sleep(1500);
        assertThat(open.isAlive()).as("the long statement is running through the agent").isTrue();

        long started = System.nanoTime();
        HttpResponse<String> revoked = admin("POST", "/api/v1/agents/db-private/revoke", null);
        assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
        awaitConnected("db-private", false);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("dropped within a second").isLessThan(Duration.ofSeconds(1));
        assertThat(open.waitFor(10, TimeUnit.SECONDS)).as("the session through it ends").isTrue();
        assertThat(open.exitValue()).isNotZero();

        Thread.sleep(2500); // the agent tries again, and is refused
        JsonNode listed = JSON.readTree(admin("GET", "/api/v1/agents", null).body()).path("agents").get(0);
        assertThat(listed.path("state").asText()).isEqualTo("revoked");
        assertThat(listed.path("connected").asBoolean()).isFalse();
        assertThat(f.psql(f.token("agent-1", "agents"), "SELECT 1").err()).contains("network agent 'db-private'");
        assertThat(replay()).contains("agent db-private was revoked");
    }
}
