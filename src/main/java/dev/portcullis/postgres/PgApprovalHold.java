package dev.portcullis.postgres;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.gate.ApprovalFlow;
import dev.portcullis.gate.Gate;
import dev.portcullis.policy.Verdict;
import java.io.EOFException;
import java.io.IOException;
import java.util.Optional;

/**
 * A statement held for approval inside a live session, in PostgreSQL's dialect: the approval flow is
 * the gate's ({@link ApprovalFlow}); this says it with a NoticeResponse while the session waits, notices
 * a client that left, and turns every way the approval ends into an ErrorResponse or a release.
 */
final class PgApprovalHold {
    private PgApprovalHold() {
    }

    /**
     * Holds this client's thread (a virtual thread) until the held statement is approved and released,
     * denied, or expires (the one approval flow, {@link ApprovalFlow}). The client is told at once, by a
     * NoticeResponse, which request it waits for and where it is decided; between waits the session
     * looks whether the client is still there, so an approval given after it left runs nothing.
     *
     * @return empty once released: forward the statement; else the refusal the client gets instead
     */
    static Optional<BackendMessage.ErrorResponse> hold(PgSession session, Gate.Judged judged, SqlStatement statement,
                                                                   Verdict.HoldForApproval hold, byte[] body) throws IOException {
        String groups = String.join(", ", hold.approverGroups());
        ApprovalFlow.Outcome outcome;
        try {
            outcome = session.gate.approvals().hold(judged, session.identity, body, hold, hold.holdTimeout(), new ApprovalFlow.Client() {
                @Override
                public void held(dev.portcullis.approval.ApprovalRequest request, String page) throws IOException {
                    synchronized (session.clientWriteLock) {
                        session.clientOut.write(PgErrors.notice("01000",
                                "Portcullis: statement waits for approval by " + groups + " (request " + request.id() + ")",
                                "statement: " + statement.summary() + "\nrule " + hold.ruleId() + ": " + hold.reason()
                                        + hold.grant().map(g -> "\nonce approved, statements of this rule run without asking for "
                                                + ApprovalFlow.human(g)).orElse(""),
                                "approve or deny at " + page + "; this session waits up to " + ApprovalFlow.human(hold.holdTimeout())));
                        session.clientOut.flush();
                    }
                }

                @Override
                public boolean left() throws IOException {
                    return session.clientLeft();
                }
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while a statement was held for approval");
        }
        String detail = "statement: " + statement.summary() + "\nrule " + hold.ruleId() + ": " + hold.reason();
        return switch (outcome) {
            case ApprovalFlow.Outcome.Released released -> Optional.empty();
            case ApprovalFlow.Outcome.ClientLeft left -> throw new EOFException("the client left while " + left.approvalId() + " was held");
            case ApprovalFlow.Outcome.Unavailable u -> Optional.of(PgErrors.error("08006", "Portcullis: " + u.message()));
            case ApprovalFlow.Outcome.Pending p -> throw new IllegalStateException("a hold as long as its timeout ended pending");
            case ApprovalFlow.Outcome.Refused r -> Optional.of(PgErrors.error("42501", "Portcullis: " + r.message()
                    + (r.why() == ApprovalFlow.Refusal.EXPIRED ? ", so the statement was not run" : ""), detail,
                    r.why() == ApprovalFlow.Refusal.EXPIRED ? "send it again to request a new approval" : null));
        };
    }
}
