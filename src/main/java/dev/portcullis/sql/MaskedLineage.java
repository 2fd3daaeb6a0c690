package dev.portcullis.sql;

import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.PredicateMode;
import dev.portcullis.sql.Lineage.Column;
import java.util.BitSet;
import java.util.List;

/**
 * A mask rule applied to a statement's {@link Lineage}: which result columns are masked (every column
 * computed from a masked one), and whether the statement may run at all (a masked column searched
 * with a pattern, range, sort or grouping, or copied into a column that is not masked, is refused).
 */
public final class MaskedLineage {
    private MaskedLineage() {}

    /** The statement may not run under this rule; {@link #getMessage()} says why, for the agent. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message);
        }
    }

    /**
     * A mask rule applied to a statement.
     *
     * @param outputs           the result columns to mask whole, by position
     * @param readsMaskedColumn the statement shows, searches or computes on a masked column at all
     */
    public record Masked(BitSet outputs, boolean readsMaskedColumn) {
    }

    /** The result columns to mask whole, by position; see {@link #apply}. */
    public static BitSet maskedOutputs(Lineage lineage, MaskPlan plan, String ruleId) throws Refused {
        return apply(lineage, plan, ruleId).outputs();
    }

    /**
     * @throws Refused when a use of a masked column is not allowed by the plan's predicate mode, or the
     *                 statement would copy masked values into a column the plan does not mask
     */
    public static Masked apply(Lineage lineage, MaskPlan plan, String ruleId) throws Refused {
        BitSet masked = new BitSet();
        if (plan.fields().isEmpty()) return new Masked(masked, false);
        boolean usesMasked = false;
        for (Lineage.Use use : lineage.uses()) {
            Column column = firstMasked(use.sources(), plan.fields());
            if (column == null) continue;
            usesMasked = true;
            switch (use.kind()) {
                case COPY -> {
                    Column target = use.target().orElseThrow();
                    if (!masked(target, plan.fields())) {
                        throw new Refused("rule " + ruleId + " masks column " + column + ", and this statement would copy "
                                + "its values into " + target + ", which is not masked");
                    }
                }
                case EQUALITY -> {
                    if (plan.predicates() == PredicateMode.REFUSE) {
                        throw new Refused("rule " + ruleId + " masks column " + column + ", and this statement uses it in "
                                + use.construct() + "; the rule allows no conditions on masked columns (predicates: refuse)");
                    }
                }
                case SEARCH -> {
                    if (plan.predicates() != PredicateMode.ALLOW) {
                        throw new Refused("rule " + ruleId + " masks column " + column + ", and this statement searches it with "
                                + use.construct() + ", which reveals its values one guess at a time; the rule allows "
                                + (plan.predicates() == PredicateMode.REFUSE ? "no conditions on masked columns (predicates: refuse)"
                                        : "only equality lookups on masked columns (= value, IN (...), IS NULL; predicates: equality)"));
                    }
                }
            }
        }
        List<Lineage.Output> outputs = lineage.outputs();
        for (int i = 0; i < outputs.size(); i++) {
            if (firstMasked(outputs.get(i).sources(), plan.fields()) != null) masked.set(i);
        }
        return new Masked(masked, usesMasked || !masked.isEmpty());
    }

    private static Column firstMasked(java.util.Set<Column> sources, List<String> fields) {
        for (Column c : sources) if (masked(c, fields)) return c;
        return null;
    }

    /**
     * Whether a column is one of the plan's fields: {@code email} masks a column of that name in any
     * table, {@code customers.email} in tables named customers, {@code public.customers.email} in that one.
     */
    static boolean masked(Column c, List<String> fields) {
        for (String field : fields) {
            // compared segment by segment from the end, ignoring case, without allocating (runs per statement)
            int end = field.length();
            int dot = field.lastIndexOf('.', end - 1);
            if (!segment(field, dot + 1, end, c.name())) continue;
            if (dot < 0) return true;
            end = dot;
            dot = field.lastIndexOf('.', end - 1);
            if (!segment(field, dot + 1, end, c.table())) continue;
            if (dot < 0) return true;
            end = dot;
            dot = field.lastIndexOf('.', end - 1);
            if (segment(field, dot + 1, end, c.schema())) return true;
        }
        return false;
    }

    private static boolean segment(String field, int from, int to, String name) {
        return to - from == name.length() && field.regionMatches(true, from, name, 0, name.length());
    }
}
