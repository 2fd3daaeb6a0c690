package dev.portcullis.recording;

import dev.portcullis.core.Identity;
import dev.portcullis.core.Operation;
import dev.portcullis.policy.Decision;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The catalog of audit events. Each has a stable {@link EventCode}; its canonical JSON (fixed field
 * order, see {@link AuditJson}) is what the hash chain covers. No event carries a raw token or a
 * target credential: identities are recorded by subject and token id.
 */
public sealed interface AuditEvent {

    EventCode code();

    /** Whether this event records a refusal; counted per session. */
    default boolean refused() {
        return false;
    }

    /**
     * PC1000: a session began. For the per-client session that holds failed authentications,
     * the identity fields are empty.
     *
     * @param groups sorted, so the JSON is the same whatever order the token listed them in
     */
    record SessionStarted(String subject, List<String> groups, String tokenId, String clientId, String issuer,
                          String connection, String protocol, String clientAddress) implements AuditEvent {
        public SessionStarted {
            Objects.requireNonNull(subject, "subject");
            groups = groups.stream().sorted().toList();
            Objects.requireNonNull(tokenId, "tokenId");
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(issuer, "issuer");
            Objects.requireNonNull(connection, "connection");
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(clientAddress, "clientAddress");
        }

        public static SessionStarted of(Identity identity, String connection, String protocol, String clientAddress) {
            return new SessionStarted(identity.subject(), List.copyOf(identity.groups()), identity.tokenId(),
                    identity.clientId(), identity.issuer(), connection, protocol, clientAddress);
        }

        static SessionStarted unauthenticated(String connection, String protocol, String clientAddress) {
            return new SessionStarted("", List.of(), "", "", "", connection, protocol, clientAddress);
        }

        @Override
        public EventCode code() {
            return EventCode.SESSION_START;
        }
    }

    /** PC1001: a connection-bound session ended (client disconnected, gateway shut down). */
    record SessionEnded(String reason) implements AuditEvent {
        public SessionEnded {
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public EventCode code() {
            return EventCode.SESSION_END;
        }
    }

    /**
     * PC2000: one operation and what became of it: refused (verdict deny), forwarded and answered,
     * or forwarded and failed upstream.
     *
     * @param request  excerpt of the request as sent, secrets redacted
     * @param shadow   what dry-run rules would have decided; never enforced
     * @param response masked excerpt of the response as the client received it
     */
    record OperationRecorded(String protocol, String summary, Excerpt request, RecordedVerdict verdict,
                             List<RecordedVerdict> shadow, Upstream upstream, Excerpt response, Timings timings)
            implements AuditEvent {
        public OperationRecorded {
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(summary, "summary");
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(verdict, "verdict");
            shadow = List.copyOf(shadow);
            Objects.requireNonNull(upstream, "upstream");
            Objects.requireNonNull(response, "response");
            Objects.requireNonNull(timings, "timings");
        }

        public static OperationRecorded of(Operation operation, Excerpt request, Decision decision,
                                           Upstream upstream, Excerpt maskedResponse, Timings timings) {
            return new OperationRecorded(operation.protocol(), operation.summary(), request,
                    RecordedVerdict.of(decision.verdict()),
                    decision.shadow().stream().map(RecordedVerdict::of).toList(), upstream, maskedResponse, timings);
        }

        @Override
        public EventCode code() {
            return EventCode.OPERATION;
        }

        @Override
        public boolean refused() {
            return verdict.kind() == RecordedVerdict.Kind.DENY;
        }
    }

    /**
     * PC2001: an allowed operation is about to be forwarded to its target. Recorded durably before
     * anything is sent, so that no operation reaches a target without a trail even if the gateway
     * dies before its outcome ({@link OperationRecorded}) is recorded.
     */
    record OperationForwarding(String protocol, String summary, Excerpt request, RecordedVerdict verdict,
                               List<RecordedVerdict> shadow) implements AuditEvent {
        public OperationForwarding {
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(summary, "summary");
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(verdict, "verdict");
            shadow = List.copyOf(shadow);
        }

        public static OperationForwarding of(Operation operation, Excerpt request, Decision decision) {
            return new OperationForwarding(operation.protocol(), operation.summary(), request,
                    RecordedVerdict.of(decision.verdict()), decision.shadow().stream().map(RecordedVerdict::of).toList());
        }

        @Override
        public EventCode code() {
            return EventCode.OPERATION_FORWARDING;
        }
    }

    /**
     * PC3000: a caller without a valid identity was turned away. Anything that looks like a bearer or
     * JWT in {@code reason} or {@code message} is redacted, in case an adapter passes an error text
     * that quotes the token.
     *
     * @param reason a short label, e.g. {@code expired}, {@code bad-signature}, {@code missing}
     */
    record AuthFailed(String connection, String protocol, String clientAddress, String reason, String message)
            implements AuditEvent {
        private static final Pattern JWT = Pattern.compile("eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");
        private static final Pattern CREDENTIAL =
                Pattern.compile("(?i)\\b(bearer|basic|ssws|token|password)([\\s:=]+)\\S{12,}");

        public AuthFailed {
            Objects.requireNonNull(connection, "connection");
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(clientAddress, "clientAddress");
            reason = redact(Objects.requireNonNull(reason, "reason"));
            message = redact(Objects.requireNonNull(message, "message"));
        }

        private static String redact(String text) {
            String noJwt = JWT.matcher(text).replaceAll("[redacted]");
            return CREDENTIAL.matcher(noJwt).replaceAll("$1$2[redacted]");
        }

        @Override
        public EventCode code() {
            return EventCode.AUTH_FAILED;
        }

        @Override
        public boolean refused() {
            return true;
        }
    }
    /**
     * PC4000: an operation is held until it is approved. The requester is named by subject and token id.
     *
     * @param detail      what approvers are shown: the whole statement and parameters, or the body, as sent, secrets redacted
     * @param fingerprint SHA-256 over the exact operation; only that operation can be released
     * @param approverGroups sorted
     * @param grant       for a time-boxed grant: how long the requester may run the rule's operations once approved
     */
    record ApprovalRequested(String approvalId, String connection, String subject, String tokenId, String protocol,
                             String summary, String detail, String fingerprint, String ruleId, String reason,
                             List<String> approverGroups, int approvalsRequired, Instant expiresAt,
                             Optional<Duration> grant)
            implements AuditEvent {
        public ApprovalRequested {
            Objects.requireNonNull(approvalId, "approvalId");
            Objects.requireNonNull(connection, "connection");
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(tokenId, "tokenId");
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(summary, "summary");
            Objects.requireNonNull(detail, "detail");
            Objects.requireNonNull(fingerprint, "fingerprint");
            Objects.requireNonNull(ruleId, "ruleId");
            Objects.requireNonNull(reason, "reason");
            approverGroups = approverGroups.stream().sorted().toList();
            Objects.requireNonNull(expiresAt, "expiresAt");
            Objects.requireNonNull(grant, "grant");
        }

        @Override
        public EventCode code() {
            return EventCode.APPROVAL_REQUESTED;
        }
    }

    /**
     * PC4001: one approver approved; {@code approvals} of {@code approvalsRequired} so far. When they are
     * equal the request is approved and its operation may be released once, or, for a time-boxed grant,
     * the rule's operations are granted to the requester until {@code grantUntil}.
     *
     * @param approverGroups sorted
     */
    record ApprovalApproved(String approvalId, String approverSubject, List<String> approverGroups,
                            String approverTokenId, int approvals, int approvalsRequired,
                            Optional<Instant> grantUntil) implements AuditEvent {
        public ApprovalApproved {
            Objects.requireNonNull(approvalId, "approvalId");
            Objects.requireNonNull(approverSubject, "approverSubject");
            approverGroups = approverGroups.stream().sorted().toList();
            Objects.requireNonNull(approverTokenId, "approverTokenId");
            Objects.requireNonNull(grantUntil, "grantUntil");
        }

        /** An approval that opens no grant. */
        public ApprovalApproved(String approvalId, String approverSubject, List<String> approverGroups,
                                String approverTokenId, int approvals, int approvalsRequired) {
            this(approvalId, approverSubject, approverGroups, approverTokenId, approvals, approvalsRequired,
                    Optional.empty());
        }

        @Override
        public EventCode code() {
            return EventCode.APPROVAL_APPROVED;
        }
    }

    /**
     * PC4002: an approver denied the request; its operation is refused.
     *
     * @param approverGroups sorted
     */
    record ApprovalDenied(String approvalId, String approverSubject, List<String> approverGroups,
                          String approverTokenId, String reason) implements AuditEvent {
        public ApprovalDenied {
            Objects.requireNonNull(approvalId, "approvalId");
            Objects.requireNonNull(approverSubject, "approverSubject");
            approverGroups = approverGroups.stream().sorted().toList();
            Objects.requireNonNull(approverTokenId, "approverTokenId");
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public EventCode code() {
            return EventCode.APPROVAL_DENIED;
        }

        @Override
        public boolean refused() {
            return true;
        }
    }

    /** PC4003: nobody decided before {@code expiresAt}; the operation is refused. */
    record ApprovalExpired(String approvalId, Instant expiresAt) implements AuditEvent {
        public ApprovalExpired {
            Objects.requireNonNull(approvalId, "approvalId");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }

        @Override
        public EventCode code() {
            return EventCode.APPROVAL_EXPIRED;
        }

        @Override
        public boolean refused() {
            return true;
        }
    }

    /**
     * PC4005: approvers were told of a request through a channel, or could not be.
     *
     * @param channel  the channel's name (never its URL, which may be a credential)
     * @param error    why the delivery failed; empty when delivered
     */
    record ApprovalNotified(String approvalId, String channel, boolean delivered, int attempts, String error)
            implements AuditEvent {
        public ApprovalNotified {
            Objects.requireNonNull(approvalId, "approvalId");
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(error, "error");
        }

        @Override
        public EventCode code() {
            return EventCode.APPROVAL_NOTIFIED;
        }
    }

    /**
     * PC4004: the approved operation, with the fingerprint it was approved for, is released to its
     * target. Happens at most once per request; under a time-boxed grant, once per held operation
     * (operations sent while the grant runs are recorded as operations with verdict {@code grant}).
     */
    record ApprovalReleased(String approvalId, String fingerprint) implements AuditEvent {
        public ApprovalReleased {
            Objects.requireNonNull(approvalId, "approvalId");
            Objects.requireNonNull(fingerprint, "fingerprint");
        }

        @Override
        public EventCode code() {
            return EventCode.APPROVAL_RELEASED;
        }
    }

    /**
     * PC4006: an approver (or the requester) revoked an approved request or a running grant; nothing
     * more is released under it.
     *
     * @param groups sorted
     */
    record ApprovalRevoked(String approvalId, String subject, List<String> groups, String tokenId, String reason)
            implements AuditEvent {
        public ApprovalRevoked {
            Objects.requireNonNull(approvalId, "approvalId");
            Objects.requireNonNull(subject, "subject");
            groups = groups.stream().sorted().toList();
            Objects.requireNonNull(tokenId, "tokenId");
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public EventCode code() {
            return EventCode.APPROVAL_REVOKED;
        }
    }

    /** PC4007: a time-boxed grant's time ran out at {@code endedAt}; its rule holds operations again. */
    record GrantEnded(String approvalId, Instant endedAt) implements AuditEvent {
        public GrantEnded {
            Objects.requireNonNull(approvalId, "approvalId");
            Objects.requireNonNull(endedAt, "endedAt");
        }

        @Override
        public EventCode code() {
            return EventCode.GRANT_ENDED;
        }
    }
}
