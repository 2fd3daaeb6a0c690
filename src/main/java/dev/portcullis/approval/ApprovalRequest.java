package dev.portcullis.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One held operation waiting for (or done with) human approval. Immutable: every change is a new
 * value with {@link #version()} one higher, which the store uses to refuse a lost update.
 *
 * @param id                unguessable, {@code apr_} and 20 base32 characters
 * @param connection        the configured connection the operation was sent to
 * @param requester         who sent the operation; never the raw token
 * @param protocol          {@code sql}, {@code http}, ...
 * @param summary           the operation on one line, as policy and recordings show it
 * @param detail            what approvers read to decide: the whole statement with its bind parameters, or
 *                          the request body, as sent with secrets redacted, at most {@value #MAX_DETAIL_CHARS} characters
 * @param fingerprint       {@link OperationFingerprint} of the exact operation; only it can be released
 * @param ruleId            the rule that required approval
 * @param reason            the rule's reason, shown to approvers
 * @param approverGroups    a member of any of them may approve or deny
 * @param approvalsRequired distinct approvers needed
 * @param approvals         approvals so far, oldest first, one per approver
 * @param state             where it stands
 * @param denial            who denied it and why, when {@link ApprovalState#DENIED}; who revoked it and why,
 *                          when {@link ApprovalState#REVOKED}
 * @param createdAt         when it was requested
 * @param expiresAt         when a still-pending request expires
 * @param version           starts at 1, one higher with each change
 * @param grant             for a time-boxed grant: how long access lasts once approved, and until when
 */
public record ApprovalRequest(String id, String connection, Requester requester, String protocol, String summary,
                              String detail, String fingerprint, String ruleId, String reason, List<String> approverGroups,
                              int approvalsRequired, List<Approval> approvals, ApprovalState state,
                              Optional<Denial> denial, Instant createdAt, Instant expiresAt, long version,
                              Optional<Grant> grant) {

    public ApprovalRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(requester, "requester");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(fingerprint, "fingerprint");
        Objects.requireNonNull(ruleId, "ruleId");
        Objects.requireNonNull(reason, "reason");
        approverGroups = List.copyOf(approverGroups);
        if (approvalsRequired < 1) throw new IllegalArgumentException("approvalsRequired must be >= 1");
        approvals = List.copyOf(approvals);
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(denial, "denial");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(grant, "grant");
    }

    /**
     * A time-boxed grant: once approved, the requester may run every operation of the rule on the
     * connection for {@code duration}, until {@code until} (empty until it is approved).
     */
    public record Grant(Duration duration, Optional<Instant> until) {
        public Grant {
            Objects.requireNonNull(duration, "duration");
            if (duration.isNegative() || duration.isZero()) throw new IllegalArgumentException("grant duration must be positive");
            Objects.requireNonNull(until, "until");
        }
    }

    /** True for an approved grant whose time has not run out at {@code now}. */
    public boolean grantActiveAt(Instant now) {
        return state == ApprovalState.APPROVED && grant.flatMap(Grant::until).map(now::isBefore).orElse(false);
    }


    /** Longer details are cut; the fingerprint still binds the whole operation. */
    public static final int MAX_DETAIL_CHARS = 16 * 1024;

    /** {@code text} cut to {@link #MAX_DETAIL_CHARS}, saying so. */
    public static String detailOf(String text) {
        if (text.length() <= MAX_DETAIL_CHARS) return text;
        return text.substring(0, MAX_DETAIL_CHARS) + "\n… (" + (text.length() - MAX_DETAIL_CHARS) + " more characters not shown)";
    }

    /** Who sent the held operation: subject, groups and token id (never the token itself). */
    public record Requester(String subject, Set<String> groups, String tokenId) {
        public Requester {
            Objects.requireNonNull(subject, "subject");
            groups = Set.copyOf(groups);
            Objects.requireNonNull(tokenId, "tokenId");
        }
    }

    /** One approver's approval. */
    public record Approval(String subject, Instant at) {
        public Approval {
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(at, "at");
        }
    }

    /** Who denied, why, and when. */
    public record Denial(String subject, String reason, Instant at) {
        public Denial {
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(at, "at");
        }
    }

    public boolean approvedBy(String subject) {
        return approvals.stream().anyMatch(a -> a.subject().equals(subject));
    }

    ApprovalRequest withApproval(Approval approval) {
        List<Approval> more = new java.util.ArrayList<>(approvals);
        more.add(approval);
        ApprovalState next = more.size() >= approvalsRequired ? ApprovalState.APPROVED : ApprovalState.PENDING;
        // A grant's time starts when it is approved, not when it was asked for.
        Optional<Grant> g = next == ApprovalState.APPROVED
                ? grant.map(x -> new Grant(x.duration(), Optional.of(approval.at().plus(x.duration()))))
                : grant;
        return new ApprovalRequest(id, connection, requester, protocol, summary, detail, fingerprint, ruleId, reason,
                approverGroups, approvalsRequired, more, next, denial, createdAt, expiresAt, version + 1, g);
    }

    ApprovalRequest denied(Denial by) {
        return new ApprovalRequest(id, connection, requester, protocol, summary, detail, fingerprint, ruleId, reason,
                approverGroups, approvalsRequired, approvals, ApprovalState.DENIED, Optional.of(by), createdAt,
                expiresAt, version + 1, grant);
    }

    ApprovalRequest revoked(Denial by) {
        return new ApprovalRequest(id, connection, requester, protocol, summary, detail, fingerprint, ruleId, reason,
                approverGroups, approvalsRequired, approvals, ApprovalState.REVOKED, Optional.of(by), createdAt,
                expiresAt, version + 1, grant);
    }

    ApprovalRequest inState(ApprovalState next) {
        return new ApprovalRequest(id, connection, requester, protocol, summary, detail, fingerprint, ruleId, reason,
                approverGroups, approvalsRequired, approvals, next, denial, createdAt, expiresAt, version + 1, grant);
    }
}
