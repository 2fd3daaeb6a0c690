package dev.portcullis.gate;

import dev.portcullis.approval.ApprovalRefusedException;
import dev.portcullis.approval.ApprovalRequest;
import dev.portcullis.approval.ApprovalService;
import dev.portcullis.approval.ApprovalState;
import dev.portcullis.approval.OperationFingerprint;
import dev.portcullis.core.Identity;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.RecordingFailedException;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Just-in-time approval, once for every protocol: hold → notify → wait → release exactly once, or
 * refuse saying why (denied, revoked, expired, used already, approved for another operation, opened
 * by someone else). Adapters supply only how to tell their client, and how to notice it left
 * ({@link Client}); they turn an {@link Outcome} into their dialect (an ErrorResponse, an HTTP
 * problem, SSH stderr, a Kubernetes Status) without deciding anything.
 *
 * <p>An approval is bound to the exact operation ({@link OperationFingerprint}), to the connection and
 * to the requester, and releases that operation once. Every outcome but {@link Outcome.Released} means
 * nothing was forwarded; the adapter records it as refused ({@link Gate.Judged#completeRefused}).
 */
public final class ApprovalFlow {
    private static final Logger log = LoggerFactory.getLogger(ApprovalFlow.class);
    /** What an approval id looks like; anything else presented as one is refused before any lookup. */
    private static final Pattern APPROVAL_ID = Pattern.compile("apr_[a-z2-7]{20}");
    /** Between two looks at the decision, the adapter is asked whether its client is still there. */
    private static final long SLICE_NANOS = 1_000_000_000L;

    private final ApprovalService approvals;
    private final String pageBase;

    ApprovalFlow(ApprovalService approvals, String pageBase) {
        this.approvals = approvals;
        this.pageBase = pageBase;
    }

    /** How an adapter tells its client about a hold, and notices that the client went away. */
    public interface Client {
        /** The request is open and durable: tell the client what it waits for (a NOTICE, a status line). */
        default void held(ApprovalRequest request, String page) throws IOException {
        }

        /** Asked between waits: whether the client has gone, so an approval cannot run an operation nobody awaits. */
        default boolean left() throws IOException {
            return false;
        }
    }

    /** Why a held operation is not released under an approval; {@link #label()} is its name in problems and logs. */
    public enum Refusal {
        DENIED, REVOKED, EXPIRED, ALREADY_USED, NOT_APPROVED, DIFFERENT_OPERATION, DIFFERENT_REQUESTER, UNKNOWN;

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** How a hold ended. Only {@link Released} lets the operation go on. */
    public sealed interface Outcome {
        /** Approved for exactly this operation, and now spent: forward it. */
        record Released(String approvalId) implements Outcome {
        }

        /** Nobody decided within the adapter's wait; the client may come back with the id before {@code request.expiresAt()}. */
        record Pending(ApprovalRequest request, String page) implements Outcome {
        }

        /**
         * Not released. {@code request} is the approval as it stands, when there is one; {@code message}
         * says why in a sentence that names the request and the rule.
         */
        record Refused(Refusal why, String approvalId, Optional<ApprovalRequest> request, String message)
                implements Outcome {
        }

        /** The client went away during the wait; the operation will not run. */
        record ClientLeft(String approvalId) implements Outcome {
        }

        /** The approval could not be opened durably (store down): refuse, saying so. */
        record Unavailable(String message) implements Outcome {
        }
    }

    /** The page where a person decides on request {@code id}. */
    public String page(String id) {
        return pageBase + id;
    }

    /**
     * Opens an approval request for a held operation, tells the client, and waits up to {@code maxWait}
     * for a decision. A wait as long as the hold's own timeout ends the request: still undecided then,
     * it is refused as expired. A shorter wait (HTTP, whose clients time out) ends {@link Outcome.Pending}.
     *
     * @param body the request body bytes as sent (HTTP); empty for operations that carry their parameters
     */
    public Outcome hold(Gate.Judged judged, Identity identity, byte[] body, Verdict.HoldForApproval hold,
                        Duration maxWait, Client client) throws IOException, InterruptedException {
        ApprovalRequest opened;
        try {
            opened = approvals.request(identity, judged.connection(), judged.operation(), judged.requestText(),
                    OperationFingerprint.of(judged.operation(), body), hold, hold.holdTimeout(), judged.session());
        } catch (RecordingFailedException | dev.portcullis.store.AuditStoreException e) {
            return new Outcome.Unavailable(Gate.unavailable(new RecordingFailedException(e.getMessage(), e)).getMessage());
        }
        String id = opened.id();
        log.info("{} on '{}': {} held for approval by {} as {} (rule {})", identity.subject(), judged.connection(),
                judged.operation().summary(), String.join(", ", hold.approverGroups()), id, hold.ruleId());
        client.held(opened, page(id));
        boolean wholeHold = maxWait.compareTo(hold.holdTimeout()) >= 0;
        long deadline = System.nanoTime() + maxWait.toNanos();
        ApprovalRequest decided;
        while (true) {
            long left = deadline - System.nanoTime();
            decided = await(id, Duration.ofNanos(Math.max(0, Math.min(left, SLICE_NANOS))));
            if (decided.state() != ApprovalState.PENDING || left <= 0) break;
            if (client.left()) {
                log.info("{} on '{}': client left while {} was held; it will not run", identity.subject(),
                        judged.connection(), id);
                return new Outcome.ClientLeft(id);
            }
        }
        if (decided.state() == ApprovalState.PENDING && !wholeHold) return new Outcome.Pending(decided, page(id));
        if (decided.state() == ApprovalState.APPROVED && approvals.consume(id, OperationFingerprint.of(judged.operation(), body))) {
            log.info("{} on '{}': {} released", identity.subject(), judged.connection(), id);
            return new Outcome.Released(id);
        }
        ApprovalRequest now = current(id).orElse(decided);
        if (now.state() == ApprovalState.PENDING || now.state() == ApprovalState.EXPIRED && now.grant().isEmpty()) {
            return new Outcome.Refused(Refusal.EXPIRED, id, Optional.of(now), "approval request " + id + " (rule "
                    + hold.ruleId() + ") expired: nobody in " + String.join(", ", hold.approverGroups())
                    + " approved it within " + human(hold.holdTimeout()));
        }
        return refused(Optional.of(now), id, judged, body);
    }

    /**
     * The client comes back with approval {@code presented} for a held operation: released once if it is
     * approved for exactly this operation, this connection and this requester; otherwise refused, or
     * {@link Outcome.Pending} when that very request is still undecided.
     */
    public Outcome release(Gate.Judged judged, Identity identity, byte[] body, String presented) {
        if (!APPROVAL_ID.matcher(presented).matches()) {
            return new Outcome.Refused(Refusal.UNKNOWN, null, Optional.empty(),
                    "'" + abbreviate(presented) + "' is not an approval id (apr_ and 20 characters)");
        }
        Optional<ApprovalRequest> found = current(presented);
        if (found.isEmpty()) return refused(found, presented, judged, body);
        ApprovalRequest r = found.get();
        // Someone else's approval is never spent here, even for the identical operation.
        if (!r.connection().equals(judged.connection()) || !r.requester().subject().equals(identity.subject())) {
            log.warn("{} presented approval {} of {} on {}; refused", identity.subject(), presented,
                    r.requester().subject(), judged.connection());
            return new Outcome.Refused(Refusal.DIFFERENT_REQUESTER, presented, found, "approval request " + presented
                    + " was opened by another caller or on another connection; it cannot release this operation");
        }
        if (approvals.consume(presented, OperationFingerprint.of(judged.operation(), body))) {
            log.info("released {} by {} on {} under approval {}", judged.operation().summary(), identity.subject(),
                    judged.connection(), presented);
            return new Outcome.Released(presented);
        }
        Optional<ApprovalRequest> now = current(presented);
        if (now.isPresent() && now.get().state() == ApprovalState.PENDING && sameOperation(now.get(), judged, body)) {
            return new Outcome.Pending(now.get(), page(presented));
        }
        return refused(now, presented, judged, body);
    }

    /** Why {@code id} does not release this operation, as far as the request tells. */
    private Outcome.Refused refused(Optional<ApprovalRequest> found, String id, Gate.Judged judged, byte[] body) {
        if (found.isEmpty()) {
            return new Outcome.Refused(Refusal.UNKNOWN, id, found, "there is no approval request " + id);
        }
        ApprovalRequest r = found.get();
        String request = "approval request " + id;
        Optional<java.time.Instant> grantEnd = r.grant().flatMap(g -> g.until());
        return switch (r.state()) {
            case DENIED -> new Outcome.Refused(Refusal.DENIED, id, found, request + " for rule " + r.ruleId()
                    + " was denied" + r.denial().map(d -> " by " + d.subject() + ": " + d.reason()).orElse(""));
            case REVOKED -> new Outcome.Refused(Refusal.REVOKED, id, found, request + " for rule " + r.ruleId()
                    + " was revoked" + r.denial().map(d -> " by " + d.subject() + ": " + d.reason()).orElse(""));
            case RELEASED -> new Outcome.Refused(Refusal.ALREADY_USED, id, found, request
                    + " has already been used; an approval releases one operation, once");
            case PENDING -> new Outcome.Refused(Refusal.NOT_APPROVED, id, found, request + " is not approved yet ("
                    + r.approvals().size() + " of " + r.approvalsRequired() + " approvals); approve it at " + page(id));
            case EXPIRED -> new Outcome.Refused(Refusal.EXPIRED, id, found, grantEnd.isPresent()
                    ? "the grant of " + request + " ended at " + grantEnd.get()
                    : request + " expired at " + r.expiresAt() + " without being approved");
            case APPROVED -> grantEnd.isPresent()
                    ? new Outcome.Refused(Refusal.EXPIRED, id, found, "the grant of " + request + " ended at " + grantEnd.get())
                    : !sameOperation(r, judged, body)
                    ? new Outcome.Refused(Refusal.DIFFERENT_OPERATION, id, found, request
                            + " was approved for a different operation (" + r.summary() + "); only that exact operation can be released")
                    : new Outcome.Refused(Refusal.EXPIRED, id, found, request + " was approved but expired at "
                            + r.expiresAt() + " before it was used");
        };
    }

    private static boolean sameOperation(ApprovalRequest r, Gate.Judged judged, byte[] body) {
        return r.fingerprint().equals(OperationFingerprint.of(judged.operation(), body));
    }

    /** The request as it stands now (a pending one past its expiry is closed on the way); empty if there is none. */
    private Optional<ApprovalRequest> current(String id) {
        try {
            return Optional.of(approvals.await(id, Duration.ZERO));
        } catch (ApprovalRefusedException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private ApprovalRequest await(String id, Duration max) throws InterruptedException {
        try {
            return approvals.await(id, max);
        } catch (ApprovalRefusedException e) {
            throw new IllegalStateException("approval request " + id + " vanished: " + e.getMessage(), e);
        }
    }

    /** {@code PT2M30S} → {@code 2m30s}. */
    public static String human(Duration d) {
        return d.toString().substring(2).toLowerCase(Locale.ROOT);
    }

    private static String abbreviate(String s) {
        String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() <= 40 ? printable : printable.substring(0, 40) + "…";
    }
}
