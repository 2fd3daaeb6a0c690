package dev.portcullis.approval.notify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Delivery against real receivers on 127.0.0.1: retries, giving up, never blocking the caller. */
class NotifierTest {
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final Notifier.Settings FAST = Notifier.Settings.DEFAULTS
            .withBackoff(Duration.ofMillis(10), Duration.ofMillis(40))
            .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5));

    private final RecordingListener listener = new RecordingListener();

    private Notifier notifier(WebhookReceiver receiver, Notifier.Settings settings) {
        return new Notifier(List.of(new SignedWebhookChannel(receiver.url(), SECRET)), listener, settings);
    }

    @Test
    void aReceiverThatFailsTwiceIsDeliveredOnTheThirdAttemptEachSignedAfresh() throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver(500, 503); Notifier notifier = notifier(receiver, FAST)) {
            notifier.send(Notifications.sample("apr-1"));

            RecordingListener.Outcome outcome = listener.next();
            assertThat(outcome).isEqualTo(new RecordingListener.Outcome(true, "webhook:127.0.0.1", "apr-1", 3, null));
            for (int i = 0; i < 3; i++) {
                WebhookReceiver.Received got = receiver.next();
                assertThat(SignedWebhookChannel.verify(got.header("Portcullis-Signature"), got.body(), SECRET,
                        Clock.systemUTC(), Duration.ofMinutes(5))).isTrue();
            }
        }
    }

    @Test
    void tooManyRequestsIsRetried() throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver(429); Notifier notifier = notifier(receiver, FAST)) {
            notifier.send(Notifications.sample("apr-1"));

            assertThat(listener.next().attempts()).isEqualTo(2);
        }
    }

    @Test
    void aBadRequestIsGivenUpAfterOneAttempt() throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver(400); Notifier notifier = notifier(receiver, FAST)) {
            notifier.send(Notifications.sample("apr-1"));

            RecordingListener.Outcome outcome = listener.next();
            assertThat(outcome.delivered()).isFalse();
            assertThat(outcome.attempts()).isEqualTo(1);
            assertThat(outcome.lastError()).isEqualTo("HTTP 400: scripted_failure");
            assertThat(receiver.received).hasSize(1);
        }
    }

    @Test
    void aReceiverThatIsDownFailsAfterTheMaxAttempts() throws Exception {
        var channel = new SlackWebhookChannel(WebhookReceiver.nobodyListening());
        try (Notifier notifier = new Notifier(List.of(channel), listener, FAST)) {
            notifier.send(Notifications.sample("apr-1"));

            RecordingListener.Outcome outcome = listener.next();
            assertThat(outcome.delivered()).isFalse();
            assertThat(outcome.channel()).isEqualTo("slack:127.0.0.1");
            assertThat(outcome.attempts()).isEqualTo(5);
            assertThat(outcome.lastError()).contains("ConnectException");
        }
    }

    @Test
    void notifyReturnsAtOnceWhileTheReceiverHangs() throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver(); Notifier notifier = notifier(receiver, FAST)) {
            CountDownLatch hang = receiver.holdRequests();
            long started = System.nanoTime();

            notifier.send(Notifications.sample("apr-1"));

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
            receiver.next();
            assertThat(hang.getCount()).as("the receiver is still holding the request").isEqualTo(1);
            assertThat(listener.outcomes).isEmpty();
            hang.countDown();
            assertThat(listener.next().delivered()).isTrue();
        }
    }

    @Test
    void aReceiverThatNeverAnswersTimesOutAndIsRetried() throws Exception {
        var settings = FAST.withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(300));
        try (WebhookReceiver receiver = new WebhookReceiver(); Notifier notifier = notifier(receiver, settings)) {
            receiver.holdRequests();

            notifier.send(Notifications.sample("apr-1"));

            RecordingListener.Outcome outcome = listener.next();
            assertThat(outcome.delivered()).isFalse();
            assertThat(outcome.attempts()).isEqualTo(5);
            assertThat(outcome.lastError()).isEqualTo("no response within 300 ms");
        }
    }

    @Test
    void aFullQueueDropsTheNotificationAndReportsItFailedWithoutBlocking() throws Exception {
        var oneAtATime = FAST.withQueue(1, 1);
        try (WebhookReceiver receiver = new WebhookReceiver(); Notifier notifier = notifier(receiver, oneAtATime)) {
            CountDownLatch hang = receiver.holdRequests();
            notifier.send(Notifications.sample("apr-1"));
            receiver.next(); // the only worker is now busy with apr-1

            notifier.send(Notifications.sample("apr-2")); // waits in the queue
            notifier.send(Notifications.sample("apr-3")); // no room

            RecordingListener.Outcome dropped = listener.outcomes.poll(0, TimeUnit.SECONDS);
            assertThat(dropped).isNotNull();
            assertThat(dropped.requestId()).isEqualTo("apr-3");
            assertThat(dropped.delivered()).isFalse();
            assertThat(dropped.attempts()).isZero();
            assertThat(dropped.lastError()).contains("queue is full");
            hang.countDown();
            assertThat(List.of(listener.next(), listener.next()))
                    .extracting(RecordingListener.Outcome::requestId, RecordingListener.Outcome::delivered)
                    .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("apr-1", true),
                            org.assertj.core.groups.Tuple.tuple("apr-2", true));
        }
    }

    @Test
    void closeStopsRetriesAndReportsTheDeliveryFailed() throws Exception {
        var slowRetries = FAST.withBackoff(Duration.ofSeconds(30), Duration.ofSeconds(30));
        var channel = new SlackWebhookChannel(WebhookReceiver.nobodyListening());
        var drainBriefly = new Notifier.Settings(slowRetries.maxAttempts(), slowRetries.firstBackoff(),
                slowRetries.maxBackoff(), slowRetries.connectTimeout(), slowRetries.responseTimeout(), 10, 1,
                Duration.ofMillis(200));
        Notifier notifier = new Notifier(List.of(channel), listener, drainBriefly);
        notifier.send(Notifications.sample("apr-1"));
        notifier.send(Notifications.sample("apr-2"));

        notifier.close();

        assertThat(List.of(listener.next(), listener.next()))
                .allSatisfy(o -> assertThat(o.delivered()).isFalse())
                .extracting(RecordingListener.Outcome::requestId)
                .containsExactlyInAnyOrder("apr-1", "apr-2");
        notifier.send(Notifications.sample("apr-3"));
        assertThat(listener.next().lastError()).contains("closed");
    }

    @Test
    void backoffDoublesFromHalfASecondAndIsCapped() {
        Notifier.Settings d = Notifier.Settings.DEFAULTS;

        assertThat(List.of(d.backoffAfter(1), d.backoffAfter(2), d.backoffAfter(3), d.backoffAfter(4)))
                .containsExactly(Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4));
        assertThat(d.backoffAfter(40)).isEqualTo(Duration.ofSeconds(30));
    }
}
