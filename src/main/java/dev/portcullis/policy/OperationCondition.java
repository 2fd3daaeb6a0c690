package dev.portcullis.policy;

/**
 * The protocol-specific part of a rule's conditions: one implementation per protocol, each matched
 * only against the {@link dev.portcullis.core.Operation} of its own protocol (see
 * {@link Conditions#matches}). {@code kubernetes} and {@code ssh} join as siblings.
 */
public sealed interface OperationCondition permits HttpCondition, SqlCondition {

    /** The protocol this block applies to, as named in policy files ({@code http}, ...). */
    String protocol();
}
