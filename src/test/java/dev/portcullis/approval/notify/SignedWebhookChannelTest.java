package dev.portcullis.approval.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.testing.MutableClock;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What a receiver of the signed webhook gets, and what its verifier accepts and refuses. */
class SignedWebhookChannelTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final Duration TOLERANCE = Duration.ofMinutes(5);

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-02T03:05:00Z"));

    private WebhookReceiver.Received sendOne() throws Exception {
        return sendOne(Notifications.sample("apr-1"));
    }

    private WebhookReceiver.Received sendOne(Notification n) throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver(); HttpClient http = HttpClient.newHttpClient()) {
            var channel = new SignedWebhookChannel(receiver.url(), SECRET, clock);
            HttpResponse<Void> r = http.send(channel.request(n),
                    HttpResponse.BodyHandlers.discarding());
            assertThat(r.statusCode()).isEqualTo(200);
            return receiver.next();
        }
    }

    @Test
    void aReceiverVerifiesTheSignatureOfTheBodyItGot() throws Exception {
        WebhookReceiver.Received got = sendOne();

        assertThat(got.header("Portcullis-Event")).isEqualTo("approval.requested");
        assertThat(got.header("Content-Type")).isEqualTo("application/json");
        assertThat(got.header("Portcullis-Signature")).startsWith("t=" + clock.instant().getEpochSecond() + ",v1=");
        assertThat(SignedWebhookChannel.verify(got.header("Portcullis-Signature"), got.body(), SECRET, clock, TOLERANCE))
                .isTrue();
        JsonNode body = JSON.readTree(got.body());
        assertThat(body.path("event").asText()).isEqualTo("approval.requested");
        assertThat(body.path("requestId").asText()).isEqualTo("apr-1");
        assertThat(body.path("apiUrl").asText()).isEqualTo("https://gw.example.com/api/v1/approvals/apr-1");
        assertThat(body.path("approvePageUrl").asText()).isEqualTo("https://gw.example.com/approvals/apr-1");
        assertThat(body.path("approverGroups").toString()).isEqualTo("[\"sre\",\"iam-admins\"]");
        assertThat(body.path("approvalsRequired").asInt()).isEqualTo(2);
        assertThat(body.path("expiresAt").asText()).isEqualTo("2030-01-02T03:19:05Z");
        assertThat(body.path("operationSummary").asText()).startsWith("DELETE /api/v1/users/00u1");
        assertThat(body.has("operationDetail")).isTrue();
        assertThat(body.has("grant")).isTrue();
        assertThat(body.path("grant").isNull()).as("a single-use approval is no grant").isTrue();
    }

    @Test
    void aGrantIsInTheSignedBodyWithItsDurationAndMinutes() throws Exception {
        WebhookReceiver.Received got = sendOne(Notifications.grant("apr-2", Duration.ofMinutes(90)));

        assertThat(SignedWebhookChannel.verify(got.header("Portcullis-Signature"), got.body(), SECRET, clock, TOLERANCE))
                .isTrue();
        JsonNode grant = JSON.readTree(got.body()).path("grant");
        assertThat(grant.path("duration").asText()).isEqualTo("PT1H30M");
        assertThat(grant.path("minutes").asInt()).isEqualTo(90);
        assertThat(grant.has("until")).as("only known once approved").isFalse();
    }

    @Test
    void aTamperedBodyIsRefused() throws Exception {
        WebhookReceiver.Received got = sendOne();
        byte[] tampered = new String(got.body(), StandardCharsets.UTF_8)
                .replace("\"approvalsRequired\":2", "\"approvalsRequired\":1").getBytes(StandardCharsets.UTF_8);

        assertThat(tampered).isNotEqualTo(got.body());
        assertThat(SignedWebhookChannel.verify(got.header("Portcullis-Signature"), tampered, SECRET, clock, TOLERANCE))
                .isFalse();
    }

    @Test
    void aWrongSecretIsRefused() throws Exception {
        WebhookReceiver.Received got = sendOne();
        byte[] other = "fedcba9876543210fedcba9876543210".getBytes(StandardCharsets.US_ASCII);

        assertThat(SignedWebhookChannel.verify(got.header("Portcullis-Signature"), got.body(), other, clock, TOLERANCE))
                .isFalse();
    }

    @Test
    void aTimestampOutsideTheToleranceIsRefusedEitherSide() throws Exception {
        WebhookReceiver.Received got = sendOne();
        String header = got.header("Portcullis-Signature");

        clock.advance(Duration.ofMinutes(5));
        assertThat(SignedWebhookChannel.verify(header, got.body(), SECRET, clock, TOLERANCE)).isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(SignedWebhookChannel.verify(header, got.body(), SECRET, clock, TOLERANCE)).isFalse();
        clock.advance(Duration.ofMinutes(-10).minusSeconds(2));
        assertThat(SignedWebhookChannel.verify(header, got.body(), SECRET, clock, TOLERANCE)).isFalse();
    }

    @Test
    void aSecondSignatureIsAcceptedSoSecretsCanRotate() throws Exception {
        WebhookReceiver.Received got = sendOne();
        String header = got.header("Portcullis-Signature");
        String t = header.substring(0, header.indexOf(','));

        assertThat(SignedWebhookChannel.verify(t + ",v1=" + "00".repeat(32) + "," + header.substring(t.length() + 1),
                got.body(), SECRET, clock, TOLERANCE)).isTrue();
    }

    @Test
    void malformedHeadersAreRefused() throws Exception {
        WebhookReceiver.Received got = sendOne();
        String header = got.header("Portcullis-Signature");
        String v1 = header.substring(header.indexOf(',') + 1);
        long t = clock.instant().getEpochSecond();

        for (String bad : new String[] {null, "", "garbage", v1, "t=" + t, "t=" + t + ",v1=zz", "t=-" + t + "," + v1,
                "t=" + t + ",t=" + t + "," + v1, "t=99999999999999999999," + v1, "t=" + t + ",v1="}) {
            assertThat(SignedWebhookChannel.verify(bad, got.body(), SECRET, clock, TOLERANCE)).as(bad).isFalse();
        }
    }

    @Test
    void aShortSecretIsRefusedAtStartUpWithoutShowingTheUrlPath() {
        assertThatThrownBy(() -> new SignedWebhookChannel(java.net.URI.create("https://hooks.example.com/T0/xyzzy"),
                "short".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 16")
                .hasMessageNotContaining("xyzzy");
    }
}
