package dev.portcullis.http;

import dev.portcullis.http.OktaFilter.Comparison;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.PredicateMode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A search on a masked field, found in a request's filter parameters: the oracle a mask rule must close.
 * With {@code search=profile.email sw "a"} an agent learns a masked email one character at a time by
 * watching which users come back, though it never sees one.
 *
 * <p>{@link #find} reads each of the connection's {@code filter-params} present in the request (every
 * occurrence, names without case) as an {@link OktaFilter} and judges each comparison on a masked
 * field by the rule's {@link PredicateMode}. A value it cannot read is taken as a search over every
 * field (Okta's {@code q} is a free-text prefix search over names and email), so it is refused too.
 *
 * @param parameter the query parameter as the agent wrote its name
 * @param field     the mask rule's field that covers the searched attribute; for an unreadable value,
 *                  every masked field
 * @param operator  the operator used on it ({@code sw}, ...), or {@code search} for an unreadable value
 * @param detail    what the agent is told, naming the rule, field, operator and predicates mode
 */
record MaskedFieldSearch(String parameter, String field, String operator, PredicateMode predicates, String detail) {

    /**
     * The first search on a masked field in {@code query}, if any. Costs nothing unless the plan masks
     * fields, its mode is not {@code allow}, and a filter parameter is present.
     */
    static Optional<MaskedFieldSearch> find(List<String> filterParams, Map<String, List<String>> query,
                                            String ruleId, MaskPlan plan) {
        if (filterParams.isEmpty() || plan.fields().isEmpty() || plan.predicates() == PredicateMode.ALLOW || query.isEmpty()) {
            return Optional.empty();
        }
        for (Map.Entry<String, List<String>> param : query.entrySet()) {
            if (!isFilterParam(filterParams, param.getKey())) continue;
            for (String value : param.getValue()) {
                Optional<MaskedFieldSearch> found = judge(param.getKey(), value, ruleId, plan);
                if (found.isPresent()) return found;
            }
        }
        return Optional.empty();
    }

    /** Names compared without case: a target that reads {@code Search} as {@code search} must not slip past. */
    private static boolean isFilterParam(List<String> filterParams, String name) {
        for (String p : filterParams) {
            if (p.equalsIgnoreCase(name)) return true;
        }
        return false;
    }

    private static Optional<MaskedFieldSearch> judge(String parameter, String value, String ruleId, MaskPlan plan) {
        PredicateMode mode = plan.predicates();
        if (value.isBlank()) return Optional.empty(); // no condition at all, so nothing to learn
        List<Comparison> comparisons;
        try {
            comparisons = OktaFilter.comparisons(value);
        } catch (OktaFilter.SyntaxException e) {
            String fields = String.join(", ", plan.fields());
            return Optional.of(new MaskedFieldSearch(parameter, fields, "search", mode,
                    "rule " + ruleId + ": " + parameter + " is not a filter expression the gateway can read ("
                            + e.getMessage() + "), so it is taken as a search over every field, masked "
                            + fields + " included; refused (predicates: " + mode.configName() + ")"));
        }
        for (Comparison c : comparisons) {
            Optional<String> masked = plan.fieldMasking(c.attribute());
            if (masked.isEmpty()) continue;
            if (mode == PredicateMode.EQUALITY && c.operator().isEquality()) continue;
            String allowed = mode == PredicateMode.REFUSE
                    ? "rule allows no search on masked fields (predicates: refuse)"
                    : "rule allows only equality (eq, ne, pr) on masked fields (predicates: equality)";
            return Optional.of(new MaskedFieldSearch(parameter, masked.get(), c.operator().text(), mode,
                    "rule " + ruleId + ": " + parameter + " " + c.attribute() + " " + c.operator().text()
                            + " … searches masked field " + masked.get() + "; " + allowed));
        }
        return Optional.empty();
    }
}
