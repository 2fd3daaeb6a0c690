package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.portcullis.approval.notify.SignedWebhookChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A held call tells approvers through a signed webhook, which a receiver can verify, while the agent waits. */
class ApprovalNotificationTest {
    private static final String SECRET = "webhook-secret-of-enough-bytes";

    @TempDir
    Path data;

    record Received(String signature, byte[] body) {
    }

    /** A webhook receiver on a free port that queues what it gets. */
    private static HttpServer receiver(BlockingQueue<Received> received) throws IOException {
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        receiver.createContext("/hooks", exchange -> {
            received.add(new Received(exchange.getRequestHeaders().getFirst("Portcullis-Signature"),
                    exchange.getRequestBody().readAllBytes()));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        return receiver;
    }

    /** Adds an {@code approvals:} section that notifies {@code receiver} to the config. */
    private static UnaryOperator<String> notifying(HttpServer receiver) {
        String approvals = """
                approvals:
                  notify:
                    - type: webhook
                      url: http://127.0.0.1:%d/hooks
                      secret: %s

                connections:""".formatted(receiver.getAddress().getPort(), SECRET);
        return yaml -> yaml.replaceFirst("(?m)^connections:", approvals);
    }

    @Test
    void aHeldCallSendsASignedWebhookThatTheReceiverVerifies() throws Exception {
        BlockingQueue<Received> received = new LinkedBlockingQueue<>();
        HttpServer receiver = receiver(received);
        try (OktaGatewayFixture f = new OktaGatewayFixture(data, 2,
                yaml -> notifying(receiver).apply(OktaGatewayFixture.holdTimeout("4s").apply(yaml)))) {
            String user = f.okta.userIds().getFirst();
            var response = f.send("POST", "/api/v1/users/" + user + "/roles", f.token("agent-1", "agents"),
                    "{\"type\":\"SUPER_ADMIN\"}");

            Received hook = received.poll(10, TimeUnit.SECONDS);
            assertThat(hook).as("webhook delivered").isNotNull();
            assertThat(SignedWebhookChannel.verify(hook.signature(), hook.body(), SECRET.getBytes(StandardCharsets.UTF_8),
                    Clock.systemUTC(), Duration.ofMinutes(5))).isTrue();
            assertThat(SignedWebhookChannel.verify(hook.signature(), hook.body(), "another-secret-of-16-bytes".getBytes(
                    StandardCharsets.UTF_8), Clock.systemUTC(), Duration.ofMinutes(5))).isFalse();
            JsonNode n = new ObjectMapper().readTree(hook.body());
            assertThat(n.path("ruleId").asText()).isEqualTo("admin-roles-need-approval");
            assertThat(n.path("requesterSubject").asText()).isEqualTo("agent-1");
            assertThat(n.path("operationSummary").asText()).contains("/roles");
            assertThat(n.path("grant").isNull()).isTrue();
            assertThat(response.statusCode()).isEqualTo(403); // nobody approved: pending, with the id
            assertThat(response.body()).contains(n.path("requestId").asText());
            assertThat(f.okta.received()).isEmpty();
            // The delivery is part of the trail: in the agent's own session, in order after the request.
            String id = n.path("requestId").asText();
            String transcript = null;
            for (int i = 0; i < 50; i++) {
                try (var store = dev.portcullis.store.LoggedStore.openForReading(data.resolve("portcullis.db"))) {
                    var sessions = store.sessions(dev.portcullis.store.SessionQuery.newest().subject("agent-1"));
                    transcript = sessions.isEmpty() ? "" : new dev.portcullis.recording.Replay(store, java.time.ZoneOffset.UTC)
                            .text(sessions.getFirst().id());
                }
                if (transcript.contains("approval.notified")) break;
                Thread.sleep(100);
            }
            assertThat(transcript).contains("approval " + id + " requested by agent-1")
                    .contains("approval " + id + " notified through webhook:127.0.0.1");
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void aHeldCallUnderAGrantRuleTellsApproversHowLongTheGrantLasts() throws Exception {
        BlockingQueue<Received> received = new LinkedBlockingQueue<>();
        HttpServer receiver = receiver(received);
        UnaryOperator<String> grant = yaml -> OktaGatewayFixture.holdTimeout("2s").apply(yaml)
                .replace("hold-timeout: 2s", "hold-timeout: 2s\n          grant: 20m");
        try (OktaGatewayFixture f = new OktaGatewayFixture(data, 2, yaml -> notifying(receiver).apply(grant.apply(yaml)))) {
            String user = f.okta.userIds().getFirst();
            var response = f.send("POST", "/api/v1/users/" + user + "/roles", f.token("agent-1", "agents"),
                    "{\"type\":\"SUPER_ADMIN\"}");

            Received hook = received.poll(10, TimeUnit.SECONDS);
            assertThat(hook).as("webhook delivered").isNotNull();
            assertThat(SignedWebhookChannel.verify(hook.signature(), hook.body(), SECRET.getBytes(StandardCharsets.UTF_8),
                    Clock.systemUTC(), Duration.ofMinutes(5))).isTrue();
            JsonNode n = new ObjectMapper().readTree(hook.body());
            assertThat(n.path("ruleId").asText()).isEqualTo("admin-roles-need-approval");
            assertThat(n.path("grant").path("duration").asText()).isEqualTo("PT20M");
            assertThat(n.path("grant").path("minutes").asInt()).isEqualTo(20);
            assertThat(response.statusCode()).isEqualTo(403);
            assertThat(f.okta.received()).isEmpty();
        } finally {
            receiver.stop(0);
        }
    }
}
