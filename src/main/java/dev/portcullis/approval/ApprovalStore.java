package dev.portcullis.approval;

import java.util.List;
import java.util.Optional;

/**
 * Where approval requests are kept, durably. The embedded SQLite store implements it
 * ({@code EmbeddedStore.approvals()}); a PostgreSQL store for several replicas would too.
 * Every method throws {@code AuditStoreException} when the store cannot answer; callers fail closed.
 */
public interface ApprovalStore {

    /** Stores a new request; returns once it is durable. */
    void insert(ApprovalRequest request);

    /**
     * Replaces the stored request of the same id if its version is still {@code next.version() - 1};
     * false when another writer changed it first (nothing is written then).
     */
    boolean update(ApprovalRequest next);

    Optional<ApprovalRequest> get(String id);

    /** Requests in {@code state} (every state when empty), oldest first, at most {@code limit}. */
    List<ApprovalRequest> list(Optional<ApprovalState> state, int limit);

    /**
     * Time-boxed grant requests of {@code subject} for rule {@code ruleId} on {@code connection} that are
     * still pending or approved (an approved one may be past its end until it is swept), oldest first.
     */
    List<ApprovalRequest> grants(String subject, String connection, String ruleId);
}
