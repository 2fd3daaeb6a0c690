package dev.portcullis.sql;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where the values of one statement's result come from, and how the statement uses columns to pick,
 * order or group rows: read from PostgreSQL's own parse tree, with {@code *}, views and unqualified
 * names resolved through a {@link RelationCatalog}.
 *
 * @param outputs the result's columns, in the order of its RowDescription (empty for a statement that
 *                returns no rows); each with the base columns its values are computed from
 * @param uses    every place a base column decides which rows come back, in which order or groups, or is
 *                copied into a table: a {@code WHERE}, a join, a sort, a grouping, a {@code CASE}
 *                condition, a {@code LIMIT}, an {@code INSERT ... SELECT}
 */
public record Lineage(List<Output> outputs, List<Use> uses) {

    public Lineage {
        outputs = List.copyOf(outputs);
        uses = List.copyOf(uses);
    }

    /** A column of a table, view or other relation in the catalog, by its resolved schema and name. */
    public record Column(String schema, String table, String name) {
        @Override
        public String toString() {
            return table + "." + name;
        }
    }

    /** One result column: its name as the server reports it (best effort) and what it is computed from. */
    public record Output(String name, Set<Column> sources) {
        public Output {
            sources = Set.copyOf(sources);
        }
    }

    /** How a statement uses a column besides showing it. */
    public enum UseKind {
        /**
         * An equality lookup on the column's own value: {@code = value}, {@code IN (...)},
         * {@code IS [NOT] NULL}, {@code <>}, an equi-join: what the agent could ask row by row anyway.
         */
        EQUALITY,
        /**
         * Anything else that lets the column's value decide rows, their order or their grouping: a pattern,
         * a range, a function of the column compared, a sort, a grouping, a {@code CASE} condition, a
         * {@code LIMIT}: a search, one guess at a time, for the value.
         */
        SEARCH,
        /** The column's values are written into {@link Use#target()}. */
        COPY
    }

    /**
     * @param sources   the base columns used
     * @param kind      how
     * @param construct where, for people: {@code "LIKE in WHERE"}, {@code "ORDER BY"}...
     * @param target    for {@link UseKind#COPY}: the column written
     */
    public record Use(Set<Column> sources, UseKind kind, String construct, Optional<Column> target) {
        public Use {
            sources = Set.copyOf(sources);
        }
    }

    /**
     * The lineage of one SQL statement (the text of one statement, as {@link dev.portcullis.core.SqlStatement#text()}).
     * A {@code PREPARE} yields the lineage of the query it prepares, a {@code COPY (query) TO} that of its query,
     * an {@code EXPLAIN} the uses of the explained statement (its output, the plan, derives from nothing).
     *
     * @throws LineageException  when the lineage cannot be proven: a construct not covered, an unknown
     *                           function, a relation the catalog does not know, a failed catalog lookup
     * @throws SqlParseException when the text does not parse
     */
    public static Lineage of(String statement, RelationCatalog catalog) throws LineageException, SqlParseException {
        return LineageWalker.analyze(statement, catalog);
    }
}
