package dev.portcullis.masking;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
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
        Objects.requireNonNull(predicates, "predicates");
    }

    /** A plan with the default predicate mode, {@link PredicateMode#EQUALITY}. */
    public MaskPlan(List<String> fields, Set<Detector> detectors) {
        this(fields, detectors, PredicateMode.DEFAULT);
    }

    public static final MaskPlan NONE = new MaskPlan(List.of(), Set.of());

    /**
     * The field of this plan that masks the value at a dotted path such as {@code profile.email} used in a
     * search condition: the path or one of its ancestors is selected by the rule the masker applies
     * (whole names, as a suffix), names compared ignoring case. Empty when the path is not masked.
     */
    public Optional<String> fieldMasking(String dottedPath) {
        if (fields.isEmpty()) return Optional.empty();
        return Optional.ofNullable(FieldSelectors.maskingSelector(fields, List.of(dottedPath.split("\\.", -1))));
    }

    public boolean isEmpty() {
        return fields.isEmpty() && detectors.isEmpty();
    }
}
