package dev.portcullis.recording;

import dev.portcullis.core.Identity;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.NewEvent;
import dev.portcullis.store.NewSession;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The recorder: callers enqueue an event and wait; one writer thread takes everything queued, appends
 * it in one transaction (group commit) and then releases every waiting caller. Throughput grows with
 * load (more callers share one commit) while each caller still returns only after its event is durable.
 *
 * <p>If the store fails, every caller of that batch gets a {@link RecordingFailedException}. The
 * recorder does not own the store: whoever opened it closes it, after closing the recorder.
 */
public final class DurableRecorder implements Recorder, AutoCloseable {

    /**
     * @param httpIdleTimeout how long a connectionless (HTTP) or failed-authentication session stays open without use
     * @param commitTimeout   how long a caller waits for its event to be durable before failing closed
     * @param maxBatchEvents  upper bound on events per transaction
     */
    /**
     * @param fsyncAlways force every batch to disk; otherwise only batches holding an event recorded
     *                    with {@link SessionRecorder#recordSynced} are, and the rest are flushed to the OS
     */
    public record Settings(Duration httpIdleTimeout, Duration commitTimeout, int maxBatchEvents, boolean fsyncAlways) {
        public Settings(Duration httpIdleTimeout, Duration commitTimeout, int maxBatchEvents) {
            this(httpIdleTimeout, commitTimeout, maxBatchEvents, false);
        }

        public Settings {
            if (httpIdleTimeout.isNegative() || httpIdleTimeout.isZero()) {
                throw new IllegalArgumentException("httpIdleTimeout must be positive, was " + httpIdleTimeout);
            }
            if (commitTimeout.isNegative() || commitTimeout.isZero()) {
                throw new IllegalArgumentException("commitTimeout must be positive, was " + commitTimeout);
            }
            if (maxBatchEvents < 1) throw new IllegalArgumentException("maxBatchEvents must be >= 1");
        }

        public static Settings defaults() {
            return new Settings(Duration.ofMinutes(15), Duration.ofSeconds(30), 4096);
        }

        public Settings withHttpIdleTimeout(Duration idle) {
            return new Settings(idle, commitTimeout, maxBatchEvents, fsyncAlways);
        }

        public Settings withFsyncAlways(boolean always) {
            return new Settings(httpIdleTimeout, commitTimeout, maxBatchEvents, always);
        }
    }

    private record Pending(List<NewSession> sessions, NewEvent event, CompletableFuture<Void> durable, boolean sync) {
    }

    private static final Pending STOP = new Pending(List.of(), null, null, false);

    private sealed interface ReuseKey {
    }

    private record HttpKey(String connection, String subject, String tokenId) implements ReuseKey {
    }

    private record UnauthenticatedKey(String connection, String clientAddress) implements ReuseKey {
    }

    private record Reusable(LiveSession session, CompletableFuture<Void> started, AtomicReference<Instant> lastUsed) {
    }

    private final AuditStore store;
    private final Clock clock;
    private final Settings settings;
    /** The hash chains; linked and appended by the write thread only. */
    private final AuditChain chain;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final ConcurrentHashMap<ReuseKey, Reusable> reusable = new ConcurrentHashMap<>();
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final Thread writer;
    private boolean closed; // guarded by lifecycle

    public DurableRecorder(AuditStore store, Clock clock) {
        this(store, clock, Settings.defaults());
    }

    public DurableRecorder(AuditStore store, Clock clock, Settings settings) {
        this.store = Objects.requireNonNull(store, "store");
        this.chain = new AuditChain(store);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.writer = Thread.ofPlatform().name("audit-writer").daemon(true).start(this::writeLoop);
    }

    @Override
    public ConnectionSession openSession(Identity identity, String connection, String protocol, String clientAddress) {
        LiveSession session = new LiveSession(UUID.randomUUID().toString());
        await(start(session, identity.subject(), identity.tokenId(),
                AuditEvent.SessionStarted.of(identity, connection, protocol, clientAddress)));
        return session;
    }

    @Override
    public SessionRecorder sessionFor(Identity identity, String connection, String protocol, String clientAddress) {
        return reuse(new HttpKey(connection, identity.subject(), identity.tokenId()), () -> {
            LiveSession s = new LiveSession(UUID.randomUUID().toString());
            return new Reusable(s, start(s, identity.subject(), identity.tokenId(),
                    AuditEvent.SessionStarted.of(identity, connection, protocol, clientAddress)),
                    new AtomicReference<>(clock.instant()));
        });
    }

    @Override
    public void recordAuthFailure(AuditEvent.AuthFailed failure) {
        reuse(new UnauthenticatedKey(failure.connection(), failure.clientAddress()), () -> {
            LiveSession s = new LiveSession(UUID.randomUUID().toString());
            return new Reusable(s, start(s, "", "", AuditEvent.SessionStarted.unauthenticated(
                    failure.connection(), failure.protocol(), failure.clientAddress())),
                    new AtomicReference<>(clock.instant()));
        }).record(failure);
    }

    /** Stops accepting events, writes everything already queued, and stops the writer thread. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            queue.add(STOP);
        } finally {
            lifecycle.writeLock().unlock();
        }
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** For readiness: empty while the last write succeeded (or none happened yet), else why it failed. */
    public Optional<String> notHealthyBecause() {
        if (closed) return Optional.of("the recorder is closed");
        String failure = lastFailure;
        return failure == null ? Optional.empty() : Optional.of("last write to the store failed: " + failure);
    }

    private volatile String lastFailure;

    private SessionRecorder reuse(ReuseKey key, java.util.function.Supplier<Reusable> opener) {
        Instant now = clock.instant();
        AtomicBoolean opened = new AtomicBoolean();
        Reusable r = reusable.compute(key, (k, old) -> {
            if (old != null && !old.started().isCompletedExceptionally() && !idle(old, now)) {
                old.lastUsed().accumulateAndGet(now, (a, b) -> a.isAfter(b) ? a : b);
                return old;
            }
            opened.set(true);
            return opener.get(); // only enqueues the start; waiting happens outside the map's lock
        });
        if (opened.get()) reusable.values().removeIf(other -> idle(other, now));
        try {
            await(r.started());
        } catch (RecordingFailedException e) {
            reusable.remove(key, r);
            throw e;
        }
        return r.session();
    }

    private boolean idle(Reusable r, Instant now) {
        return Duration.between(r.lastUsed().get(), now).compareTo(settings.httpIdleTimeout()) >= 0;
    }

    private CompletableFuture<Void> start(LiveSession session, String subject, String tokenId,
                                          AuditEvent.SessionStarted started) {
        Instant now = clock.instant();
        NewSession row = new NewSession(session.id, subject, tokenId, started.connection(), started.protocol(),
                started.clientAddress(), now);
        return enqueue(List.of(row), toNewEvent(session.id, now, started));
    }

    private static NewEvent toNewEvent(String sessionId, Instant at, AuditEvent event) {
        return new NewEvent(sessionId, at, event.code().code(), AuditJson.write(event), event.refused());
    }

    private CompletableFuture<Void> enqueue(List<NewSession> sessions, NewEvent event) {
        return enqueue(sessions, event, settings.fsyncAlways());
    }

    private CompletableFuture<Void> enqueue(List<NewSession> sessions, NewEvent event, boolean sync) {
        CompletableFuture<Void> durable = new CompletableFuture<>();
        lifecycle.readLock().lock();
        try {
            if (closed) throw new RecordingFailedException("the recorder is closed; " + event.code() + " not recorded");
            queue.add(new Pending(sessions, event, durable, sync));
        } finally {
            lifecycle.readLock().unlock();
        }
        return durable;
    }

    private void await(CompletableFuture<Void> durable) {
        try {
            durable.get(settings.commitTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new RecordingFailedException("audit event not recorded: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new RecordingFailedException("audit event not durable within " + settings.commitTimeout(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RecordingFailedException("interrupted while waiting for the audit event to be durable", e);
        }
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>();
        boolean stopping = false;
        while (!stopping) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(batch, settings.maxBatchEvents() - 1);
            // STOP is enqueued last, so everything before it in this batch is still written.
            stopping = batch.remove(STOP);
            if (!batch.isEmpty()) commit(batch);
            batch.clear();
        }
        // Interrupted or stopped: nothing may wait forever.
        List<Pending> left = new ArrayList<>();
        queue.drainTo(left);
        for (Pending p : left) {
            if (p != STOP) p.durable().completeExceptionally(new RecordingFailedException("the recorder stopped"));
        }
    }

    private void commit(List<Pending> batch) {
        List<NewSession> sessions = new ArrayList<>();
        List<NewEvent> events = new ArrayList<>(batch.size());
        boolean sync = false;
        for (Pending p : batch) {
            sync |= p.sync();
            sessions.addAll(p.sessions());
            events.add(p.event());
        }
        try {
            store.append(sessions, chain.link(sessions, events), sync);
            chain.appended();
            lastFailure = null;
        } catch (Throwable t) {
            chain.forget();
            lastFailure = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            for (Pending p : batch) p.durable().completeExceptionally(t);
            if (t instanceof Error e) throw e;
            return;
        }
        for (Pending p : batch) p.durable().complete(null);
    }

    private final class LiveSession implements ConnectionSession {
        private final String id;
        private final AtomicBoolean ended = new AtomicBoolean();

        LiveSession(String id) {
            this.id = id;
        }

        @Override
        public String sessionId() {
            return id;
        }

        @Override
        public void record(AuditEvent event) {
            Objects.requireNonNull(event, "event");
            await(enqueue(List.of(), toNewEvent(id, clock.instant(), event)));
        }

        @Override
        public void recordSynced(AuditEvent event) {
            Objects.requireNonNull(event, "event");
            await(enqueue(List.of(), toNewEvent(id, clock.instant(), event), true));
        }

        @Override
        public void end(String reason) {
            if (ended.compareAndSet(false, true)) record(new AuditEvent.SessionEnded(reason));
        }
    }
}
