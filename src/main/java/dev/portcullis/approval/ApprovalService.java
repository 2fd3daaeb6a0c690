package dev.portcullis.approval;

import dev.portcullis.approval.ApprovalRefusedException.Kind;
import dev.portcullis.approval.ApprovalRequest.Approval;
import dev.portcullis.approval.ApprovalRequest.Denial;
import dev.portcullis.approval.ApprovalRequest.Grant;
import dev.portcullis.approval.ApprovalRequest.Requester;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Operation;
import dev.portcullis.policy.Verdict.HoldForApproval;
import dev.portcullis.recording.AuditEvent;
import dev.portcullis.recording.Recorder;
import dev.portcullis.recording.SessionRecorder;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable approval requests, protocol-blind. See the package description for how adapters use it.
 *
 * <p>Every change is recorded (hash-chained, durable) before it is stored, and stored with a version
 * check, so a request changes state once: two approvers racing cannot both be the deciding one, and
 * an approved operation is released at most once. Changes in this process are serialised by one lock.
 *
 * <p>Where events are recorded: in the requester's session when the adapter passed its
 * {@link SessionRecorder} to {@link #request(Identity, String, Operation, String, String, HoldForApproval, Duration, SessionRecorder)}
 * and this process still holds it; otherwise (HTTP without a session, or after a restart) in the
 * connection's {@value #APPROVALS_PROTOCOL} session, a session of the synthetic subject
 * {@value #APPROVALS_SUBJECT}. Every event names its approval id, so a request's whole story can be
 * followed across sessions.
 */
public final class ApprovalService {

    public static final String APPROVALS_SUBJECT = "portcullis:approvals";
    public static final String APPROVALS_PROTOCOL = "approvals";

    private static final Logger log = LoggerFactory.getLogger(ApprovalService.class);
    private static final int LIST_LIMIT = 1000;
    /** How often {@link #await} re-reads the store: picks up expiry by the clock and changes by another replica. */
    private static final Duration AWAIT_POLL = Duration.ofMillis(500);
    private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

    private final ApprovalStore store;
    private final Recorder recorder;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final List<ApprovalListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, SessionRecorder> requesterSessions = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    /**
     * @param store    where requests are kept (the gateway's store)
     * @param recorder the gateway's recorder; approval events are hash-chained audit events
     * @param clock    decides creation and expiry times
     */
    public ApprovalService(ApprovalStore store, Recorder recorder, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.recorder = Objects.requireNonNull(recorder, "recorder");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Another gateway sharing the store changed a request (or may have: its announcements were lost for a
     * while): whoever waits in {@link #await} reads the store again now, not at its next poll.
     */
    public void changedElsewhere() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Subscribes a listener (notifications) to new requests. */
    public void subscribe(ApprovalListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** As the eight-argument form, without a detail, recording in the connection's approvals session. */
    public ApprovalRequest request(Identity requester, String connection, Operation operation, String fingerprint,
                                   HoldForApproval hold, Duration holdTimeout) {
        return request(requester, connection, operation, "", fingerprint, hold, holdTimeout, null);
    }

    /**
     * Creates a durable pending request for an operation policy held, records it, then tells the listeners.
     *
     * @param detail           what approvers read: the whole statement and parameters, or the body, as sent, secrets redacted
     *                         (cut to {@link ApprovalRequest#MAX_DETAIL_CHARS}); never raw secrets
     * @param fingerprint      {@link OperationFingerprint#of} the held operation
     * @param holdTimeout      how long it may stay pending (usually {@code hold.holdTimeout()}; an adapter may shorten it)
     * @param requesterSession the requester's session, to record the approval's events in; null when there is none
     * @throws dev.portcullis.recording.RecordingFailedException or {@code AuditStoreException} when it could
     *         not be made durable: refuse the operation
     */
    public ApprovalRequest request(Identity requester, String connection, Operation operation, String detail,
                                   String fingerprint, HoldForApproval hold, Duration holdTimeout,
                                   SessionRecorder requesterSession) {
        Objects.requireNonNull(requester, "requester");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(operation, "operation");
        Objects.requireNonNull(fingerprint, "fingerprint");
        Objects.requireNonNull(hold, "hold");
        if (holdTimeout.isNegative() || holdTimeout.isZero()) {
            throw new IllegalArgumentException("holdTimeout must be positive, was " + holdTimeout);
        }
        ApprovalRequest request;
        lock.lock();
        try {
            // One grant request at a time per requester and rule: further operations wait on the pending one.
            if (hold.grant().isPresent()) {
                Optional<ApprovalRequest> pending = store.grants(requester.subject(), connection, hold.ruleId()).stream()
                        .filter(r -> r.state() == ApprovalState.PENDING && !expired(r)).findFirst();
                if (pending.isPresent()) return pending.get();
            }
            Instant now = now();
            request = new ApprovalRequest(newId(), connection,
                    new Requester(requester.subject(), requester.groups(), requester.tokenId()), operation.protocol(),
                    operation.summary(), ApprovalRequest.detailOf(detail), fingerprint, hold.ruleId(), hold.reason(), hold.approverGroups(),
                    hold.approvalsRequired(), List.of(), ApprovalState.PENDING, Optional.empty(), now,
                    now.plus(holdTimeout), 1, hold.grant().map(d -> new Grant(d, Optional.empty())));
            if (requesterSession != null) requesterSessions.put(request.id(), requesterSession);
            try {
                sessionOf(request).recordSynced(new AuditEvent.ApprovalRequested(request.id(), connection,
                        requester.subject(), requester.tokenId(), request.protocol(), request.summary(),
                        request.detail(), fingerprint,
                        request.ruleId(), request.reason(), request.approverGroups(), request.approvalsRequired(),
                        request.expiresAt(), hold.grant()));
                store.insert(request);
            } catch (RuntimeException e) {
                requesterSessions.remove(request.id());
                throw e;
            }
        } finally {
            lock.unlock();
        }
        for (ApprovalListener listener : listeners) {
            try {
                listener.onRequested(request);
            } catch (RuntimeException e) {
                log.warn("approval listener {} failed for {}: {}", listener.getClass().getName(), request.id(), e.toString());
            }
        }
        return request;
    }

    /**
     * One approver approves. The request becomes {@link ApprovalState#APPROVED} when it has
     * {@code approvalsRequired} distinct approvers.
     *
     * @throws ApprovalRefusedException unknown id, approver not in the approver groups, own request,
     *                                  already approved by this approver, or no longer pending (also: expired)
     */
    public ApprovalRequest approve(String id, Identity approver) throws ApprovalRefusedException {
        lock.lock();
        try {
            ApprovalRequest current = decidable(id, approver);
            if (current.approvedBy(approver.subject())) {
                throw new ApprovalRefusedException(Kind.ALREADY_APPROVED,
                        approver.subject() + " has already approved " + id + "; each approver counts once");
            }
            ApprovalRequest next = current.withApproval(new Approval(approver.subject(), now()));
            commit(current, next, new AuditEvent.ApprovalApproved(id, approver.subject(), List.copyOf(approver.groups()),
                    approver.tokenId(), next.approvals().size(), next.approvalsRequired(),
                    next.grant().flatMap(Grant::until)));
            return next;
        } finally {
            lock.unlock();
        }
    }

    /**
     * One approver denies, with a reason the requester is shown; the operation is refused.
     *
     * @throws ApprovalRefusedException as for {@link #approve}
     */
    public ApprovalRequest deny(String id, Identity approver, String reason) throws ApprovalRefusedException {
        Objects.requireNonNull(reason, "reason");
        lock.lock();
        try {
            ApprovalRequest current = decidable(id, approver);
            ApprovalRequest next = current.denied(new Denial(approver.subject(), reason, now()));
            commit(current, next, new AuditEvent.ApprovalDenied(id, approver.subject(), List.copyOf(approver.groups()),
                    approver.tokenId(), reason));
            return next;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the request is decided or expires, or {@code timeout} passes, and returns it as it
     * then is (still {@link ApprovalState#PENDING} after a timeout). Blocks the calling thread: call it
     * from a virtual thread.
     *
     * @throws ApprovalRefusedException with {@link Kind#UNKNOWN} for an unknown id
     * @throws InterruptedException     when interrupted (the held client went away)
     */
    public ApprovalRequest await(String id, Duration timeout) throws ApprovalRefusedException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                ApprovalRequest current = find(id);
                if (current.state() == ApprovalState.PENDING && expired(current)) current = expire(current);
                long left = deadline - System.nanoTime();
                if (current.state() != ApprovalState.PENDING || left <= 0) return current;
                changed.awaitNanos(Math.min(left, AWAIT_POLL.toNanos()));
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Releases an approved request for its operation, once: true only when the request is
     * {@link ApprovalState#APPROVED}, not past its expiry, and {@code fingerprint} is the one it was
     * approved for. The release is recorded before this returns true; forward the operation only then.
     */
    public boolean consume(String id, String fingerprint) {
        lock.lock();
        try {
            Optional<ApprovalRequest> found = store.get(id);
            if (found.isEmpty()) return false;
            ApprovalRequest current = found.get();
            if (current.grant().isPresent()) {
                // A grant covers every operation of its rule, not one fingerprint; the held one is released
                // (and recorded as such) while the grant runs, and the grant stays approved.
                if (!current.grantActiveAt(now())) return false;
                sessionOf(current).recordSynced(new AuditEvent.ApprovalReleased(id, fingerprint));
                return true;
            }
            if (current.state() != ApprovalState.APPROVED || expired(current)) return false;
            if (!current.fingerprint().equals(fingerprint)) {
                log.warn("approval {} was presented for a different operation; refused", id);
                return false;
            }
            try {
                commit(current, current.inState(ApprovalState.RELEASED),
                        new AuditEvent.ApprovalReleased(id, current.fingerprint()));
            } catch (ApprovalRefusedException e) {
                return false; // another replica released it first
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Expires every pending request past its expiry, recording each. Call on a schedule and at
     * start-up: requests outlive a restart, and one that expired while the gateway was down is closed here.
     *
     * @return the requests it expired
     */
    public List<ApprovalRequest> expireDue() {
        List<ApprovalRequest> done = new ArrayList<>();
        lock.lock();
        try {
            for (ApprovalRequest r : store.list(Optional.of(ApprovalState.PENDING), LIST_LIMIT)) {
                if (!expired(r)) continue;
                try {
                    done.add(expire(r));
                } catch (ApprovalRefusedException e) {
                    log.debug("approval {} changed while expiring: {}", r.id(), e.getMessage());
                }
            }
            Instant now = now();
            for (ApprovalRequest r : store.list(Optional.of(ApprovalState.APPROVED), LIST_LIMIT)) {
                if (r.grant().isEmpty() || r.grantActiveAt(now)) continue;
                try {
                    commit(r, r.inState(ApprovalState.EXPIRED),
                            new AuditEvent.GrantEnded(r.id(), r.grant().flatMap(Grant::until).orElse(now)));
                    done.add(r.inState(ApprovalState.EXPIRED));
                } catch (ApprovalRefusedException e) {
                    log.debug("grant {} changed while ending: {}", r.id(), e.getMessage());
                }
            }
        } finally {
            lock.unlock();
        }
        return done;
    }

    /**
     * The running time-boxed grant of {@code subject} for rule {@code ruleId} on {@code connection}, if
     * any: approved, not revoked, and its time not run out.
     *
     * @throws dev.portcullis.store.AuditStoreException when the store cannot answer: hold the operation as if there were none
     */
    public Optional<ApprovalRequest> activeGrant(String subject, String connection, String ruleId) {
        Instant now = now();
        return store.grants(subject, connection, ruleId).stream().filter(r -> r.grantActiveAt(now))
                .max(java.util.Comparator.comparing(r -> r.grant().flatMap(Grant::until).orElseThrow()));
    }

    /**
     * Revokes an approved request or a running grant: nothing more is released under it. Members of
     * the approver groups may revoke, and so may the requester (giving access back early).
     *
     * @throws ApprovalRefusedException unknown id, neither approver nor requester, or not approved
     */
    public ApprovalRequest revoke(String id, Identity by, String reason) throws ApprovalRefusedException {
        Objects.requireNonNull(reason, "reason");
        lock.lock();
        try {
            ApprovalRequest current = find(id);
            boolean requester = by.subject().equals(current.requester().subject());
            if (!requester && !by.inAnyGroup(current.approverGroups())) {
                throw new ApprovalRefusedException(Kind.NOT_AN_APPROVER, by.subject() + " is in none of the approver groups of "
                        + id + " (" + String.join(", ", current.approverGroups()) + ") and did not request it");
            }
            if (current.state() != ApprovalState.APPROVED) {
                throw new ApprovalRefusedException(Kind.NOT_PENDING, id + " is " + current.state().label()
                        + "; only an approved request or a running grant can be revoked");
            }
            ApprovalRequest next = current.revoked(new Denial(by.subject(), reason, now()));
            commit(current, next, new AuditEvent.ApprovalRevoked(id, by.subject(), List.copyOf(by.groups()),
                    by.tokenId(), reason));
            return next;
        } finally {
            lock.unlock();
        }
    }

    /** Requests in {@code state}, or all when empty; oldest first. */
    public List<ApprovalRequest> list(Optional<ApprovalState> state) {
        return store.list(state, LIST_LIMIT);
    }

    public Optional<ApprovalRequest> get(String id) {
        return store.get(id);
    }

    private ApprovalRequest decidable(String id, Identity approver) throws ApprovalRefusedException {
        ApprovalRequest current = find(id);
        if (!approver.inAnyGroup(current.approverGroups())) {
            throw new ApprovalRefusedException(Kind.NOT_AN_APPROVER, approver.subject() + " is in none of the approver groups of "
                    + id + " (" + String.join(", ", current.approverGroups()) + ")");
        }
        if (approver.subject().equals(current.requester().subject())) {
            throw new ApprovalRefusedException(Kind.OWN_REQUEST, approver.subject() + " sent the operation of " + id
                    + " and cannot decide on it");
        }
        if (current.state() == ApprovalState.PENDING && expired(current)) current = expire(current);
        if (current.state() != ApprovalState.PENDING) {
            throw new ApprovalRefusedException(Kind.NOT_PENDING, id + " is " + current.state().label()
                    + (current.state() == ApprovalState.EXPIRED ? " (since " + current.expiresAt() + ")" : "")
                    + " and can no longer be decided");
        }
        return current;
    }

    private ApprovalRequest find(String id) throws ApprovalRefusedException {
        return store.get(id).orElseThrow(() -> new ApprovalRefusedException(Kind.UNKNOWN, "no approval request " + id));
    }

    /** The store keeps microseconds: so do requests, so what the API answers is what is enforced. */
    private Instant now() {
        return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }

    private boolean expired(ApprovalRequest r) {
        return !now().isBefore(r.expiresAt());
    }

    private ApprovalRequest expire(ApprovalRequest current) throws ApprovalRefusedException {
        ApprovalRequest next = current.inState(ApprovalState.EXPIRED);
        commit(current, next, new AuditEvent.ApprovalExpired(current.id(), current.expiresAt()));
        return next;
    }

    /** Records the change, then stores it if nobody changed the request meanwhile; wakes waiters. Lock held. */
    private void commit(ApprovalRequest current, ApprovalRequest next, AuditEvent event) throws ApprovalRefusedException {
        sessionOf(current).recordSynced(event);
        if (!store.update(next)) {
            throw new ApprovalRefusedException(Kind.CONFLICT, current.id() + " was changed by another gateway at the same time; try again");
        }
        if (next.state() != ApprovalState.PENDING && next.state() != ApprovalState.APPROVED) {
            requesterSessions.remove(next.id());
        }
        changed.signalAll();
    }

    /**
     * Records that approvers were told of a request through a channel, or could not be. A failed
     * delivery is part of the trail: approvers may never have seen the request.
     */
    public void recordNotification(String id, String channel, boolean delivered, int attempts, String error) {
        store.get(id).ifPresent(request -> sessionOf(request).record(
                new AuditEvent.ApprovalNotified(id, channel, delivered, attempts, error == null ? "" : error)));
    }

    private SessionRecorder sessionOf(ApprovalRequest request) {
        SessionRecorder own = requesterSessions.get(request.id());
        if (own != null) return own;
        Identity approvals = new Identity(APPROVALS_SUBJECT, Set.of(), "", "", "portcullis", Map.of(), Instant.MAX);
        return recorder.sessionFor(approvals, request.connection(), APPROVALS_PROTOCOL, "gateway");
    }

    private String newId() {
        byte[] bytes = new byte[13]; // 104 bits; 20 base32 characters carry 100 of them
        random.nextBytes(bytes);
        StringBuilder id = new StringBuilder("apr_");
        long buffer = 0;
        int bits = 0;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5 && id.length() < 24) {
                id.append(BASE32[(int) (buffer >>> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        return id.toString();
    }
}
