package dev.portcullis.masking;

import java.util.Locale;

/**
 * What a mask rule lets an agent do with a masked field in a search condition: a SQL {@code WHERE},
 * {@code ORDER BY}, {@code GROUP BY}..., or an HTTP filter expression. A masked value that can be
 * searched with {@code LIKE 'a%'} or a range is not masked at all: one query a character, it comes out.
 */
public enum PredicateMode {
    /** Any use of a masked field in a condition, sort or grouping is refused. */
    REFUSE,
    /**
     * Only lookups the agent could make anyway: equality with a value ({@code email = $1},
     * {@code IN (...)}, {@code IS [NOT] NULL}, {@code <>}, {@code eq}). Patterns, ranges, functions of the
     * field, sorting and grouping are refused. The default.
     */
    EQUALITY,
    /** No check: a masked field may be searched freely (the rule then masks display only). */
    ALLOW;

    public static final PredicateMode DEFAULT = EQUALITY;

    /** {@code refuse}, {@code equality}, {@code allow}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException when {@code name} is not a config name */
    public static PredicateMode fromConfigName(String name) {
        for (PredicateMode m : values()) {
            if (m.configName().equals(name)) return m;
        }
        throw new IllegalArgumentException("unknown predicates mode '" + name + "'");
    }
}
