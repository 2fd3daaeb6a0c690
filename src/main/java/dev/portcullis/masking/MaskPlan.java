package dev.portcullis.masking;

import java.util.List;
import java.util.Set;

/**
 * What to mask in a response.
 *
 * @param fields    field selectors: for JSON a dotted path matched as a suffix of the value's path,
 *                  ignoring array indices ({@code profile.email} matches {@code [3].profile.email});
 *                  for SQL a column name
 * @param detectors content detectors applied to every string value
 * @param predicates what the agent may do with a masked field in a search condition (SQL WHERE, ORDER BY,
 *                  GROUP BY...; HTTP filter parameters)
 */
public record MaskPlan(List<String> fields, Set<Detector> detectors, PredicateMode predicates) {
    public MaskPlan {
        fields = List.copyOf(fields);
        detectors = Set.copyOf(detectors);
        java.util.Objects.requireNonNull(predicates, "predicates");
    }

    /** A plan with the default predicate mode, {@link PredicateMode#EQUALITY}. */
    public MaskPlan(List<String> fields, Set<Detector> detectors) {
        this(fields, detectors, PredicateMode.DEFAULT);
    }

    public static final MaskPlan NONE = new MaskPlan(List.of(), Set.of());

    public boolean isEmpty() {
        return fields.isEmpty() && detectors.isEmpty();
    }
}
