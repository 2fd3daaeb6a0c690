package dev.portcullis.netagent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.testing.PrivateNetwork;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The private network for real: PostgreSQL and the demo Okta run in a network namespace of their own,
 * listening on that namespace's loopback only; the gateway (its own process, in a second namespace) cannot
 * reach them. The agent runs inside the private namespace, enrols with a join token and dials out to the
 * gateway over the veth between them. psql and the Okta tour, in the gateway's namespace, work through
 * the agent; killed with SIGKILL mid-query, the client's session ends with an error that is recorded, and
 * the gateway answers on (08001 / 502 naming the agent); started again, the agent is back without a new
 * token; frozen (no heartbeats, its connection still open), it is dropped within 20 s, and back once thawed.
 */
class NetworkAgentInPrivateNetworkTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int ISSUER = 18082;
    static final int ADMIN = 18080;
    static final int GATEWAY = 15432;
    static final int AGENTS = 18443;
    static final int OKTA_GATEWAY = 18081;
    static final int OKTA = 8090;
    static final String OKTA_TOKEN = "okta-api-token-the-agent-never-sees";

    @TempDir
    Path dir;
    PrivateNetwork net;
    PrivateNetwork.Postgres pg;
    Process agent;

    @BeforeEach
    void start() throws Exception {
        net = PrivateNetwork.create();
        pg = net.startPostgres();
        pg.psqlAsSuperuser("CREATE TABLE customers (id int PRIMARY KEY, name text, email text);"
                + " INSERT INTO customers SELECT i, 'Customer ' || i, 'user' || i || '@example.com' FROM generate_series(1, 5) i;");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void stop() {
        if (net != null) net.close(); // stops every process started through it, and removes the namespaces
    }

    static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.portcullis.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    record Run(int exit, String out, String err) {
    }

    static Run run(ProcessBuilder pb, Map<String, String> env) throws Exception {
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        var err = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofVirtual().start(() -> {
            try {
                err.complete(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (Exception e) {
                err.complete("");
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out, err.get(10, TimeUnit.SECONDS));
    }

    Run inGateway(String... command) throws Exception {
        return run(net.inGateway(command), Map.of());
    }

    Run psql(String token, String sql) throws Exception {
        return run(net.inGateway("psql", "-X", "-A", "-t", "host=127.0.0.1 port=" + GATEWAY + " dbname=customers user=agent sslmode=disable",
                "-c", sql), Map.of("PGPASSWORD", token, "PGCONNECT_TIMEOUT", "10"));
    }

    /** The replay of every session the gateway recorded (read beside the running gateway, as the CLI does). */
    String trail() throws Exception {
        StringBuilder all = new StringBuilder();
        try (var store = dev.portcullis.store.LoggedStore.openForReading(dir.resolve("gw").resolve("portcullis.db"))) {
            var replay = new dev.portcullis.recording.Replay(store, java.time.ZoneId.of("UTC"));
            for (var session : store.sessions(dev.portcullis.store.SessionQuery.newest().limit(500))) all.append(replay.text(session.id()));
        }
        return all.toString();
    }

    /** curl through the gateway's Okta connection: "STATUS BODY". */
    Run okta(String token, String method, String path) throws Exception {
        Run r = inGateway("curl", "-s", "-X", method, "-H", "Authorization: Bearer " + token, "-w", "\n%{http_code}",
                "http://127.0.0.1:" + OKTA_GATEWAY + path);
        String body = r.out().substring(0, Math.max(0, r.out().lastIndexOf('\n')));
        String status = r.out().substring(r.out().lastIndexOf('\n') + 1);
        return new Run(r.exit(), status + " " + body, r.err());
    }

    String token(String subject, String groups) throws Exception {
        Run r = inGateway("curl", "-sf", "-d", "subject=" + subject, "-d", "groups=" + groups, "http://127.0.0.1:" + ISSUER + "/token");
        assertThat(r.exit()).as(r.err()).isZero();
        return JSON.readTree(r.out()).path("access_token").asText();
    }

    Process startAgent(Map<String, String> env, String gatewayKey) throws Exception {
        ProcessBuilder pb = net.inPrivate(java("agent", "--gateway", net.gatewayAddress() + ":" + AGENTS, "--name", "db-private",
                "--allow", "127.0.0.1:5432,127.0.0.1:" + OKTA, "--state-dir", dir.resolve("agent-state").toString(), "--gateway-key", gatewayKey).toArray(String[]::new));
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("agent.log").toFile()));
        return net.start(pb);
    }

    void await(String what, java.util.concurrent.Callable<Boolean> done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (done.call()) return;
            Thread.sleep(200);
        }
        throw new AssertionError(what + " did not happen; gateway log:\n" + Files.readString(dir.resolve("gateway.log"))
                + "\nagent log:\n" + (Files.exists(dir.resolve("agent.log")) ? Files.readString(dir.resolve("agent.log")) : ""));
    }

    @Test
    void psqlReachesAPrivateDatabaseOnlyThroughTheAgentAndAKilledAgentIsOfflineAtOnce() throws Exception {
        // the gateway's side: the development issuer and the gateway, each its own process in the gateway namespace
        ProcessBuilder issuer = net.inGateway(java("dev-issuer", "--port", String.valueOf(ISSUER), "--log-level", "warn").toArray(String[]::new));
        issuer.redirectErrorStream(true).redirectOutput(dir.resolve("issuer.log").toFile());
        net.start(issuer);
        // the private side's Okta (the demo one), on the private namespace's loopback
        ProcessBuilder okta = net.inPrivate(java("dev-stand-ins", "--bind", "127.0.0.1", "--issuer-port", "18099", "--issuer-url",
                "http://127.0.0.1:18099", "--okta-port", String.valueOf(OKTA), "--okta-url", "http://127.0.0.1:" + OKTA, "--users", "5",
                "--log-level", "warn").toArray(String[]::new));
        okta.environment().put("OKTA_API_TOKEN", OKTA_TOKEN);
        okta.redirectErrorStream(true).redirectOutput(dir.resolve("okta.log").toFile());
        net.start(okta);
        // the shipped examples, both connections through the agent
        String oktaConnection = Files.readString(Path.of("examples/okta.yaml")).split("\nconnections:\n", 2)[1]
                .replace("      connect-timeout: 5s\n", "      connect-timeout: 5s\n      via: agent db-private\n");
        Path config = Files.writeString(dir.resolve("gateway.yaml"), Files.readString(Path.of("examples/postgres-via-agent.yaml")) + "\n" + oktaConnection);
        ProcessBuilder gateway = net.inGateway(java("serve", "--config", config.toString(), "--log-level", "info").toArray(String[]::new));
        gateway.environment().putAll(Map.of("PORTCULLIS_OKTA_LISTEN", "127.0.0.1:" + OKTA_GATEWAY, "OKTA_URL", "http://127.0.0.1:" + OKTA,
                "OKTA_API_TOKEN", OKTA_TOKEN));
        gateway.environment().putAll(Map.of("PORTCULLIS_OIDC_ISSUER", "http://127.0.0.1:" + ISSUER, "PORTCULLIS_OIDC_AUDIENCE", "portcullis",
                "PORTCULLIS_DATA", dir.resolve("gw").toString(), "PORTCULLIS_ADMIN_LISTEN", "127.0.0.1:" + ADMIN,
                "PORTCULLIS_PG_LISTEN", "127.0.0.1:" + GATEWAY, "PORTCULLIS_AGENTS_LISTEN", net.gatewayAddress() + ":" + AGENTS,
                "PG_HOST", "127.0.0.1", "PG_PORT", "5432", "PG_DATABASE", PrivateNetwork.Postgres.DATABASE));
        gateway.environment().putAll(Map.of("PG_USER", PrivateNetwork.Postgres.USER, "PG_PASSWORD", PrivateNetwork.Postgres.PASSWORD));
        gateway.redirectErrorStream(true).redirectOutput(dir.resolve("gateway.log").toFile());
        net.start(gateway);
        await("the gateway's readiness", () -> inGateway("curl", "-sf", "http://127.0.0.1:" + ADMIN + "/readyz").exit() == 0);

        // the database is not reachable from the gateway's namespace, neither on its loopback nor over the veth
        Run direct = run(net.inGateway("psql", "-X", "-c", "SELECT 1", "host=127.0.0.1 port=5432 dbname=app user=app"), Map.of("PGPASSWORD", "app-secret"));
        assertThat(direct.exit()).isNotZero();
        Run overVeth = run(net.inGateway("psql", "-X", "-c", "SELECT 1", "host=" + net.privateAddress() + " port=5432 dbname=app user=app connect_timeout=3"),
                Map.of("PGPASSWORD", "app-secret"));
        assertThat(overVeth.exit()).isNotZero();

        String agentToken = token("agent-1", "agents");
        Run before = psql(agentToken, "SELECT 1");
        assertThat(before.err()).contains("network agent 'db-private'").contains("is not connected");

        // a join token, made by a platform member through the admin API
        Run join = inGateway("curl", "-sf", "-H", "Authorization: Bearer " + token("ops-1", "platform"), "-d", "{\"name\":\"db-private\",\"ttl\":\"10m\"}",
                "http://127.0.0.1:" + ADMIN + "/api/v1/agents/join-tokens");
        assertThat(join.exit()).as(join.err()).isZero();
        JsonNode j = JSON.readTree(join.out());
        agent = startAgent(Map.of("PORTCULLIS_JOIN_TOKEN", j.path("token").asText()), j.path("gatewayKey").asText());
        await("psql through the agent", () -> psql(agentToken, "SELECT 1").exit() == 0);

        Run rows = psql(agentToken, "SELECT name, email FROM customers ORDER BY id");
        assertThat(rows.exit()).as(rows.err()).isZero();
        assertThat(rows.out()).contains("Customer 1|").doesNotContain("@example.com"); // masked in the gateway as ever
        Run delete = psql(agentToken, "DELETE FROM customers");
        assertThat(delete.err()).contains("Portcullis");
        assertThat(run(net.inPrivate("psql", "-X", "-A", "-t", "-c", "SELECT count(*) FROM customers", "host=127.0.0.1 port=5432 dbname=app user=app"),
                Map.of("PGPASSWORD", "app-secret")).out().strip()).as("nothing was deleted").isEqualTo("5");

        // the Okta tour through the same agent: listed, emails masked, a deletion refused (OktaThroughNetworkAgentTest
        // checks, in one process, that a refusal never reaches Okta)
        Run users = okta(agentToken, "GET", "/api/v1/users?limit=3");
        assertThat(users.out()).startsWith("200 ").contains("\"login\"").doesNotContain("@example.com\"");
        Run deletion = okta(agentToken, "DELETE", "/api/v1/users/00u1");
        assertThat(deletion.out()).startsWith("403 ");
        Run oktaOffGateway = inGateway("curl", "-s", "-m", "3", "http://127.0.0.1:" + OKTA + "/api/v1/users");
        assertThat(oktaOffGateway.exit()).as("the demo Okta is not reachable from the gateway's namespace").isNotZero();

        // SIGKILL mid-query: the kernel resets the agent's connection, the client's session ends with an error
        Path slowErr = dir.resolve("slow.err");
        ProcessBuilder slow = net.inGateway("psql", "-X", "-A", "-t", "host=127.0.0.1 port=" + GATEWAY + " dbname=customers user=agent sslmode=disable",
                "-c", "SELECT count(*) FROM generate_series(1, 2000000000)"); // allowed, and long
        slow.environment().put("PGPASSWORD", agentToken);
        slow.redirectOutput(dir.resolve("slow.out").toFile()).redirectError(slowErr.toFile());
        Process query = net.start(slow);
        Thread.sleep(2000);
        assertThat(query.isAlive()).as("the long statement is running through the agent").isTrue();
        agent.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        agent.destroyForcibly();
        assertThat(agent.waitFor(10, TimeUnit.SECONDS)).isTrue();
        long killed = System.nanoTime();
        assertThat(query.waitFor(10, TimeUnit.SECONDS)).as("the query in flight ends").isTrue();
        assertThat(query.exitValue()).isNotZero();
        assertThat(Files.readString(slowErr)).isNotBlank();
        await("the agent seen offline", () -> psql(agentToken, "SELECT 1").err().contains("is not connected"));
        assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(5));
        assertThat(okta(agentToken, "GET", "/api/v1/users?limit=1").out()).startsWith("502 ").contains("network agent 'db-private'");
        assertThat(inGateway("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:" + ADMIN + "/readyz").out())
                .as("the gateway is still ready").isEqualTo("200");
        // the trail: the session that was cut, and the refusals since
        await("the trail showing the cut session and the refusal", () -> {
            String trail = trail();
            return trail.contains("generate_series(1, 2000000000)") && trail.contains("network agent 'db-private': is not connected");
        });

        // started again from its state: back without a new token
        agent = startAgent(Map.of(), j.path("gatewayKey").asText());
        await("psql through the agent again", () -> psql(agentToken, "SELECT 1").exit() == 0);

        // frozen (SIGSTOP: its connection stays open, as with a network that went silent): no heartbeat, so the
        // gateway drops it within its 20 s and says so; thawed, it comes back on its own
        long frozen = System.nanoTime();
        new ProcessBuilder("kill", "-STOP", String.valueOf(agent.pid())).start().waitFor();
        try {
            await("the silent agent dropped", () -> psql(agentToken, "SELECT 1").err().contains("is not connected"));
            assertThat(Duration.ofNanos(System.nanoTime() - frozen)).isLessThan(Duration.ofSeconds(30));
        } finally {
            new ProcessBuilder("kill", "-CONT", String.valueOf(agent.pid())).start().waitFor();
        }
        await("psql through the thawed agent", () -> psql(agentToken, "SELECT 1").exit() == 0);
    }
}
