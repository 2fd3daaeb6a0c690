package dev.portcullis.recording;

/**
 * Stable codes of audit events. Codes never change meaning and are never reused; the name is for
 * people, the code is what tools filter on.
 *
 * <p>Ranges: PC1xxx session lifecycle, PC2xxx operations, PC3xxx authentication,
 * PC4xxx approvals (request, approve, deny, expire, release, notify, revoke, grant end), PC5xxx protocol-specific detail
 * (SQL statements and row counts, SSH terminal output), PC9xxx gateway lifecycle.
 */
public enum EventCode {
    SESSION_START("session.start", "PC1000"),
    SESSION_END("session.end", "PC1001"),
    OPERATION("operation", "PC2000"),
    OPERATION_FORWARDING("operation.forwarding", "PC2001"),
    AUTH_FAILED("auth.failed", "PC3000"),
    APPROVAL_REQUESTED("approval.requested", "PC4000"),
    APPROVAL_APPROVED("approval.approved", "PC4001"),
    APPROVAL_DENIED("approval.denied", "PC4002"),
    APPROVAL_EXPIRED("approval.expired", "PC4003"),
    APPROVAL_RELEASED("approval.released", "PC4004"),
    APPROVAL_NOTIFIED("approval.notified", "PC4005"),
    APPROVAL_REVOKED("approval.revoked", "PC4006"),
    GRANT_ENDED("approval.grant-ended", "PC4007");

    private final String eventName;
    private final String code;

    EventCode(String eventName, String code) {
        this.eventName = eventName;
        this.code = code;
    }

    /** The event's name, e.g. {@code session.start}. */
    public String eventName() {
        return eventName;
    }

    /** The stable code, e.g. {@code PC1000}. */
    public String code() {
        return code;
    }

    public static EventCode fromCode(String code) {
        for (EventCode c : values()) {
            if (c.code.equals(code)) return c;
        }
        throw new IllegalArgumentException("unknown audit event code '" + code + "'");
    }
}
