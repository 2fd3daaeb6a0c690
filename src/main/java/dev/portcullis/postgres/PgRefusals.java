package dev.portcullis.postgres;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.policy.Verdict;
import java.io.IOException;
import java.util.Optional;

/**
 * How a statement is refused without the server ever seeing it. None of a refused unit's messages
 * reach the server; in their place goes an Execute of a portal that does not exist, so the server
 * fails as it would on an error of its own (an open transaction is aborted, and COMMIT cannot keep
 * half of it), and the client gets the refusal in place of the server's ErrorResponse
 * ({@link ResponseUnit#replaces}).
 */
final class PgRefusals {
    /** The portal a refused unit executes instead: it never exists, so the server answers with an error. */
    static final String REFUSED_PORTAL = "portcullis: refused statement, not sent";

    private PgRefusals() {
    }

    /** Sends what takes a refused unit's place: an Execute of {@link #REFUSED_PORTAL} and a Sync. */
    static void failInPlace(PgMessageWriter toServer) throws IOException {
        toServer.write(new FrontendMessage.Execute(REFUSED_PORTAL, 0));
        toServer.write(new FrontendMessage.Sync());
        toServer.flush();
    }

    /** The client's error for a verdict that does not let the statement run; empty when it may run. */
    static Optional<BackendMessage.ErrorResponse> of(Verdict verdict, SqlStatement statement) {
        return switch (verdict) {
            case Verdict.Allow a -> Optional.empty();
            case Verdict.Mask m -> Optional.empty();
            case Verdict.Granted g -> Optional.empty();
            case Verdict.Deny d -> Optional.of(PgErrors.error("42501",
                    "Portcullis: refused by rule " + d.ruleId() + ": " + d.reason(),
                    "statement: " + statement.summary(), null));
            case Verdict.HoldForApproval h -> Optional.of(PgErrors.error("42501",
                    "Portcullis: rule " + h.ruleId() + " requires approval by " + String.join(", ", h.approverGroups())
                            + ": " + h.reason(),
                    "statement: " + statement.summary(),
                    "a statement that needs approval is held only when it is prepared and executed on its own, "
                            + "so it is refused here"));
        };
    }
}
