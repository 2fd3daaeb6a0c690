package dev.portcullis.policy;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.core.SqlStatement.Effect;
import dev.portcullis.core.SqlStatement.Kind;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Conditions on one {@link SqlStatement}; every non-empty one must hold. A query of several statements
 * is judged statement by statement, and the adapter refuses it when any one is refused.
 *
 * <ul>
 *   <li>{@code kinds}: the statement's kind, and every kind nested in it ({@link SqlStatement#allKinds()}:
 *       a DELETE in a CTE, the statement under EXPLAIN ANALYZE or PREPARE). In an allow rule every one
 *       must be listed, so {@code kinds: [insert]} does not let {@code WITH d AS (DELETE ...) INSERT ...}
 *       through; in a deny or approval rule any one suffices.</li>
 *   <li>{@code tables}, {@code functions}: name patterns. {@code name} matches that name in any schema;
 *       {@code schema.name} matches it written qualified, and written bare (the server may resolve a
 *       bare name through search_path to it; statements that change search_path are not read-only);
 *       {@code schema.*} matches every name written with that schema. In an allow rule the statement must
 *       name at least one table (function), and every one must match a pattern; in a deny or approval
 *       rule one matching is enough. Write names as the server stores them: lower case, unless created
 *       quoted.</li>
 *   <li>{@code has-where}: {@link SqlStatement#hasWhere()} equals the value. Only statements with an
 *       UPDATE or DELETE can have a WHERE; {@code WHERE true} counts as one.</li>
 *   <li>{@code read-only}: {@link SqlStatement#readOnly()} equals the value.</li>
 *   <li>{@code writes}, {@code changes-schema}, {@code changes-privileges}, {@code runs-code},
 *       {@code copy-file-or-program}, {@code calls-unknown-functions}, {@code locks}: whether the
 *       statement has that {@link Effect}, equals the value.</li>
 * </ul>
 *
 * @param kinds     statement kinds, any of
 * @param tables    table name patterns
 * @param functions function name patterns
 * @param hasWhere  required value of {@link SqlStatement#hasWhere()}, when present
 * @param readOnly  required value of {@link SqlStatement#readOnly()}, when present
 * @param effects   effect → whether the statement must have it
 */
public record SqlCondition(Set<Kind> kinds, List<NamePattern> tables, List<NamePattern> functions,
                           Optional<Boolean> hasWhere, Optional<Boolean> readOnly, Map<Effect, Boolean> effects)
        implements OperationCondition {

    public SqlCondition {
        kinds = Set.copyOf(kinds);
        tables = List.copyOf(tables);
        functions = List.copyOf(functions);
        Objects.requireNonNull(hasWhere, "hasWhere");
        Objects.requireNonNull(readOnly, "readOnly");
        effects = Map.copyOf(effects);
    }

    @Override
    public String protocol() {
        return "sql";
    }

    /** @param everyValue true for allow rules: see the class description for kinds, tables and functions */
    @Override
    public boolean matches(dev.portcullis.core.Operation operation, boolean everyValue) {
        return operation instanceof SqlStatement statement && matches(statement, everyValue);
    }

    boolean matches(SqlStatement statement, boolean everyValue) {
        if (!kinds.isEmpty() && !kindsMatch(statement.allKinds(), everyValue)) return false;
        if (!tables.isEmpty() && !namesMatch(statement.tables(), tables, everyValue)) return false;
        if (!functions.isEmpty() && !namesMatch(statement.functions(), functions, everyValue)) return false;
        if (hasWhere.isPresent() && hasWhere.get() != statement.hasWhere()) return false;
        if (readOnly.isPresent() && readOnly.get() != statement.readOnly()) return false;
        for (Map.Entry<Effect, Boolean> e : effects.entrySet()) {
            if (statement.effects().contains(e.getKey()) != e.getValue()) return false;
        }
        return true;
    }

    private boolean kindsMatch(Set<Kind> statementKinds, boolean everyValue) {
        return everyValue ? kinds.containsAll(statementKinds) : statementKinds.stream().anyMatch(kinds::contains);
    }

    private static boolean namesMatch(List<String> names, List<NamePattern> patterns, boolean everyValue) {
        if (names.isEmpty()) return false;
        for (String name : names) {
            boolean ok = patterns.stream().anyMatch(p -> p.matches(name));
            if (everyValue && !ok) return false;
            if (!everyValue && ok) return true;
        }
        return everyValue;
    }

    /**
     * {@code name}, {@code schema.name} or {@code schema.*}; see {@link SqlCondition} for what each matches.
     *
     * @param schema the schema, when the pattern has one
     * @param name   the name; empty for {@code schema.*}
     */
    public record NamePattern(Optional<String> schema, Optional<String> name) {
        public NamePattern {
            Objects.requireNonNull(schema, "schema");
            Objects.requireNonNull(name, "name");
            if (schema.isEmpty() && name.isEmpty()) throw new IllegalArgumentException("empty pattern");
        }

        /** @throws IllegalArgumentException when not {@code name}, {@code schema.name} or {@code schema.*} */
        public static NamePattern of(String pattern) {
            String[] parts = pattern.split("\\.", -1);
            for (String p : parts) {
                if (p.isEmpty()) throw new IllegalArgumentException("'" + pattern + "' has an empty part");
            }
            if (parts.length == 1) {
                if (parts[0].equals("*")) throw new IllegalArgumentException("'*' alone would match everything; leave the condition out");
                return new NamePattern(Optional.empty(), Optional.of(parts[0]));
            }
            if (parts.length != 2) throw new IllegalArgumentException("'" + pattern + "' is not name, schema.name or schema.*");
            if (parts[0].equals("*")) throw new IllegalArgumentException("the schema cannot be '*'; write the bare name");
            return new NamePattern(Optional.of(parts[0]), parts[1].equals("*") ? Optional.empty() : Optional.of(parts[1]));
        }

        /** @param written a name as a {@link SqlStatement} reports it: {@code name}, {@code schema.name}, {@code db.schema.name} */
        public boolean matches(String written) {
            int dot = written.lastIndexOf('.');
            String bare = written.substring(dot + 1);
            Optional<String> writtenSchema = Optional.empty();
            if (dot > 0) {
                String qualifier = written.substring(0, dot);
                writtenSchema = Optional.of(qualifier.substring(qualifier.lastIndexOf('.') + 1));
            }
            if (name.isEmpty()) return writtenSchema.equals(schema);
            if (!name.get().equals(bare)) return false;
            return schema.isEmpty() || writtenSchema.isEmpty() || writtenSchema.equals(schema);
        }

        @Override
        public String toString() {
            return schema.map(s -> s + ".").orElse("") + name.orElse("*");
        }
    }
}
