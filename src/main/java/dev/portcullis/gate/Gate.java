package dev.portcullis.gate;

import dev.portcullis.approval.ApprovalService;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Operation;
import dev.portcullis.identity.TokenRejectedException;
import dev.portcullis.identity.TokenVerifier;
import dev.portcullis.policy.Decision;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.AuditEvent;
import dev.portcullis.recording.ConnectionSession;
import dev.portcullis.recording.Excerpt;
import dev.portcullis.recording.Recorder;
import dev.portcullis.recording.RecordingFailedException;
import dev.portcullis.recording.SessionRecorder;
import dev.portcullis.recording.Timings;
import dev.portcullis.recording.Upstream;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticate, decide, record: the part of every operation's path that is the same for every
 * protocol. Adapters call it in this order and only translate its answers into their dialect.
 */
public final class Gate {
    private static final Logger log = LoggerFactory.getLogger(Gate.class);

    private final TokenVerifier verifier;
    private final Recorder recorder;
    private final GateMetrics metrics;
    private final ApprovalService approvals;
    private final ApprovalFlow approvalFlow;

    /**
     * @param approvalPageBase where people approve, e.g. {@code http://127.0.0.1:8080/approvals/};
     *                         refusals and notices name {@code approvalPageBase + id}
     */
    public Gate(TokenVerifier verifier, Recorder recorder, GateMetrics metrics, ApprovalService approvals,
                String approvalPageBase) {
        this.verifier = verifier;
        this.recorder = recorder;
        this.metrics = metrics;
        this.approvals = approvals;
        this.approvalFlow = new ApprovalFlow(approvals, approvalPageBase);
    }

    /** Holds, waits and releases operations that need approval: the one approval flow of every adapter. */
    private final LiveSessions live = new LiveSessions();

    /** The sessions open now that a session admin may end. */
    public LiveSessions live() {
        return live;
    }

    public ApprovalFlow approvals() {
        return approvalFlow;
    }

    /**
     * Verifies the caller's token. A refusal is counted and recorded (reason only, never the token)
     * before it is thrown.
     *
     * @throws TokenRejectedException   the token is missing or not acceptable; answer 401 or equivalent
     * @throws GateUnavailableException the refusal could not be recorded; still refuse
     */
    public Identity authenticate(String connection, String protocol, String clientAddress, Optional<String> token)
            throws TokenRejectedException, GateUnavailableException {
        return check(connection, protocol, clientAddress, token, verifier::verify);
    }

    /**
     * {@link #authenticate} without waiting on the network: the identity of a token verified before whose
     * answer is still fresh, a refusal (recorded) that needs no issuer, or empty when the issuer must be
     * asked. Adapters on an event loop call this in place, and {@code authenticate} from a thread that
     * may block when it is empty.
     */
    public Optional<Identity> authenticateInPlace(String connection, String protocol, String clientAddress, Optional<String> token)
            throws TokenRejectedException, GateUnavailableException {
        return check(connection, protocol, clientAddress, token, verifier::verifyFromMemory);
    }

    private interface TokenCheck<T> {
        T apply(String token) throws TokenRejectedException;
    }

    private <T> T check(String connection, String protocol, String clientAddress, Optional<String> token, TokenCheck<T> check)
            throws TokenRejectedException, GateUnavailableException {
        try {
            if (token.isEmpty()) {
                throw new TokenRejectedException(TokenRejectedException.Reason.MISSING, "no agent token was presented");
            }
            return check.apply(token.get());
        } catch (TokenRejectedException e) {
            throw refused(connection, protocol, clientAddress, e);
        }
    }

    /**
     * Counts and records a login refused before any token was looked at (an SSH key without this gateway's
     * certificate, a certificate it never issued); {@code reason} is a short label, {@code message} says why.
     * A store that cannot record it is logged, not thrown: the login is refused either way.
     */
    public void recordRefusedLogin(String connection, String protocol, String clientAddress, String reason, String message) {
        metrics.tokenFailure(connection, reason);
        log.info("login refused on {} from {}: {} ({})", connection, clientAddress, reason, message);
        try {
            recorder.recordAuthFailure(new AuditEvent.AuthFailed(connection, protocol, clientAddress, reason, message));
        } catch (RecordingFailedException e) {
            log.error("a refused login on {} could not be recorded: {}", connection, e.getMessage());
        }
    }

    /** Counts and records a refused token (reason only, never the token); returns it to be thrown. */
    private TokenRejectedException refused(String connection, String protocol, String clientAddress, TokenRejectedException e)
            throws GateUnavailableException {
        metrics.tokenFailure(connection, e.reason().label());
        log.info("token refused on {} from {}: {} ({})", connection, clientAddress, e.reason().label(), e.getMessage());
        try {
            recorder.recordAuthFailure(new AuditEvent.AuthFailed(connection, protocol, clientAddress,
                    e.reason().label(), e.getMessage()));
        } catch (RecordingFailedException re) {
            throw unavailable(re);
        }
        return e;
    }

    /**
     * Decides the operation. A refusal is final here; an operation to be forwarded is recorded
     * durably before this returns, so nothing reaches a target without a trail.
     */
    public Judged judge(String connection, String protocol, String clientAddress, Identity identity,
                        Operation operation, Policy policy, String requestExcerpt) throws GateUnavailableException {
        SessionRecorder session;
        try {
            session = recorder.sessionFor(identity, connection, protocol, clientAddress);
        } catch (RecordingFailedException e) {
            throw unavailable(e);
        }
        return judge(session, connection, identity, operation, policy, requestExcerpt);
    }

    /** Opens the recorded session of a connection-oriented protocol (one client connection). */
    public ConnectionSession openSession(Identity identity, String connection, String protocol, String clientAddress)
            throws GateUnavailableException {
        try {
            return recorder.openSession(identity, connection, protocol, clientAddress);
        } catch (RecordingFailedException e) {
            throw unavailable(e);
        }
    }

    /**
     * Decides without recording: for a statement being prepared, whose executions are judged and
     * recorded one by one later. Counted in metrics only when refused.
     */
    public Decision decide(String connection, Identity identity, Operation operation, Policy policy) {
        Decision decision;
        try {
            decision = underGrant(policy.decide(identity, operation), connection, identity);
        } catch (dev.portcullis.store.AuditStoreException e) {
            decision = policy.decide(identity, operation); // no grant can be proven: the hold stands
        }
        Verdict verdict = decision.verdict();
        if (verdict instanceof Verdict.Deny || verdict instanceof Verdict.HoldForApproval) {
            metrics.operation(connection, verdict.label(), verdict.ruleId());
        }
        return decision;
    }

    /** As {@link #judge(String, String, String, Identity, Operation, Policy, String)}, in a given session. */
    public Judged judge(SessionRecorder session, String connection, Identity identity, Operation operation, Policy policy,
                        String requestExcerpt) throws GateUnavailableException {
        long decideStart = System.nanoTime();
        Decision decision;
        try {
            decision = underGrant(policy.decide(identity, operation), connection, identity);
        } catch (dev.portcullis.store.AuditStoreException e) {
            throw unavailable(new RecordingFailedException("cannot look up grants: " + e.getMessage(), e));
        }
        long decideNanos = System.nanoTime() - decideStart;
        Verdict verdict = decision.verdict();
        metrics.operation(connection, verdict.label(), verdict.ruleId());
        for (Verdict shadow : decision.shadow()) {
            log.info("dry-run rule {} would have {} {} by {} on {}", shadow.ruleId(), shadow.label(),
                    operation.summary(), identity.subject(), connection);
        }
        Excerpt request = new Excerpt(requestExcerpt, false, requestExcerpt.length());
        Judged judged = new Judged(connection, session, identity, operation, decision, request, decideStart, decideNanos);
        // An operation that may change the target is on disk before it is forwarded. A read is
        // recorded once, with its outcome, before its response completes (Judged.completeForwarded);
        // after a failed write it is recorded before forwarding too, so a dead trail refuses it.
        if (verdict instanceof Verdict.Allow || verdict instanceof Verdict.Mask || verdict instanceof Verdict.Granted) {
            try {
                if (operation.mayChangeTarget()) {
                    session.recordSynced(AuditEvent.OperationForwarding.of(operation, request, decision));
                } else if (recorder.lastWriteFailed()) {
                    session.record(AuditEvent.OperationForwarding.of(operation, request, decision));
                }
            } catch (RecordingFailedException e) {
                throw unavailable(e);
            }
        }
        return judged;
    }

    /**
     * A hold of a rule with a time-boxed grant becomes {@link Verdict.Granted} while the caller holds a
     * running grant of that rule on this connection. Policy stays pure; grants live in the approval store.
     */
    private Decision underGrant(Decision decision, String connection, Identity identity) {
        if (!(decision.verdict() instanceof Verdict.HoldForApproval hold) || hold.grant().isEmpty()) return decision;
        return approvals.activeGrant(identity.subject(), connection, hold.ruleId())
                .map(g -> new Decision(new Verdict.Granted(hold.ruleId(), g.id(), g.grant().orElseThrow().until().orElseThrow()),
                        decision.shadow()))
                .orElse(decision);
    }

    /**
     * Refuses an operation the adapter could not even hand to policy (over a size limit, malformed),
     * recording it under the pseudo-rule {@value #LIMITS_RULE}.
     */
    public void refuseUnjudged(String connection, String protocol, String clientAddress, Identity identity,
                               Operation operation, String reason) {
        Decision decision = Decision.of(new Verdict.Deny(LIMITS_RULE, reason));
        metrics.operation(connection, "deny", LIMITS_RULE);
        try {
            SessionRecorder session = recorder.sessionFor(identity, connection, protocol, clientAddress);
            new Judged(connection, session, null, operation, decision, Excerpt.NONE, System.nanoTime(), 0).completeRefused(System.nanoTime());
        } catch (RecordingFailedException e) {
            log.error("could not record a refusal of {} on {}: {}", operation.summary(), connection, e.getMessage());
        }
    }

    /** As above, in a given session (connection-oriented protocols). */
    public void refuseUnjudged(SessionRecorder session, String connection, Operation operation, String reason) {
        Decision decision = Decision.of(new Verdict.Deny(LIMITS_RULE, reason));
        metrics.operation(connection, "deny", LIMITS_RULE);
        new Judged(connection, session, null, operation, decision, Excerpt.NONE, System.nanoTime(), 0).completeRefused(System.nanoTime());
    }

    /** The rule id under which the gateway's own limits refuse operations. */
    public static final String LIMITS_RULE = "gateway-limits";

    static GateUnavailableException unavailable(RecordingFailedException e) {
        return new GateUnavailableException("the recording store is unavailable (" + e.getMessage()
                + "); Portcullis refuses operations it cannot record", e);
    }

    /** A decided operation; the adapter reports how it ended, exactly once. */
    public final class Judged {
        private final String connection;
        private final SessionRecorder session;
        private final Identity identity;
        private final Operation operation;
        private final Decision decision;
        private final Excerpt request;
        private final long startedNanos;
        private final long decideNanos;
        private long upstreamNanos;
        private boolean streamed;

        private Judged(String connection, SessionRecorder session, Identity identity, Operation operation, Decision decision,
                       Excerpt request, long startedNanos, long decideNanos) {
            this.connection = connection;
            this.session = session;
            this.identity = identity;
            this.operation = operation;
            this.decision = decision;
            this.request = request;
            this.startedNanos = startedNanos;
            this.decideNanos = decideNanos;
        }

        /** When judging began ({@link System#nanoTime}): where an adapter that has no start of its own counts the total from. */
        public long startedNanos() {
            return startedNanos;
        }

        public Decision decision() {
            return decision;
        }

        String connection() {
            return connection;
        }

        Operation operation() {
            return operation;
        }

        SessionRecorder session() {
            return session;
        }

        /** What approvers read: the request as the recording keeps it. */
        String requestText() {
            return request.text();
        }

        public String sessionId() {
            return session.sessionId();
        }

        /** Who asked; null for an operation refused before anyone was known. */
        public Identity identity() {
            return identity;
        }

        public void upstreamLatency(long nanos) {
            upstreamNanos = nanos;
            metrics.upstreamLatency(connection, Duration.ofNanos(nanos));
        }

        /**
         * The answer went to the agent as it came, at the agent's pace (a streamed body, a watch, an upgraded
         * connection's stream): its outcome comes when the stream ends, so the time to it is not the gateway's
         * ({@link GateMetrics#gatewayAdded}).
         */
        public void streamed() {
            streamed = true;
        }

        /** Refused or held by the gateway; the target never saw it. Recording failures are logged: the refusal stands. */
        public void completeRefused(long startNanos) {
            recordQuietly(Upstream.NOT_FORWARDED, Excerpt.NONE, startNanos);
        }

        /**
         * Refused by the adapter although policy let it through: a mask rule's search on a masked field, say.
         * Recorded as {@code refusal} (a deny of the deciding rule, with the adapter's reason) in place of
         * policy's verdict, never forwarded; counted as a deny of the rule too, beside policy's verdict.
         */
        public void completeRefused(Verdict.Deny refusal, long startNanos) {
            metrics.operation(connection, "deny", refusal.ruleId());
            try {
                session.record(event(new Decision(refusal, decision.shadow()), Upstream.NOT_FORWARDED, Excerpt.NONE, startNanos));
            } catch (RecordingFailedException e) {
                log.error("could not record the refusal of {} on {}: {}", operation.summary(), connection, e.getMessage());
            }
        }

        public void completeUpstreamFailed(String error, long startNanos) {
            recordQuietly(new Upstream.Failed(error), Excerpt.NONE, startNanos);
        }

        /** The response was cut short (masking failed, client went away). */
        public void completeAborted(int status, String error, long startNanos) {
            recordQuietly(new Upstream.Failed("status " + status + ", " + error), Excerpt.NONE, startNanos);
        }

        /** The target answered; returns once that is durable, so the caller may then release the response. */
        public void completeForwarded(int status, Excerpt maskedResponse, long startNanos) throws GateUnavailableException {
            try {
                session.record(event(decision, new Upstream.Responded(status), maskedResponse, startNanos));
            } catch (RecordingFailedException e) {
                throw unavailable(e);
            }
            // A call the target answered: the gateway's own part of it, its recording included. A hold's wait and a
            // stream's life (the adapter says which answers are streams: streamed()) are not the gateway's time;
            // neither is an operation whose upstream time no adapter measured.
            if (upstreamNanos > 0 && !streamed && !(decision.verdict() instanceof Verdict.HoldForApproval)) {
                metrics.gatewayAdded(connection, Duration.ofNanos(Math.max(0, System.nanoTime() - startNanos - upstreamNanos)));
            }
        }

        private void recordQuietly(Upstream upstream, Excerpt response, long startNanos) {
            try {
                session.record(event(decision, upstream, response, startNanos));
            } catch (RecordingFailedException e) {
                log.error("could not record the outcome of {} on {}: {}", operation.summary(), connection, e.getMessage());
            }
        }

        private AuditEvent event(Decision recorded, Upstream upstream, Excerpt response, long startNanos) {
            Timings timings = new Timings(decideNanos / 1000, upstreamNanos / 1000, (System.nanoTime() - startNanos) / 1000);
            return AuditEvent.OperationRecorded.of(operation, request, recorded, upstream, response, timings);
        }
    }
}
