package dev.portcullis.recording;

import dev.portcullis.core.Identity;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.NewEvent;
import dev.portcullis.store.NewSession;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The recorder. A caller links its event into the hash chains and appends it to the store on its own
 * thread, under one lock: with the gateway's {@link dev.portcullis.store.LoggedStore} that is one
 * {@code write()} into the trail's segment, so the event survives a crash of the process when the call returns. An
 * event recorded with {@link SessionRecorder#recordSynced} (or every event, with {@code fsyncAlways})
 * is then forced to disk outside the lock, and concurrent callers share one {@code fsync}.
 *
 * <p>If the store fails, the caller gets a {@link RecordingFailedException} and refuses the operation.
 * The recorder does not own the store: whoever opened it closes it, after closing the recorder.
 */
public final class DurableRecorder implements Recorder, AutoCloseable {

    /**
     * @param httpIdleTimeout how long a connectionless (HTTP) or failed-authentication session stays open without use
     * @param fsyncAlways     force every event to disk; otherwise only those recorded with
     *                        {@link SessionRecorder#recordSynced} are, and the rest are written to the OS
     */
    public record Settings(Duration httpIdleTimeout, boolean fsyncAlways) {
        public Settings {
            if (httpIdleTimeout.isNegative() || httpIdleTimeout.isZero()) {
                throw new IllegalArgumentException("httpIdleTimeout must be positive, was " + httpIdleTimeout);
            }
        }

        public static Settings defaults() {
            return new Settings(Duration.ofMinutes(15), false);
        }

        public Settings withHttpIdleTimeout(Duration idle) {
            return new Settings(idle, fsyncAlways);
        }

        public Settings withFsyncAlways(boolean always) {
            return new Settings(httpIdleTimeout, always);
        }
    }

    private sealed interface ReuseKey {
    }

    private record HttpKey(String connection, String subject, String tokenId) implements ReuseKey {
    }

    private record UnauthenticatedKey(String connection, String clientAddress) implements ReuseKey {
    }

    private record Reusable(LiveSession session, AtomicReference<Instant> lastUsed) {
    }

    private final AuditStore store;
    private final Clock clock;
    private final Settings settings;
    /** The hash chains; linked and appended under {@link #appendLock} only. */
    private final AuditChain chain;
    private final ReentrantLock appendLock = new ReentrantLock();
    private final ConcurrentHashMap<ReuseKey, Reusable> reusable = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private volatile String lastFailure;

    public DurableRecorder(AuditStore store, Clock clock) {
        this(store, clock, Settings.defaults());
    }

    public DurableRecorder(AuditStore store, Clock clock, Settings settings) {
        this.store = Objects.requireNonNull(store, "store");
        this.chain = new AuditChain(store);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    @Override
    public ConnectionSession openSession(Identity identity, String connection, String protocol, String clientAddress) {
        LiveSession session = new LiveSession(UUID.randomUUID().toString());
        start(session, identity.subject(), identity.tokenId(),
                AuditEvent.SessionStarted.of(identity, connection, protocol, clientAddress));
        return session;
    }

    @Override
    public SessionRecorder sessionFor(Identity identity, String connection, String protocol, String clientAddress) {
        return reuse(new HttpKey(connection, identity.subject(), identity.tokenId()), () -> {
            LiveSession s = new LiveSession(UUID.randomUUID().toString());
            start(s, identity.subject(), identity.tokenId(),
                    AuditEvent.SessionStarted.of(identity, connection, protocol, clientAddress));
            return s;
        });
    }

    @Override
    public void recordAuthFailure(AuditEvent.AuthFailed failure) {
        reuse(new UnauthenticatedKey(failure.connection(), failure.clientAddress()), () -> {
            LiveSession s = new LiveSession(UUID.randomUUID().toString());
            start(s, "", "", AuditEvent.SessionStarted.unauthenticated(
                    failure.connection(), failure.protocol(), failure.clientAddress()));
            return s;
        }).record(failure);
    }

    /** Stops accepting events; those already returned are in the store. */
    @Override
    public void close() {
        appendLock.lock();
        try {
            closed = true;
        } finally {
            appendLock.unlock();
        }
    }

    /** For readiness: empty while the last write succeeded (or none happened yet), else why it failed. */
    public Optional<String> notHealthyBecause() {
        if (closed) return Optional.of("the recorder is closed");
        String failure = lastFailure;
        return failure == null ? Optional.empty() : Optional.of("last write to the store failed: " + failure);
    }

    @Override
    public boolean lastWriteFailed() {
        return lastFailure != null;
    }

    private SessionRecorder reuse(ReuseKey key, Supplier<LiveSession> opener) {
        Instant now = clock.instant();
        Reusable existing = reusable.get(key);
        if (existing != null && !idle(existing, now)) {
            existing.lastUsed().accumulateAndGet(now, (a, b) -> a.isAfter(b) ? a : b);
            return existing.session();
        }
        AtomicBoolean opened = new AtomicBoolean();
        // The start is recorded inside compute, so two callers never open two sessions for one key; a
        // failed start leaves the map as it was.
        Reusable r = reusable.compute(key, (k, old) -> {
            if (old != null && !idle(old, now)) {
                old.lastUsed().accumulateAndGet(now, (a, b) -> a.isAfter(b) ? a : b);
                return old;
            }
            opened.set(true);
            return new Reusable(opener.get(), new AtomicReference<>(now));
        });
        if (opened.get()) reusable.values().removeIf(other -> idle(other, now));
        return r.session();
    }

    private boolean idle(Reusable r, Instant now) {
        return Duration.between(r.lastUsed().get(), now).compareTo(settings.httpIdleTimeout()) >= 0;
    }

    private void start(LiveSession session, String subject, String tokenId, AuditEvent.SessionStarted started) {
        Instant now = clock.instant();
        NewSession row = new NewSession(session.id, subject, tokenId, started.connection(), started.protocol(),
                started.clientAddress(), now);
        append(List.of(row), toNewEvent(session.id, now, started), settings.fsyncAlways());
    }

    private static NewEvent toNewEvent(String sessionId, Instant at, AuditEvent event) {
        return new NewEvent(sessionId, at, event.code().code(), AuditJson.writeUtf8(event), event.refused());
    }

    /** Links and appends one event; returns once it is in the store (and on disk, with {@code sync}). */
    private void append(List<NewSession> sessions, NewEvent event, boolean sync) {
        boolean forceAfter = sync && store.forcesSeparately();
        appendLock.lock();
        try {
            if (closed) throw new RecordingFailedException("the recorder is closed; " + event.code() + " not recorded");
            try {
                store.append(sessions, chain.link(sessions, List.of(event)), sync && !forceAfter);
                chain.appended();
            } catch (RuntimeException e) {
                chain.forget();
                throw failed(e);
            }
        } finally {
            appendLock.unlock();
        }
        if (forceAfter) {
            try {
                store.force();
            } catch (RuntimeException e) {
                throw failed(e);
            }
        }
        lastFailure = null;
    }

    private RecordingFailedException failed(RuntimeException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        lastFailure = message;
        return new RecordingFailedException("audit event not recorded: " + message, e);
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
            append(List.of(), toNewEvent(id, clock.instant(), event), settings.fsyncAlways());
        }

        @Override
        public void recordSynced(AuditEvent event) {
            Objects.requireNonNull(event, "event");
            append(List.of(), toNewEvent(id, clock.instant(), event), true);
        }

        @Override
        public void end(String reason) {
            if (ended.compareAndSet(false, true)) record(new AuditEvent.SessionEnded(reason));
        }
    }
}
