package dev.portcullis.approval;

/** A decision or lookup the service refused, with why; the admin API maps {@link #kind()} to a status. */
public final class ApprovalRefusedException extends Exception {

    public enum Kind {
        /** No request with that id. */
        UNKNOWN,
        /** The caller is in none of the approver groups. */
        NOT_AN_APPROVER,
        /** The caller sent the operation; nobody approves their own request. */
        OWN_REQUEST,
        /** The caller already approved this request; each approver counts once. */
        ALREADY_APPROVED,
        /** The request is approved, denied, expired or released: it cannot change any more. */
        NOT_PENDING,
        /** Another writer (replica) changed the request at the same moment; try again. */
        CONFLICT
    }

    private final Kind kind;

    public ApprovalRefusedException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
