package dev.portcullis.approval;

import java.util.Locale;

/**
 * Where an approval request stands. Only {@link #PENDING} can change by a decision; only
 * {@link #APPROVED} can be released: once for a single operation, any number of times for a
 * time-boxed grant until its time runs out ({@link #EXPIRED}) or an approver revokes it
 * ({@link #REVOKED}).
 */
public enum ApprovalState {
    PENDING, APPROVED, DENIED, EXPIRED, RELEASED, REVOKED;

    /** {@code pending}, {@code approved}, ...: how the API and the store name it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException when {@code label} names no state */
    public static ApprovalState fromLabel(String label) {
        for (ApprovalState s : values()) {
            if (s.label().equalsIgnoreCase(label)) return s;
        }
        throw new IllegalArgumentException("unknown approval state '" + label + "' (expected pending, approved, denied, expired, released or revoked)");
    }
}
