package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.dev.DemoOkta;
import dev.portcullis.dev.ReceivedRequest;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.SessionSummary;
import dev.portcullis.store.StoredEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trail's promise under the worst stop: the gateway, a real process serving {@code examples/okta.yaml},
 * is killed with SIGKILL while agents create users through it. After a restart on the same store the
 * chain verifies, every call whose answer an agent received is in the trail, and every change the
 * upstream received (its own log) was recorded before it was forwarded.
 */
class KillNineUnderLoadLosesNothingTest {
    static final String AUDIENCE = "portcullis";
    static final String OKTA_API_TOKEN = "00okta-api-token-the-agent-must-never-see";

    @TempDir
    Path data;

    static int freePort() throws IOException {
        return dev.portcullis.testing.Ports.free(); // never the same port twice in this JVM
    }

    Process gateway(Map<String, String> env, int adminPort) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.portcullis.cli.Main", "serve", "--config", "examples/okta.yaml", "--log-level", "warn");
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(data.resolve("gateway-" + System.nanoTime() + ".log").toFile());
        Process p = pb.start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return p;
            } catch (IOException e) {
                // not listening yet
            }
            assertThat(p.isAlive()).as("the gateway process is running").isTrue();
            Thread.sleep(200);
        }
        throw new AssertionError("the gateway did not become ready");
    }

    @Test
    void aGatewayKilledUnderLoadLosesNoAnsweredCallAndNoChange() throws Exception {
        MockOAuth2Server issuer = new MockOAuth2Server();
        issuer.start(InetAddress.getByName("127.0.0.1"), 0);
        try (DemoOkta okta = DemoOkta.start(0, OKTA_API_TOKEN, 3)) {
            int port = freePort();
            int adminPort = freePort();
            Map<String, String> env = Map.of("PORTCULLIS_OIDC_ISSUER", issuer.issuerUrl("default").toString(),
                    "PORTCULLIS_OIDC_AUDIENCE", AUDIENCE, "OKTA_URL", okta.orgUrl().toString(), "OKTA_API_TOKEN", OKTA_API_TOKEN,
                    "PORTCULLIS_DATA", data.toString(), "PORTCULLIS_OKTA_LISTEN", "127.0.0.1:" + port,
                    "PORTCULLIS_ADMIN_LISTEN", "127.0.0.1:" + adminPort);
            String token = issuer.issueToken("default", "crash-agent", AUDIENCE, Map.of("groups", List.of("agents")), 3600L)
                    .serialize();
            Process first = gateway(env, adminPort);

            // Agents create users with unique logins, and read them, until the gateway dies.
            Set<String> answered = ConcurrentHashMap.newKeySet();
            AtomicInteger next = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            List<Thread> agents = new ArrayList<>();
            for (int a = 0; a < 6; a++) {
                agents.add(Thread.ofVirtual().start(() -> {
                    while (!stop.get()) {
                        String login = "crash-" + next.incrementAndGet() + "@example.com";
                        String body = "{\"profile\":{\"firstName\":\"C\",\"lastName\":\"R\",\"email\":\"" + login
                                + "\",\"login\":\"" + login + "\"}}";
                        try {
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/users"))
                                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                                    .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200) answered.add(login);
                        } catch (IOException e) {
                            // the gateway died mid-call: that call was not answered
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }));
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (answered.size() < 200 && System.nanoTime() < until) Thread.sleep(50);
            first.destroyForcibly(); // SIGKILL
            first.waitFor(10, TimeUnit.SECONDS);
            stop.set(true);
            for (Thread t : agents) t.join(10_000);
            assertThat(answered).as("calls answered before the kill").hasSizeGreaterThanOrEqualTo(50);

            // Restarted on the crashed store, it serves again; then the trail is read.
            Process second = gateway(env, adminPort);
            second.destroy();
            second.waitFor(20, TimeUnit.SECONDS);

            List<String> changes = okta.received().stream().filter(r -> r.method().equals("POST"))
                    .map(ReceivedRequest::body).toList();
            try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
                assertThat(AuditVerifier.verify(store).ok()).as("the chain verifies after the kill").isTrue();
                StringBuilder recorded = new StringBuilder();
                StringBuilder forwarded = new StringBuilder();
                for (SessionSummary s : store.sessions(SessionQuery.newest().subject("crash-agent").limit(10_000))) {
                    for (StoredEvent e : store.events(s.id())) {
                        recorded.append(e.payload()).append('\n');
                        if (e.code().equals("PC2001")) forwarded.append(e.payload()).append('\n');
                    }
                }
                for (String login : answered) {
                    assertThat(recorded).as("answered call for %s is in the trail", login).contains(login);
                }
                assertThat(changes).as("the upstream received changes").isNotEmpty();
                for (String change : changes) {
                    String login = change.replaceAll(".*\"login\":\"([^\"]+)\".*", "$1");
                    assertThat(forwarded).as("the change the upstream received for %s was recorded before it was forwarded", login)
                            .contains(login);
                }
            }
        } finally {
            issuer.shutdown();
        }
    }
}
