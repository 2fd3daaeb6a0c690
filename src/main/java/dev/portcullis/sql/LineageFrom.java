package dev.portcullis.sql;

import static dev.portcullis.sql.LineageScope.aliasColumns;
import static dev.portcullis.sql.LineageScope.entry;
import static dev.portcullis.sql.LineageScope.lateralScope;
import static dev.portcullis.sql.LineageScope.names;
import static dev.portcullis.sql.LineageScope.renamed;
import static dev.portcullis.sql.LineageScope.starColumn;
import static dev.portcullis.sql.LineageScope.str;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.sql.Lineage.Column;
import dev.portcullis.sql.LineageScope.Col;
import dev.portcullis.sql.LineageScope.Cte;
import dev.portcullis.sql.LineageScope.Deriv;
import dev.portcullis.sql.LineageScope.Entry;
import dev.portcullis.sql.LineageScope.FromItem;
import dev.portcullis.sql.LineageScope.Scope;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The FROM clause of a {@link LineageWalker} walk: tables, views (expanded from their definitions
 * through the catalog, nested and cycle-guarded), CTEs, joins with their USING/NATURAL merged columns,
 * LATERAL items, subqueries and functions in FROM. What it cannot attribute throws {@link LineageException}.
 */
final class LineageFrom {
    private final LineageWalker w;

    LineageFrom(LineageWalker w) {
        this.w = w;
    }
    // ---------------------------------------------------------------------------------------------
    // FROM

    void from(JsonNode fromClause, Scope s) throws LineageException, SqlParseException {
        for (JsonNode item : fromClause) s.items.add(fromItem(item, s));
    }

    /** One FROM item; LATERAL items see the ones before them (the scope so far). */
    private FromItem fromItem(JsonNode node, Scope s) throws LineageException, SqlParseException {
        String type = LineageExpressions.type(node);
        JsonNode body = node.path(type);
        switch (type) {
            case "RangeVar" -> {
                Entry e = relationEntry(body, s);
                return new FromItem(e.columns(), List.of(e), null);
            }
            case "RangeTableSample" -> {
                return fromItem(body.path("relation"), s);
            }
            case "RangeSubselect" -> {
                Scope sub = body.path("lateral").asBoolean() ? lateralScope(s) : new Scope(s.outer, new HashMap<>(s.ctes));
                List<Col> cols = w.statementIn(body.path("subquery"), sub);
                String alias = body.path("alias").path("aliasname").asText("");
                cols = renamed(cols, aliasColumns(body.path("alias")));
                Entry e = new Entry(alias, cols, null);
                return new FromItem(cols, List.of(e), null);
            }
            case "RangeFunction" -> {
                return functionItem(body, lateralScope(s));
            }
            case "JoinExpr" -> {
                return join(body, s);
            }
            default -> throw new LineageException("FROM item " + type + " is not covered");
        }
    }

    private FromItem join(JsonNode j, Scope s) throws LineageException, SqlParseException {
        FromItem left = fromItem(j.path("larg"), s);
        Scope withLeft = new Scope(s.outer, s.ctes);
        withLeft.items.addAll(s.items);
        withLeft.items.add(left);
        FromItem right = fromItem(j.path("rarg"), withLeft);
        List<String> using = new ArrayList<>();
        for (JsonNode u : j.path("usingClause")) using.add(str(u));
        if (j.path("isNatural").asBoolean()) {
            for (Col l : left.star() == null ? List.<Col>of() : left.star()) {
                if (right.star() != null && right.star().stream().anyMatch(r -> r.name().equals(l.name()))) using.add(l.name());
            }
        }
        List<Col> star = new ArrayList<>();
        for (String name : using) {
            Deriv l = starColumn(left, name);
            Deriv r = starColumn(right, name);
            w.equalityOrSearch(l, "JOIN ... USING");
            w.equalityOrSearch(r, "JOIN ... USING");
            star.add(new Col(name, l.either(r)));
        }
        boolean known = left.star() != null && right.star() != null;
        if (known) {
            for (Col c : left.star()) if (!using.contains(c.name())) star.add(c);
            for (Col c : right.star()) if (!using.contains(c.name())) star.add(c);
        }
        List<Entry> entries = new ArrayList<>(left.entries());
        entries.addAll(right.entries());
        Deriv opaque = left.opaque() == null ? right.opaque() : right.opaque() == null ? left.opaque() : left.opaque().plus(right.opaque());
        FromItem joined = new FromItem(known ? star : null, entries, opaque);
        Scope quals = new Scope(s.outer, s.ctes);
        quals.items.addAll(s.items);
        quals.items.add(joined);
        w.exprs.condition(j.path("quals"), quals, "JOIN ... ON");
        String alias = j.path("alias").path("aliasname").asText("");
        if (!alias.isEmpty() && known) {
            List<Col> cols = renamed(star, aliasColumns(j.path("alias")));
            List<Entry> withAlias = new ArrayList<>(entries);
            withAlias.add(new Entry(alias, cols, null));
            return new FromItem(cols, withAlias, opaque);
        }
        return joined;
    }

    private FromItem functionItem(JsonNode rf, Scope s) throws LineageException, SqlParseException {
        List<Col> cols = new ArrayList<>();
        Deriv all = Deriv.NONE;
        boolean known = true;
        String firstName = null;
        for (JsonNode f : rf.path("functions")) {
            JsonNode items = f.path("List").path("items");
            JsonNode call = items.path(0);
            Deriv d = w.exprs.expr(call, s).computed();
            all = all.plus(d);
            String fname = call.has("FuncCall") ? LineageExpressions.last(call.path("FuncCall").path("funcname")) : LineageExpressions.figureName(call);
            if (firstName == null) firstName = fname;
            JsonNode coldefs = items.path(1);
            if (coldefs.isArray() && !coldefs.isEmpty()) {
                for (JsonNode cd : coldefs) cols.add(new Col(cd.path("ColumnDef").path("colname").asText(), d));
            } else if (rf.has("coldeflist")) {
                for (JsonNode cd : rf.path("coldeflist")) cols.add(new Col(cd.path("ColumnDef").path("colname").asText(), d));
            } else {
                List<String> names = functionColumns(fname, call);
                if (names == null) known = false;
                else for (String n : names) cols.add(new Col(n, d));
            }
        }
        if (rf.path("ordinality").asBoolean()) cols.add(new Col("ordinality", Deriv.NONE));
        String alias = rf.path("alias").path("aliasname").asText("");
        List<String> aliasCols = aliasColumns(rf.path("alias"));
        if (!known && aliasCols.isEmpty()) {
            Entry e = new Entry(alias.isEmpty() ? firstName : alias, List.of(), all);
            return new FromItem(null, List.of(e), all);
        }
        if (!known) {
            cols = new ArrayList<>();
            for (String n : aliasCols) cols.add(new Col(n, all));
        } else if (cols.size() == 1 && aliasCols.isEmpty() && !alias.isEmpty() && rf.path("functions").size() == 1) {
            cols = List.of(new Col(alias, cols.getFirst().deriv())); // FROM f(x) AS a: the column is a too
        } else {
            cols = renamed(cols, aliasCols);
        }
        Entry e = new Entry(alias.isEmpty() ? firstName : alias, cols, null);
        return new FromItem(cols, List.of(e), null);
    }

    /** The columns a function in FROM returns, when its shape is known from its name; null when not. */
    private static List<String> functionColumns(String name, JsonNode call) {
        return switch (name) {
            case "json_each", "jsonb_each", "json_each_text", "jsonb_each_text" -> List.of("key", "value");
            case "unnest" -> {
                int n = Math.max(1, call.path("FuncCall").path("args").size());
                List<String> names = new ArrayList<>();
                for (int i = 0; i < n; i++) names.add("unnest");
                yield names;
            }
            case "json_populate_record", "jsonb_populate_record", "json_populate_recordset", "jsonb_populate_recordset",
                 "json_to_record", "jsonb_to_record", "json_to_recordset", "jsonb_to_recordset" -> null;
            default -> List.of(name); // one column, named for the function
        };
    }

    /** A table, view or CTE named in FROM (or as a DML target), as an entry with its columns. */
    Entry relationEntry(JsonNode rangeVar, Scope s) throws LineageException, SqlParseException {
        String name = rangeVar.path("relname").asText();
        String alias = rangeVar.path("alias").path("aliasname").asText(name);
        if (!rangeVar.hasNonNull("schemaname")) {
            for (Scope level = s; level != null; level = level.outer) {
                Cte cte = level.ctes.get(name);
                if (cte != null) return new Entry(alias, renamed(cte.columns(), aliasColumns(rangeVar.path("alias"))), null);
            }
        }
        RelationCatalog.Relation rel = relationOf(rangeVar);
        List<Col> cols = new ArrayList<>();
        boolean system = LineageWalker.SYSTEM_SCHEMAS.contains(rel.schema());
        List<Col> defined = rel.definition().isPresent() && !system ? viewColumns(rel) : null;
        for (int i = 0; i < rel.columns().size(); i++) {
            String col = rel.columns().get(i);
            Deriv d = Deriv.of(new Column(rel.schema(), rel.name(), col));
            for (String ancestor : rel.ancestors()) {
                int dot = ancestor.indexOf('.');
                d = d.either(Deriv.of(new Column(ancestor.substring(0, dot), ancestor.substring(dot + 1), col)));
            }
            if (defined != null) {
                if (i >= defined.size()) throw new LineageException("view " + rel.name() + " has more columns than its definition");
                Deriv v = defined.get(i).deriv();
                Set<Column> all = new LinkedHashSet<>(v.sources());
                all.addAll(d.sources());
                d = new Deriv(all, v.bare());
            }
            cols.add(new Col(col, d));
        }
        return new Entry(alias, renamed(cols, aliasColumns(rangeVar.path("alias"))), null);
    }

    RelationCatalog.Relation relationOf(JsonNode rangeVar) throws LineageException {
        Optional<String> schema = rangeVar.hasNonNull("schemaname") ? Optional.of(rangeVar.get("schemaname").asText()) : Optional.empty();
        String name = rangeVar.path("relname").asText();
        String key = schema.orElse("") + "." + name;
        RelationCatalog.Relation rel = w.relations.get(key);
        if (rel == null) {
            rel = w.catalog.relation(schema, name)
                    .orElseThrow(() -> new LineageException("relation " + schema.map(x -> x + ".").orElse("") + name
                            + " is not in the w.catalog"));
            w.relations.put(key, rel);
        }
        if (LineageWalker.SYSTEM_SCHEMAS.contains(rel.schema()) && LineageWalker.VALUE_SAMPLES.contains(rel.name())) {
            throw new LineageException(rel.name() + " holds sample values of every column, masked ones included");
        }
        return rel;
    }

    /** A view's columns, from its definition: what a read of the view computes. */
    private List<Col> viewColumns(RelationCatalog.Relation view) throws LineageException, SqlParseException {
        String key = view.schema() + "." + view.name();
        if (!w.expanding.add(key) || w.expanding.size() > LineageWalker.MAX_VIEW_DEPTH) {
            throw new LineageException("view " + key + " is nested too deeply to expand");
        }
        try {
            JsonNode stmts = SqlParser.tree(view.definition().orElseThrow()).path("stmts");
            if (stmts.size() != 1 || !stmts.get(0).path("stmt").has("SelectStmt")) {
                throw new LineageException("view " + key + " has a definition that is not one SELECT");
            }
            return w.select(stmts.get(0).path("stmt").path("SelectStmt"), new Scope(null, new HashMap<>()));
        } finally {
            w.expanding.remove(key);
        }
    }

}
