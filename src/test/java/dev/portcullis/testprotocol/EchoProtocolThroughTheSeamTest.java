package dev.portcullis.testprotocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.config.ConfigException;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.config.PolicyTestRunner;
import dev.portcullis.config.ProtocolModule;
import dev.portcullis.config.ProtocolRegistry;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.Replay;
import dev.portcullis.server.Gateway;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seam of issue 9: a protocol that lives only in test sources ({@link EchoProtocol}, registered by
 * one line, {@link #PROTOCOLS}, beside the installed modules) is configured from YAML, validated with
 * file:line errors, judged by policy, held for approval through the one approval flow, masked, recorded
 * in the hash-chained trail and policy-tested, with no edit outside its own files. A real OIDC issuer,
 * a real echo server over TCP, the real gateway and its admin API.
 */
class EchoProtocolThroughTheSeamTest {
    static final String AUDIENCE = "portcullis";
    static final MockOAuth2Server issuer = new MockOAuth2Server();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    /** The registration: the installed modules (HTTP, PostgreSQL) and the echo protocol. */
    static final ProtocolRegistry PROTOCOLS = ProtocolRegistry.installed().with(new EchoProtocol());
    /** Every line the echo server (the target) received. */
    static final List<String> received = new CopyOnWriteArrayList<>();

    @TempDir
    static Path data;
    static ServerSocket echoServer;
    static Gateway gateway;
    static int adminPort;
    static Path configFile;

    static final String CONFIG = """
            identity:
              issuer: ${ISSUER}
              audience: portcullis
              groups-claim: groups
            store:
              type: embedded
              path: ${DATA}/portcullis.db
            admin:
              listen: 127.0.0.1:${ADMIN}
            connections:
              - name: echo
                type: echo
                listen: 127.0.0.1:${LISTEN}
                upstream: 127.0.0.1:${ECHO}
                policy:
                  rules:
                    - id: nothing-is-dropped
                      when: {echo: {verbs: [shout], contains: drop}}
                      action: deny
                      message: nothing is dropped here
                    - id: shouting-needs-a-lead
                      when: {echo: {verbs: [shout]}}
                      action: require-approval
                      approvers: [leads]
                      hold-timeout: 1m
                    - id: agents-say-masked
                      when: {groups: [agents], echo: {verbs: [say]}}
                      action: allow
                      mask: {detectors: [email, phone]}
            """;

    @BeforeAll
    static void start() throws Exception {
        issuer.start(InetAddress.getByName("127.0.0.1"), 0);
        echoServer = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread.ofVirtual().start(() -> {
            while (!echoServer.isClosed()) {
                try {
                    Socket s = echoServer.accept();
                    Thread.ofVirtual().start(() -> echo(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        adminPort = freePort();
        configFile = data.resolve("echo.yaml");
        Files.writeString(configFile, CONFIG);
        GatewayConfig config = ConfigLoader.load(configFile, Map.of("ISSUER", issuer.issuerUrl("default").toString(),
                "DATA", data.toString(), "ADMIN", String.valueOf(adminPort), "LISTEN", String.valueOf(freePort()),
                "ECHO", String.valueOf(echoServer.getLocalPort())), PROTOCOLS);
        gateway = Gateway.start(config, Clock.systemUTC(), PROTOCOLS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) gateway.close();
        echoServer.close();
        issuer.shutdown();
    }

    static void echo(Socket s) {
        try (s; var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
             var out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                received.add(line);
                out.println(line);
            }
        } catch (IOException e) {
            // client gone
        }
    }

    static int freePort() throws IOException {
        return dev.portcullis.testing.Ports.free(); // never the same port twice in this JVM
    }

    static String token(String subject, String... groups) {
        return issuer.issueToken("default", subject, AUDIENCE, Map.of("groups", List.of(groups)), 3600L).serialize();
    }

    /** A client of the echo protocol, logged in. */
    record Client(Socket socket, BufferedReader in, PrintWriter out) implements AutoCloseable {
        static Client login(String token) throws IOException {
            Socket s = new Socket("127.0.0.1", gateway.port("echo"));
            s.setSoTimeout(30_000);
            Client c = new Client(s, new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)),
                    new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8));
            c.out.println("TOKEN " + token);
            return c;
        }

        String send(String line) throws IOException {
            out.println(line);
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void theModuleIsRegisteredBesideTheInstalledOnes() {
        assertThat(PROTOCOLS.types()).containsExactly("http", "kubernetes", "postgres", "ssh", "echo");
        assertThat(PROTOCOLS.module("echo")).get().isInstanceOf(EchoProtocol.class);
        assertThat(ProtocolRegistry.installed().types()).as("only where it is registered").containsExactly("http", "kubernetes", "postgres", "ssh");
    }

    @Test
    void itsConfigurationProblemsAreReportedWithFileAndLineLikeAnyOther() throws Exception {
        Path bad = data.resolve("bad-echo.yaml");
        Files.writeString(bad, CONFIG.replace("upstream: 127.0.0.1:${ECHO}", "upstream: nowhere")
                .replace("{echo: {verbs: [shout], contains: drop}}", "{echo: {verbz: [shout]}}"));
        assertThatThrownBy(() -> ConfigLoader.load(bad, Map.of("ISSUER", "http://127.0.0.1:1/default", "DATA", "/tmp",
                "ADMIN", "1", "LISTEN", "2"), PROTOCOLS))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("bad-echo.yaml:14:15: connections[0].upstream: expected host:port of the echo server, got 'nowhere'")
                .hasMessageContaining("connections[0].policy.rules[0].when.echo.verbz: unknown key; did you mean 'verbs'?");
    }

    @Test
    void anAllowedCommandIsForwardedAndItsAnswerMasked() throws Exception {
        try (Client c = Client.login(token("agent-1", "agents"))) {
            assertThat(c.in.readLine()).isEqualTo("OK agent-1");
            assertThat(c.send("say write to ada@example.com or +1 415 555 0100")).isEqualTo("say write to [email] or [phone]");
        }
        assertThat(received).contains("say write to ada@example.com or +1 415 555 0100");
    }

    @Test
    void aDeniedCommandGetsTheRulesReasonAndNeverReachesTheTarget() throws Exception {
        try (Client c = Client.login(token("agent-1", "agents"))) {
            c.in.readLine();
            assertThat(c.send("shout drop the table")).isEqualTo("ERR refused by rule nothing-is-dropped: nothing is dropped here");
            assertThat(c.send("whisper secrets")).startsWith("ERR refused by rule default-deny");
        }
        assertThat(received).noneMatch(l -> l.contains("drop the table") || l.contains("whisper"));
    }

    @Test
    void aBadTokenIsRefusedBeforeAnything() throws Exception {
        try (Client c = Client.login("not-a-token")) {
            assertThat(c.in.readLine()).startsWith("ERR token refused (malformed)");
            assertThat(c.in.readLine()).isNull();
        }
    }

    @Test
    void aHeldCommandRunsOnceALeadApprovesIt() throws Exception {
        try (Client c = Client.login(token("agent-2", "agents"))) {
            c.in.readLine();
            c.out.println("shout hello team");
            String held = c.in.readLine();
            assertThat(held).startsWith("HELD apr_").contains("/approvals/apr_");
            String id = held.split(" ")[1];
            assertThat(received).as("held, not forwarded").doesNotContain("shout hello team");
            CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.in.readLine();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });

            HttpResponse<String> outsider = approve(id, token("agent-9", "agents"));
            assertThat(outsider.statusCode()).isEqualTo(403);
            assertThat(approve(id, token("lee", "leads")).statusCode()).isEqualTo(200);

            assertThat(answer.get(20, TimeUnit.SECONDS)).isEqualTo("shout hello team");
            // The approval released that one command: the same command again is held anew.
            c.out.println("shout hello team");
            assertThat(c.in.readLine()).startsWith("HELD apr_").doesNotContain(id);
        }
        assertThat(received.stream().filter("shout hello team"::equals)).hasSize(1);
    }

    @Test
    void everythingIsRecordedInTheChainedTrailDeniedAttemptsIncluded() throws Exception {
        try (Client c = Client.login(token("agent-3", "agents"))) {
            c.in.readLine();
            c.send("say mail bob@example.org");
            c.send("shout drop everything");
        }
        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            var session = store.sessions(SessionQuery.newest().subject("agent-3")).getFirst();
            String transcript = new Replay(store, ZoneOffset.UTC).text(session.id());
            // The request as the agent sent it (its own action); the target's answer as the agent got it, masked.
            assertThat(transcript).contains("verdict: mask (rule agents-say-masked)", "response (16 bytes):\n      say mail [email]",
                    "shout drop everything", "verdict: deny (rule nothing-is-dropped)", "upstream: not forwarded");
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void policyTestJudgesItsCasesWithTheSamePolicy() throws Exception {
        Path test = data.resolve("echo-policy-test.yaml");
        Files.writeString(test, """
                config: echo.yaml
                connection: echo
                cases:
                  - name: agents say things
                    identity: {subject: a, groups: [agents]}
                    echo: "say hi"
                    expect: {action: mask, rule: agents-say-masked}
                  - name: nothing is dropped
                    identity: {subject: a, groups: [agents]}
                    echo: "shout drop it"
                    expect: {action: deny, rule: nothing-is-dropped}
                  - name: shouting is held
                    identity: {subject: a, groups: [agents]}
                    echo: "shout hi"
                    expect: {action: require-approval}
                  - name: a wrong expectation fails
                    identity: {subject: a, groups: [agents]}
                    echo: "whisper"
                    expect: {action: allow}
                """);
        PolicyTestRunner.Report report = PolicyTestRunner.run(test, Map.of(), PROTOCOLS);
        assertThat(report.cases()).extracting(PolicyTestRunner.CaseResult::passed).containsExactly(true, true, true, false);
        assertThat(report.cases().getLast().actualAction()).isEqualTo("deny");
    }

    @Test
    void aModuleThatCannotServeHereStopsTheStartSayingWhyBeforeAnythingListens() throws Exception {
        int admin = freePort();
        int listen = freePort();
        GatewayConfig config = ConfigLoader.load(configFile, Map.of("ISSUER", issuer.issuerUrl("default").toString(),
                "DATA", data.resolve("second").toString(), "ADMIN", String.valueOf(admin), "LISTEN", String.valueOf(listen),
                "ECHO", String.valueOf(echoServer.getLocalPort())), PROTOCOLS);
        EchoProtocol real = new EchoProtocol();
        ProtocolModule missingItsLibrary = (ProtocolModule) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ProtocolModule.class}, (proxy, method, args) -> method.getName().equals("unavailableBecause")
                        ? java.util.Optional.of("libecho.so is not installed")
                        : method.invoke(real, args));
        ProtocolRegistry registry = new ProtocolRegistry(List.of(missingItsLibrary));

        assertThatThrownBy(() -> Gateway.start(config, Clock.systemUTC(), registry))
                .hasMessage("connection 'echo' (echo) cannot be served: libecho.so is not installed");
        for (int port : new int[] {admin, listen}) {
            try (ServerSocket free = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
                assertThat(free.getLocalPort()).as("nothing listens on %d", port).isEqualTo(port);
            }
        }
    }

    @Test
    void twoModulesCannotServeOneTypeOrShareAConditionBlock() {
        ProtocolModule echo = new EchoProtocol();
        assertThatThrownBy(() -> new ProtocolRegistry(List.of(echo, new EchoProtocol())))
                .hasMessageContaining("both serve connection type 'echo'");
        ProtocolModule sameKey = (ProtocolModule) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ProtocolModule.class}, (proxy, method, args) -> method.getName().equals("type") ? "echo2"
                        : method.invoke(echo, args));
        assertThatThrownBy(() -> new ProtocolRegistry(List.of(echo, sameKey)))
                .hasMessageContaining("both use the condition block 'echo'");
    }

    @Test
    void anUnknownTypeIsAnErrorThatListsTheKnownOnes() throws Exception {
        Path bad = data.resolve("unknown-type.yaml");
        Files.writeString(bad, CONFIG.replace("type: echo", "type: gopher"));
        assertThatThrownBy(() -> ConfigLoader.load(bad, Map.of("ISSUER", "http://127.0.0.1:1/default", "DATA", "/tmp",
                "ADMIN", "1", "LISTEN", "2", "ECHO", "3"), PROTOCOLS))
                .hasMessageContaining("unknown-type.yaml:12:11: connections[0].type: connection type 'gopher' has no adapter;"
                        + " known: http, kubernetes, postgres, ssh, echo");
    }

    static HttpResponse<String> approve(String id, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/api/v1/approvals/" + id + "/approve"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("")).build(), HttpResponse.BodyHandlers.ofString());
    }
}
