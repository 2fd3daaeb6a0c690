package dev.portcullis.core;

import java.util.List;

/**
 * One thing an agent asks a target to do, whatever the protocol. Policy, approvals, masking and
 * recording work on this type only; each protocol module has its own implementation.
 *
 * <p>Two views of an operation are canonical, and every part of the gateway uses them rather than
 * rendering operations itself: {@link #summary()}, the one line people read (policy test output,
 * recordings, metrics and logs, approval requests), and {@link #identity()}, what makes it exactly
 * this operation (the approval fingerprint), so the operation judged is the operation approved,
 * tested and recorded.
 */
public interface Operation {

    /** The protocol family, as used in policy files and recordings: {@code http}, {@code sql}, ... */
    String protocol();

    /** One human-readable line, e.g. {@code POST /api/v1/users/00u1/roles}. Never contains secrets. */
    String summary();

    /**
     * What identifies exactly this operation, field by field: any difference in any field is another
     * operation (SQL: its text and each bind parameter; HTTP: method, path and raw query, the body
     * being added by whoever holds its bytes). An approval is bound to these fields.
     */
    List<String> identity();

    /**
     * Whether the request body's bytes, as sent, are part of its identity after {@link #identity()} (HTTP:
     * the body is not kept in the operation, only parsed). False when the operation carries all of it.
     */
    default boolean bodyIsPartOfIdentity() {
        return false;
    }

    /**
     * Whether forwarding it may change the target. Such operations are recorded durably before they
     * are forwarded; reads are recorded durably before their response is released.
     */
    boolean mayChangeTarget();
}
