package dev.portcullis.policy;

import dev.portcullis.core.Identity;
import dev.portcullis.core.Operation;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A rule's {@code when}: every non-empty condition must hold; all empty matches every operation.
 *
 * @param groups    the caller is in any of these groups
 * @param subjects  the caller's subject is any of these
 * @param claims    claim → accepted values; the claim must be present with one of them
 * @param operation the protocol block; a rule whose block is for another protocol does not match
 */
public record Conditions(Set<String> groups, Set<String> subjects, Map<String, Set<String>> claims,
                         Optional<OperationCondition> operation) {
    public Conditions {
        groups = Set.copyOf(groups);
        subjects = Set.copyOf(subjects);
        claims = Map.copyOf(claims);
        Objects.requireNonNull(operation, "operation");
    }

    public static final Conditions ALWAYS = new Conditions(Set.of(), Set.of(), Map.of(), Optional.empty());

    /** @param everyValue see {@link HttpCondition#matches} and {@link SqlCondition}; true for allow rules */
    boolean matches(Identity identity, Operation op, boolean everyValue) {
        if (!groups.isEmpty() && !identity.inAnyGroup(groups)) return false;
        if (!subjects.isEmpty() && !subjects.contains(identity.subject())) return false;
        for (Map.Entry<String, Set<String>> c : claims.entrySet()) {
            String value = identity.claims().get(c.getKey());
            if (value == null || !c.getValue().contains(value)) return false;
        }
        return operation.isEmpty() || operation.get().matches(op, everyValue);
    }
}
