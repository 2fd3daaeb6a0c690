package dev.portcullis.policy;

import dev.portcullis.core.Operation;

/**
 * The protocol-specific part of a rule's conditions ({@code when.http}, {@code when.sql}, ...): one
 * implementation per protocol module, each matching only operations of its own protocol.
 */
public interface OperationCondition {

    /** The protocol this block applies to, as named in policy files ({@code http}, ...). */
    String protocol();

    /**
     * Whether {@code operation} meets this block; false for an operation of another protocol.
     *
     * @param everyValue how to read a condition on a field with several values (tables, query values):
     *                   true (allow rules) when every value must be accepted, false (deny and hold rules)
     *                   when one suffices, so that a rule never lets through more than it names
     */
    boolean matches(Operation operation, boolean everyValue);
}
