package dev.portcullis.http;

import dev.portcullis.http.OktaFilter.Comparison;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.PredicateMode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A search on a masked field, found in a request's filter or sort parameters: the oracle a mask rule must
 * close. With {@code search=profile.email sw "a"} an agent learns a masked email one character at a time by
 * watching which users come back, though it never sees one; with {@code sortBy=profile.email} it learns
 * the emails' order, which a few known users turn into ranges (as SQL {@code ORDER BY} on a masked column).
 *
 * <p>{@link #find} reads each of the connection's {@code filter-params} and {@code sort-params} present
 * in the request (every occurrence, names without case): a filter value as an {@link OktaFilter}
 * expression, each comparison on a masked field judged by the rule's {@link PredicateMode}; a sort value
 * as the attributes it names ({@link OktaFilter#sortAttributes}), where a masked one is refused unless the
 * mode is {@code allow}: an order is a range search, never an equality. A value it cannot read is taken as
 * a search over every field (Okta's {@code q} is a free-text prefix search over names and email), so it is
 * refused too.
 *
 * @param parameter the query parameter as the agent wrote its name
 * @param field     the mask rule's field that covers the searched attribute; for an unreadable value,
 *                  every masked field
 * @param operator  the operator used on it ({@code sw}, ...), {@code sort} for a sort parameter, or
 *                  {@code search} for an unreadable filter value
 * @param detail    what the agent is told, naming the rule, field, operator and predicates mode
 */
record MaskedFieldSearch(String parameter, String field, String operator, PredicateMode predicates, String detail) {

    static final String SORT = "sort";

    /**
     * The first search on a masked field in {@code query}, if any. Costs nothing unless the plan masks
     * fields, its mode is not {@code allow}, and a filter or sort parameter is present.
     */
    static Optional<MaskedFieldSearch> find(List<String> filterParams, List<String> sortParams,
                                            Map<String, List<String>> query, String ruleId, MaskPlan plan) {
        if (filterParams.isEmpty() && sortParams.isEmpty() || plan.fields().isEmpty()
                || plan.predicates() == PredicateMode.ALLOW || query.isEmpty()) {
            return Optional.empty();
        }
        for (Map.Entry<String, List<String>> param : query.entrySet()) {
            boolean filter = isListed(filterParams, param.getKey());
            if (!filter && !isListed(sortParams, param.getKey())) continue;
            for (String value : param.getValue()) {
                Optional<MaskedFieldSearch> found = filter
                        ? judgeFilter(param.getKey(), value, ruleId, plan)
                        : judgeSort(param.getKey(), value, ruleId, plan);
                if (found.isPresent()) return found;
            }
        }
        return Optional.empty();
    }

    /** Names compared without case: a target that reads {@code Search} as {@code search} must not slip past. */
    private static boolean isListed(List<String> params, String name) {
        for (String p : params) {
            if (p.equalsIgnoreCase(name)) return true;
        }
        return false;
    }

    private static Optional<MaskedFieldSearch> judgeFilter(String parameter, String value, String ruleId, MaskPlan plan) {
        PredicateMode mode = plan.predicates();
        if (value.isBlank()) return Optional.empty(); // no condition at all, so nothing to learn
        List<Comparison> comparisons;
        try {
            comparisons = OktaFilter.comparisons(value);
        } catch (OktaFilter.SyntaxException e) {
            return Optional.of(unreadable(parameter, "search", "a filter expression", "a search over", e, ruleId, plan));
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

    /** Any mode but {@code allow} refuses: the order of masked values answers every range question at once. */
    private static Optional<MaskedFieldSearch> judgeSort(String parameter, String value, String ruleId, MaskPlan plan) {
        PredicateMode mode = plan.predicates();
        if (value.isBlank()) return Optional.empty(); // the target's default order
        List<String> attributes;
        try {
            attributes = OktaFilter.sortAttributes(value);
        } catch (OktaFilter.SyntaxException e) {
            return Optional.of(unreadable(parameter, SORT, "a list of attributes", "a sort by", e, ruleId, plan));
        }
        for (String attribute : attributes) {
            Optional<String> masked = plan.fieldMasking(attribute);
            if (masked.isEmpty()) continue;
            String allowed = mode == PredicateMode.REFUSE
                    ? "rule allows no search on masked fields (predicates: refuse)"
                    : "rule allows only equality (eq, ne, pr) on masked fields, and an order is not one (predicates: equality)";
            return Optional.of(new MaskedFieldSearch(parameter, masked.get(), SORT, mode,
                    "rule " + ruleId + ": " + parameter + " " + attribute + " sorts by masked field " + masked.get()
                            + ", which orders the results by the value it hides; " + allowed));
        }
        return Optional.empty();
    }

    private static MaskedFieldSearch unreadable(String parameter, String operator, String expected, String takenAs,
                                                OktaFilter.SyntaxException e, String ruleId, MaskPlan plan) {
        String fields = String.join(", ", plan.fields());
        return new MaskedFieldSearch(parameter, fields, operator, plan.predicates(),
                "rule " + ruleId + ": " + parameter + " is not " + expected + " the gateway can read ("
                        + e.getMessage() + "), so it is taken as " + takenAs + " every field, masked "
                        + fields + " included; refused (predicates: " + plan.predicates().configName() + ")");
    }
}
