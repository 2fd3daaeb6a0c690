package dev.portcullis.sql;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.sql.Lineage.Column;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What {@link LineageWalker} evaluates to and looks names up in: {@link Deriv}, a value's sources; the
 * columns and entries of FROM items; query levels ({@link Scope}); and name resolution as the server does
 * it: innermost level first, a column before a whole-row reference.
 */
final class LineageScope {
    private LineageScope() {}

    /** What a value is computed from; {@code bare}: it is exactly one base column's value. */
    record Deriv(Set<Column> sources, boolean bare) {
        static final Deriv NONE = new Deriv(Set.of(), false);

        static Deriv of(Column c) {
            return new Deriv(Set.of(c), true);
        }

        Deriv plus(Deriv other) {
            if (other.sources.isEmpty()) return sources.isEmpty() ? NONE : new Deriv(sources, false);
            if (sources.isEmpty()) return new Deriv(other.sources, false);
            Set<Column> all = new LinkedHashSet<>(sources);
            all.addAll(other.sources);
            return new Deriv(all, false);
        }

        /** The same sources, no longer the column's own value. */
        Deriv computed() {
            return bare ? new Deriv(sources, false) : this;
        }

        /** Either of two values (a union's branches, a USING column): bare when both are. */
        Deriv either(Deriv other) {
            Set<Column> all = new LinkedHashSet<>(sources);
            all.addAll(other.sources);
            return new Deriv(all, bare && other.bare);
        }
    }

    /** A named column of a FROM item or result. */
    record Col(String name, Deriv deriv) {
    }

    /** A name a query can qualify columns with: a table, alias, subquery, function or CTE. */
    record Entry(String name, List<Col> columns, Deriv opaque) {
        /** Whole-row value: every column. */
        Deriv wholeRow() {
            Deriv d = opaque == null ? Deriv.NONE : opaque;
            for (Col c : columns) d = d.plus(c.deriv);
            return d.computed();
        }
    }

    /** One item of a FROM list: what {@code *} expands to, and the entries inside it. */
    record FromItem(List<Col> star, List<Entry> entries, Deriv opaque) {
    }

    /** A CTE in scope: its output columns. */
    record Cte(List<Col> columns) {
    }

    /** One query level: its FROM items, the CTEs it sees, and the level around it. */
    static final class Scope {
        final Scope outer;
        final Map<String, Cte> ctes;
        final List<FromItem> items = new ArrayList<>();

        Scope(Scope outer, Map<String, Cte> ctes) {
            this.outer = outer;
            this.ctes = ctes;
        }

        Scope child() {
            return new Scope(this, new HashMap<>(ctes));
        }
    }

    /** A column reference, resolved innermost level first: a column, else a whole-row reference. */
    static Optional<Deriv> resolveOptional(JsonNode fields, Scope s) {
        List<String> names = names(fields);
        for (Scope level = s; level != null; level = level.outer) {
            Deriv found = null;
            if (names.size() == 1) {
                String name = names.getFirst();
                for (FromItem item : level.items) {
                    if (item.star != null) {
                        for (Col c : item.star) if (c.name.equals(name)) found = found == null ? c.deriv : found.either(c.deriv).computed();
                    } else if (item.opaque != null) {
                        found = found == null ? item.opaque.computed() : found.plus(item.opaque);
                    }
                }
                if (found == null) {
                    for (FromItem item : level.items) {
                        for (Entry e : item.entries) if (e.name.equals(name)) found = found == null ? e.wholeRow() : found.plus(e.wholeRow());
                    }
                }
            } else {
                String qualifier = names.get(names.size() - 2);
                String name = names.getLast();
                for (FromItem item : level.items) {
                    for (Entry e : item.entries) {
                        if (!e.name.equals(qualifier)) continue;
                        Deriv d = e.opaque != null ? e.opaque.computed() : null;
                        for (Col c : e.columns) if (c.name.equals(name)) d = c.deriv;
                        if (d != null) found = found == null ? d : found.either(d).computed();
                    }
                }
                if (found == null && names.size() == 2) {
                    // column.field of a composite column
                    for (FromItem item : level.items) {
                        if (item.star == null) continue;
                        for (Col c : item.star) if (c.name.equals(qualifier)) found = c.deriv.computed();
                    }
                }
            }
            if (found != null) return Optional.of(found);
        }
        return Optional.empty();
    }

    /** Whether a column of that name is in scope (which a bare name means before a whole row). */
    static boolean hasColumn(String name, Scope s) {
        for (Scope level = s; level != null; level = level.outer) {
            for (FromItem item : level.items) {
                if (item.star == null) return true; // a function's column might be
                for (Col c : item.star) if (c.name.equals(name)) return true;
            }
        }
        return false;
    }

    static Col columnOf(Entry e, String name) throws LineageException {
        for (Col c : e.columns) if (c.name.equals(name)) return c;
        if (e.opaque != null) return new Col(name, e.opaque.computed());
        throw new LineageException("column " + name + " not found in " + e.name);
    }

    static List<String> names(JsonNode fields) {
        List<String> out = new ArrayList<>();
        for (JsonNode f : fields) out.add(f.has("A_Star") ? "*" : str(f));
        return out;
    }

    static Entry entry(String name, Scope s) {
        for (Scope level = s; level != null; level = level.outer) {
            for (FromItem item : level.items) {
                for (Entry e : item.entries) if (e.name.equals(name)) return e;
            }
        }
        return null;
    }

    static Deriv starColumn(FromItem item, String name) throws LineageException {
        if (item.star != null) {
            for (Col c : item.star) if (c.name.equals(name)) return c.deriv;
        }
        if (item.opaque != null) return item.opaque;
        throw new LineageException("join column " + name + " not found");
    }

    static List<Col> renamed(List<Col> cols, List<String> names) {
        if (names.isEmpty()) return cols;
        List<Col> out = new ArrayList<>(cols.size());
        for (int i = 0; i < cols.size(); i++) out.add(new Col(i < names.size() ? names.get(i) : cols.get(i).name, cols.get(i).deriv));
        return out;
    }

    /** A scope whose only columns are a result's: what ORDER BY of a UNION sees. */
    static Scope outputScope(Scope scope, List<Col> out) {
        Scope s = new Scope(scope.outer, scope.ctes);
        s.items.add(new FromItem(out, List.of(), null));
        return s;
    }

    /** The scope a LATERAL item is evaluated in: a new level whose outer level sees the items so far. */
    static Scope lateralScope(Scope s) {
        Scope around = new Scope(s.outer, s.ctes);
        around.items.addAll(s.items);
        return new Scope(around, new HashMap<>(s.ctes));
    }

    static List<String> aliasColumns(JsonNode alias) {
        List<String> names = new ArrayList<>();
        for (JsonNode n : alias.path("colnames")) names.add(str(n));
        return names;
    }

    static String str(JsonNode stringNode) {
        JsonNode s = stringNode.path("String");
        return s.has("sval") ? s.get("sval").asText() : s.path("str").asText();
    }
}
