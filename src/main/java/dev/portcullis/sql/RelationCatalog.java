package dev.portcullis.sql;

import java.util.List;
import java.util.Optional;

/** What lineage needs of the database's catalog: a relation's columns, and a view's definition. */
public interface RelationCatalog {

    /**
     * The relation a statement names, resolved as the server would (an unqualified name through the
     * {@code search_path}).
     *
     * @param schema the schema as written, or empty when unqualified
     * @param name   the relation's name as the parser resolved it (unquoted names folded to lower case)
     * @return empty when no such relation is visible
     * @throws LineageException when the catalog cannot answer (fail closed)
     */
    Optional<Relation> relation(Optional<String> schema, String name) throws LineageException;

    /**
     * A relation of the catalog.
     *
     * @param schema     its schema
     * @param name       its name
     * @param columns    its columns in order (dropped ones left out)
     * @param definition for a view or materialized view, its {@code SELECT} (as {@code pg_get_viewdef} gives it)
     * @param ancestors  tables it inherits from or is a partition of, as {@code schema.table}: a masked column of
     *                   the parent is masked in its partitions too
     */
    record Relation(String schema, String name, List<String> columns, Optional<String> definition,
                    List<String> ancestors) {
        public Relation {
            columns = List.copyOf(columns);
            ancestors = List.copyOf(ancestors);
        }
    }
}
