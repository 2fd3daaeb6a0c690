package dev.portcullis.approval.notify;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What approvers are told about one held operation. Decoupled from the approval service's own types
 * so this package can be built, tested and evolved on its own.
 *
 * @param operationSummary already masked by the caller; channels show it verbatim (escaped)
 * @param operationDetail  the whole statement and its parameters, or the body, as the approval page
 *                         shows it (secrets redacted by the caller); may be empty
 * @param grant            for a time-boxed grant: how long the requester may run every operation of
 *                         the rule once approved, so approvers know they approve more than this one
 * @param approvePageUrl   the human page where an approver decides
 * @param apiUrl           the REST resource {@code …/api/v1/approvals/{id}}, for bots and ticketing systems
 */
public record Notification(
        String requestId,
        String connection,
        String requesterSubject,
        String operationSummary,
        String operationDetail,
        String ruleId,
        String reason,
        List<String> approverGroups,
        int approvalsRequired,
        Optional<Duration> grant,
        Instant createdAt,
        Instant expiresAt,
        URI approvePageUrl,
        URI apiUrl) {

    public Notification {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(requesterSubject, "requesterSubject");
        Objects.requireNonNull(operationSummary, "operationSummary");
        Objects.requireNonNull(operationDetail, "operationDetail");
        Objects.requireNonNull(ruleId, "ruleId");
        Objects.requireNonNull(reason, "reason");
        approverGroups = List.copyOf(approverGroups);
        Objects.requireNonNull(grant, "grant");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(approvePageUrl, "approvePageUrl");
        Objects.requireNonNull(apiUrl, "apiUrl");
        if (approvalsRequired < 1) {
            throw new IllegalArgumentException("approvalsRequired must be at least 1, was " + approvalsRequired);
        }
        if (expiresAt.isBefore(createdAt)) {
            throw new IllegalArgumentException("expiresAt " + expiresAt + " is before createdAt " + createdAt);
        }
    }
}
