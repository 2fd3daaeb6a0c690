package dev.portcullis.core;

/**
 * One thing an agent asks a target to do, whatever the protocol. Policy, approvals, masking and
 * recording work on this type only.
 */
public sealed interface Operation permits HttpCall, SqlStatement {

    /** The protocol family, as used in policy files and recordings: {@code http}, {@code sql}, ... */
    String protocol();

    /** One human-readable line, e.g. {@code POST /api/v1/users/00u1/roles}. Never contains secrets. */
    String summary();

    /**
     * Whether forwarding it may change the target. Such operations are recorded durably before they
     * are forwarded; reads are recorded durably before their response is released.
     */
    boolean mayChangeTarget();
}
