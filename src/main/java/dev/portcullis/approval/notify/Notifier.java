package dev.portcullis.approval.notify;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers each notification to every channel without ever blocking the caller: {@link #notify}
 * enqueues one delivery per channel on a bounded queue and returns; a few virtual-thread workers
 * send, retry with exponential backoff, and tell the {@link DeliveryListener} how each ended.
 *
 * <p>2xx is delivered. 429, 5xx, connection errors and timeouts are retried. Anything else (4xx,
 * redirects) means the receiver refuses this message, so it is given up at once.
 */
public final class Notifier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Notifier.class);
    /** Enough of an error body to show why (Slack answers e.g. "invalid_blocks"), never a whole page. */
    static final int MAX_ERROR_BODY_BYTES = 16 * 1024;
    static final int MAX_ERROR_SNIPPET_CHARS = 200;

    /**
     * @param maxAttempts     attempts per delivery, the first one included
     * @param firstBackoff    wait after the first failed attempt; doubled after each later one
     * @param maxBackoff      cap on any single wait
     * @param responseTimeout for the whole exchange of one attempt, body included
     * @param queueCapacity   deliveries waiting for a worker; beyond it new ones are dropped
     * @param workers         deliveries in progress at once
     * @param drainTimeout    how long {@link #close()} lets queued and in-progress deliveries finish
     */
    public record Settings(int maxAttempts, Duration firstBackoff, Duration maxBackoff, Duration connectTimeout,
                           Duration responseTimeout, int queueCapacity, int workers, Duration drainTimeout) {
        public static final Settings DEFAULTS = new Settings(5, Duration.ofMillis(500), Duration.ofSeconds(30),
                Duration.ofSeconds(5), Duration.ofSeconds(10), 1000, 4, Duration.ofSeconds(5));

        public Settings {
            positive("maxAttempts", maxAttempts);
            positive("queueCapacity", queueCapacity);
            positive("workers", workers);
            for (Duration d : List.of(firstBackoff, maxBackoff, connectTimeout, responseTimeout, drainTimeout)) {
                if (d.isNegative()) {
                    throw new IllegalArgumentException("notify durations must not be negative, got " + d);
                }
            }
            if (connectTimeout.isZero() || responseTimeout.isZero()) {
                throw new IllegalArgumentException("notify connectTimeout and responseTimeout must be positive");
            }
        }

        public Settings withBackoff(Duration first, Duration max) {
            return new Settings(maxAttempts, first, max, connectTimeout, responseTimeout, queueCapacity, workers,
                    drainTimeout);
        }

        public Settings withTimeouts(Duration connect, Duration response) {
            return new Settings(maxAttempts, firstBackoff, maxBackoff, connect, response, queueCapacity, workers,
                    drainTimeout);
        }

        public Settings withQueue(int capacity, int workerCount) {
            return new Settings(maxAttempts, firstBackoff, maxBackoff, connectTimeout, responseTimeout, capacity,
                    workerCount, drainTimeout);
        }

        /** The wait after failed attempt number {@code failedAttempt} (1-based). */
        Duration backoffAfter(int failedAttempt) {
            Duration wait = firstBackoff;
            for (int i = 1; i < failedAttempt && wait.compareTo(maxBackoff) < 0; i++) {
                wait = wait.multipliedBy(2);
            }
            return wait.compareTo(maxBackoff) > 0 ? maxBackoff : wait;
        }

        private static void positive(String name, int value) {
            if (value < 1) {
                throw new IllegalArgumentException("notify " + name + " must be at least 1, was " + value);
            }
        }
    }

    private record Delivery(NotificationChannel channel, Notification notification) {
    }

    /** How one attempt ended. */
    private sealed interface Attempt {
        record Delivered() implements Attempt {
        }

        record Retryable(String error) implements Attempt {
        }

        record Refused(String error) implements Attempt {
        }
    }

    private final List<NotificationChannel> channels;
    private final DeliveryListener listener;
    private final Settings settings;
    private final HttpClient http;
    private final BlockingQueue<Delivery> queue;
    private final List<Thread> workers = new ArrayList<>();
    /** Queued plus in progress; close() waits for it to reach zero. */
    private final AtomicInteger pending = new AtomicInteger();
    private volatile boolean closed;

    public Notifier(List<NotificationChannel> channels, DeliveryListener listener, Settings settings) {
        this.channels = List.copyOf(channels);
        this.listener = Objects.requireNonNull(listener, "listener");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.http = HttpClient.newBuilder()
                .connectTimeout(settings.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        for (int i = 0; i < settings.workers(); i++) {
            workers.add(Thread.ofVirtual().name("approval-notify-" + i).start(this::work));
        }
    }

    /** Queues one delivery per channel and returns at once; never blocks, never throws for delivery problems. */
    public void send(Notification n) {
        Objects.requireNonNull(n, "notification");
        for (NotificationChannel channel : channels) {
            if (closed) {
                dropped(channel, n, "the notifier is closed");
                continue;
            }
            pending.incrementAndGet();
            if (!queue.offer(new Delivery(channel, n))) {
                pending.decrementAndGet();
                dropped(channel, n, "the notification queue is full (" + settings.queueCapacity() + " waiting)");
            }
        }
    }

    /** Lets queued and in-progress deliveries finish for up to the drain timeout, then stops them as failed. */
    @Override
    public void close() {
        closed = true;
        long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
        while (pending.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        workers.forEach(Thread::interrupt);
        for (Thread worker : workers) {
            try {
                worker.join(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Delivery left; (left = queue.poll()) != null; ) {
            pending.decrementAndGet();
            dropped(left.channel(), left.notification(), "the notifier closed before it was sent");
        }
        http.shutdownNow();
    }

    private void work() {
        while (true) {
            Delivery d;
            try {
                d = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                deliver(d);
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    private void deliver(Delivery d) {
        String channel = d.channel().name();
        String requestId = d.notification().requestId();
        for (int attempt = 1; ; attempt++) {
            Attempt result;
            try {
                result = attempt(d);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failed(channel, requestId, attempt, "the notifier closed during attempt " + attempt);
                return;
            }
            switch (result) {
                case Attempt.Delivered() -> {
                    int attempts = attempt;
                    log.debug("approval {}: notified {} after {} attempt(s)", requestId, channel, attempts);
                    safely(() -> listener.delivered(channel, requestId, attempts));
                    return;
                }
                case Attempt.Refused(String error) -> {
                    failed(channel, requestId, attempt, error);
                    return;
                }
                case Attempt.Retryable(String error) -> {
                    if (attempt >= settings.maxAttempts()) {
                        failed(channel, requestId, attempt, error);
                        return;
                    }
                    Duration wait = settings.backoffAfter(attempt);
                    log.info("approval {}: notifying {} failed ({}); attempt {} of {} in {} ms", requestId, channel,
                            error, attempt + 1, settings.maxAttempts(), wait.toMillis());
                    try {
                        Thread.sleep(wait);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        failed(channel, requestId, attempt, error + "; the notifier closed before the next attempt");
                        return;
                    }
                }
            }
        }
    }

    private Attempt attempt(Delivery d) throws InterruptedException {
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(d.channel().request(d.notification()), (name, value) -> true)
                    .timeout(settings.responseTimeout())
                    .build();
        } catch (RuntimeException e) {
            return new Attempt.Refused("could not build the request: " + e);
        }
        AtomicInteger status = new AtomicInteger();
        CompletableFuture<HttpResponse<String>> exchange = http.sendAsync(request, HttpResponse.BodyHandlers.limiting(
                info -> {
                    status.set(info.statusCode());
                    return HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8);
                }, MAX_ERROR_BODY_BYTES));
        try {
            HttpResponse<String> response = exchange.get(settings.responseTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return byStatus(response.statusCode(), response.body());
        } catch (TimeoutException e) {
            exchange.cancel(true);
            return status.get() != 0 ? byStatus(status.get(), "(body not read in time)") : noResponse();
        } catch (InterruptedException e) {
            exchange.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (status.get() != 0) {
                // The status arrived; only the body failed (too large, cut off). The status decides.
                return byStatus(status.get(), "(body unreadable: " + cause.getMessage() + ")");
            }
            if (cause instanceof HttpTimeoutException) {
                return noResponse();
            }
            String error = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
            return cause instanceof IOException ? new Attempt.Retryable(error) : new Attempt.Refused(error);
        }
    }

    private Attempt noResponse() {
        return new Attempt.Retryable("no response within " + settings.responseTimeout().toMillis() + " ms");
    }

    private static Attempt byStatus(int status, String body) {
        if (status >= 200 && status < 300) {
            return new Attempt.Delivered();
        }
        String snippet = body == null ? "" : body.strip();
        if (snippet.length() > MAX_ERROR_SNIPPET_CHARS) {
            snippet = snippet.substring(0, MAX_ERROR_SNIPPET_CHARS) + "…";
        }
        String error = "HTTP " + status + (snippet.isEmpty() ? "" : ": " + snippet);
        return status == 429 || status >= 500 ? new Attempt.Retryable(error) : new Attempt.Refused(error);
    }

    private void dropped(NotificationChannel channel, Notification n, String why) {
        failed(channel.name(), n.requestId(), 0, why);
    }

    private void failed(String channel, String requestId, int attempts, String error) {
        log.error("approval {}: could not notify {} after {} attempt(s): {}", requestId, channel, attempts, error);
        safely(() -> listener.failed(channel, requestId, attempts, error));
    }

    private static void safely(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            log.warn("approval delivery listener failed", e);
        }
    }
}
