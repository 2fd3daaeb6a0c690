package dev.portcullis.sql;

import static dev.portcullis.sql.LineageScope.columnOf;
import static dev.portcullis.sql.LineageScope.names;
import static dev.portcullis.sql.LineageScope.outputScope;
import static dev.portcullis.sql.LineageScope.renamed;
import static dev.portcullis.sql.LineageScope.resolveOptional;
import static dev.portcullis.sql.LineageScope.str;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.core.Json;
import dev.portcullis.sql.Lineage.Column;
import dev.portcullis.sql.Lineage.Output;
import dev.portcullis.sql.Lineage.Use;
import dev.portcullis.sql.Lineage.UseKind;
import dev.portcullis.sql.LineageScope.Col;
import dev.portcullis.sql.LineageScope.Cte;
import dev.portcullis.sql.LineageScope.Deriv;
import dev.portcullis.sql.LineageScope.Entry;
import dev.portcullis.sql.LineageScope.FromItem;
import dev.portcullis.sql.LineageScope.Scope;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One walk over a statement's parse tree that computes its {@link Lineage}: the statements and query levels
 * (SELECT, set operations, CTEs, VALUES, INSERT/UPDATE/DELETE, COPY), with the FROM clause in
 * {@link LineageFrom} and values in {@link LineageExpressions}. Each expression evaluates to
 * a {@link Deriv}: the base columns its value is computed from, and whether it is exactly one column's
 * value, unchanged ("bare", so {@code = value} on it is an equality lookup). Names resolve the way the
 * server resolves them: innermost query level first, a column before a whole-row reference, output
 * names in {@code ORDER BY}. What the walk does not cover is a {@link LineageException}: never a guess.
 */
final class LineageWalker {
    /** Views within views, deeper than this, are refused (and a view that reaches itself). */
    static final int MAX_VIEW_DEPTH = 16;
    static final Set<String> SYSTEM_SCHEMAS = Set.of("pg_catalog", "information_schema");
    /** Catalog relations that hold values of other tables' columns: the planner's statistics samples. */
    static final Set<String> VALUE_SAMPLES = Set.of("pg_stats", "pg_stats_ext", "pg_stats_ext_exprs",
            "pg_statistic", "pg_statistic_ext", "pg_statistic_ext_data");
    /** Set-returning functions whose arguments decide how many rows come back. */
    static final Set<String> ROW_COUNT_FUNCTIONS = Set.of("generate_series", "generate_subscripts");
    /** Statements whose results the walk cannot attribute to columns, or that run code it cannot see. */
    private static final Set<String> UNCOVERED_STATEMENTS = Set.of("DoStmt", "CallStmt", "FetchStmt",
            "DeclareCursorStmt", "ExecuteStmt", "MergeStmt", "RuleStmt", "CreateTrigStmt", "CreateEventTrigStmt",
            "CreateFunctionStmt", "ClosePortalStmt");

    final RelationCatalog catalog;
    final List<Use> uses = new ArrayList<>();
    final Map<String, RelationCatalog.Relation> relations = new HashMap<>();
    final Set<String> expanding = new HashSet<>();

    /** FROM items, relations and views. */
    final LineageFrom from = new LineageFrom(this);
    /** Target lists, expressions and column references. */
    final LineageExpressions exprs = new LineageExpressions(this);

    private LineageWalker(RelationCatalog catalog) {
        this.catalog = catalog;
    }

    static Lineage analyze(String statement, RelationCatalog catalog) throws LineageException, SqlParseException {
        JsonNode stmt = SqlParser.lastParsedTree(statement); // the tree the gateway just judged, when it is this text's
        if (stmt == null) {
            JsonNode stmts = SqlParser.tree(statement).path("stmts");
            if (stmts.size() != 1) {
                if (stmts.isEmpty()) return new Lineage(List.of(), List.of());
                throw new LineageException("expected one statement, found " + stmts.size());
            }
            stmt = stmts.get(0).path("stmt");
        }
        LineageWalker w = new LineageWalker(catalog);
        List<Col> outputs = w.statement(stmt);
        List<Output> out = new ArrayList<>(outputs.size());
        for (Col c : outputs) out.add(new Output(c.name(), c.deriv().sources()));
        return new Lineage(out, w.uses);
    }

    void use(Deriv d, UseKind kind, String construct) {
        if (!d.sources().isEmpty()) uses.add(new Use(d.sources(), kind, construct, Optional.empty()));
    }

    void equalityOrSearch(Deriv d, String construct) {
        use(d, d.bare() ? UseKind.EQUALITY : UseKind.SEARCH, construct);
    }

    // ---------------------------------------------------------------------------------------------
    // Statements

    private List<Col> statement(JsonNode wrapper) throws LineageException, SqlParseException {
        String type = LineageExpressions.type(wrapper);
        JsonNode body = wrapper.path(type);
        Scope top = new Scope(null, new HashMap<>());
        switch (type) {
            case "SelectStmt" -> {
                List<Col> out = select(body, top);
                if (body.has("intoClause")) copyInto(out, body.path("intoClause").path("rel"), List.of());
                return out;
            }
            case "InsertStmt" -> {
                return insert(body, top);
            }
            case "UpdateStmt" -> {
                return update(body, top);
            }
            case "DeleteStmt" -> {
                return delete(body, top);
            }
            case "CopyStmt" -> {
                if (body.has("query")) return statement(body.get("query"));
                if (body.path("is_from").asBoolean()) return List.of();
                Entry e = from.relationEntry(body.path("relation"), top);
                if (!body.has("attlist")) return e.columns();
                List<Col> cols = new ArrayList<>();
                for (JsonNode a : body.path("attlist")) cols.add(columnOf(e, str(a)));
                return cols;
            }
            case "ExplainStmt" -> {
                statement(body.path("query")); // its uses count; the plan itself shows no values
                return List.of(new Col("QUERY PLAN", Deriv.NONE));
            }
            case "PrepareStmt" -> {
                return statement(body.path("query"));
            }
            case "CreateTableAsStmt" -> {
                List<Col> out = statement(body.path("query"));
                if (!body.path("objtype").asText().equals("OBJECT_MATVIEW") || !body.path("into").path("skipData").asBoolean()) {
                    List<String> names = new ArrayList<>();
                    for (JsonNode n : body.path("into").path("colNames")) names.add(str(n));
                    copyInto(out, body.path("into").path("rel"), names);
                }
                return List.of();
            }
            case "ViewStmt" -> {
                statement(body.path("query")); // a view's definition is expanded where it is read
                return List.of();
            }
            default -> {
                if (UNCOVERED_STATEMENTS.contains(type)) {
                    throw new LineageException(describe(type) + " returns or computes values Portcullis cannot attribute to columns");
                }
                return List.of(); // utility statements: SET, SHOW, BEGIN, DDL... show no table data
            }
        }
    }

    private static String describe(String type) {
        return switch (type) {
            case "FetchStmt", "DeclareCursorStmt", "ClosePortalStmt" -> "a cursor (use the extended protocol's portals, e.g. JDBC setFetchSize)";
            case "ExecuteStmt" -> "EXECUTE of a statement this session did not PREPARE through Portcullis";
            case "DoStmt" -> "a DO block";
            case "CallStmt" -> "CALL";
            case "MergeStmt" -> "MERGE";
            default -> type.replace("Stmt", "").toUpperCase(Locale.ROOT);
        };
    }

    private List<Col> insert(JsonNode body, Scope top) throws LineageException, SqlParseException {
        withClause(body.path("withClause"), top);
        Entry target = from.relationEntry(body.path("relation"), top);
        RelationCatalog.Relation rel = from.relationOf(body.path("relation"));
        List<String> targets = new ArrayList<>();
        if (body.has("cols")) {
            for (JsonNode c : body.path("cols")) targets.add(c.path("ResTarget").path("name").asText());
        } else {
            targets.addAll(rel.columns());
        }
        if (body.has("selectStmt")) {
            List<Col> values = select(body.path("selectStmt").path("SelectStmt"), top.child());
            for (int i = 0; i < values.size() && i < targets.size(); i++) {
                copy(values.get(i).deriv(), rel, targets.get(i));
            }
        }
        Scope s = top.child();
        s.items.add(new FromItem(target.columns(), List.of(target), null));
        JsonNode conflict = body.path("onConflictClause");
        if (!conflict.isMissingNode()) {
            Scope cs = top.child();
            cs.items.add(new FromItem(target.columns(), List.of(target, new Entry("excluded", target.columns(), null)), null));
            exprs.condition(conflict.path("whereClause"), cs, "ON CONFLICT ... WHERE");
            setList(conflict.path("targetList"), cs, rel);
        }
        return exprs.targetList(body.path("returningList"), s);
    }

    private List<Col> update(JsonNode body, Scope top) throws LineageException, SqlParseException {
        withClause(body.path("withClause"), top);
        Scope s = targetScope(body.path("relation"), top);
        RelationCatalog.Relation rel = from.relationOf(body.path("relation"));
        from.from(body.path("fromClause"), s);
        exprs.condition(body.path("whereClause"), s, "WHERE");
        setList(body.path("targetList"), s, rel);
        return exprs.targetList(body.path("returningList"), s);
    }

    private List<Col> delete(JsonNode body, Scope top) throws LineageException, SqlParseException {
        withClause(body.path("withClause"), top);
        Scope s = targetScope(body.path("relation"), top);
        from.from(body.path("usingClause"), s);
        exprs.condition(body.path("whereClause"), s, "WHERE");
        return exprs.targetList(body.path("returningList"), s);
    }

    /** The level an UPDATE or DELETE sees: its target table first, then its FROM or USING items. */
    private Scope targetScope(JsonNode relation, Scope top) throws LineageException, SqlParseException {
        Entry target = from.relationEntry(relation, top);
        Scope s = top.child();
        s.items.add(new FromItem(target.columns(), List.of(target), null));
        return s;
    }

    /** UPDATE's and ON CONFLICT's {@code SET column = value}: each value copied into its column. */
    private void setList(JsonNode targets, Scope s, RelationCatalog.Relation rel) throws LineageException, SqlParseException {
        for (JsonNode t : targets) {
            JsonNode r = t.path("ResTarget");
            JsonNode val = r.path("val");
            Deriv d = val.has("MultiAssignRef") ? exprs.expr(val.path("MultiAssignRef").path("source"), s) : exprs.expr(val, s);
            copy(d, rel, r.path("name").asText());
        }
    }

    private void copy(Deriv d, RelationCatalog.Relation into, String column) {
        if (d.sources().isEmpty()) return;
        Column target = new Column(into.schema(), into.name(), column);
        uses.add(new Use(d.sources(), UseKind.COPY, "written into " + into.name() + "." + column, Optional.of(target)));
    }

    /** SELECT INTO and CREATE TABLE AS: the new table's columns receive the result's values. */
    private void copyInto(List<Col> out, JsonNode rangeVar, List<String> names) {
        String schema = rangeVar.hasNonNull("schemaname") ? rangeVar.get("schemaname").asText() : "";
        String table = rangeVar.path("relname").asText();
        for (int i = 0; i < out.size(); i++) {
            Deriv d = out.get(i).deriv();
            if (d.sources().isEmpty()) continue;
            String name = i < names.size() ? names.get(i) : out.get(i).name();
            uses.add(new Use(d.sources(), UseKind.COPY, "written into " + table + "." + name,
                    Optional.of(new Column(schema, table, name))));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Queries

    private void withClause(JsonNode with, Scope scope) throws LineageException, SqlParseException {
        if (with.isMissingNode()) return;
        boolean recursive = with.path("recursive").asBoolean();
        for (JsonNode c : with.path("ctes")) {
            JsonNode cte = c.path("CommonTableExpr");
            String name = cte.path("ctename").asText();
            List<String> aliases = new ArrayList<>();
            for (JsonNode a : cte.path("aliascolnames")) aliases.add(str(a));
            JsonNode query = cte.path("ctequery");
            List<Col> cols;
            JsonNode sel = query.path("SelectStmt");
            if (recursive && !sel.isMissingNode() && !sel.path("op").asText("SETOP_NONE").equals("SETOP_NONE")) {
                cols = recursiveCte(name, aliases, sel, scope);
            } else {
                cols = renamed(statementIn(query, scope), aliases);
            }
            scope.ctes.put(name, new Cte(cols));
        }
    }

    /** A query inside a WITH (SELECT, or INSERT/UPDATE/DELETE ... RETURNING), seeing the CTEs before it. */
    List<Col> statementIn(JsonNode wrapper, Scope scope) throws LineageException, SqlParseException {
        String type = LineageExpressions.type(wrapper);
        JsonNode body = wrapper.path(type);
        Scope s = new Scope(scope.outer, new HashMap<>(scope.ctes));
        return switch (type) {
            case "SelectStmt" -> select(body, s);
            case "InsertStmt" -> insert(body, s);
            case "UpdateStmt" -> update(body, s);
            case "DeleteStmt" -> delete(body, s);
            default -> throw new LineageException("a " + describe(type) + " inside WITH is not covered");
        };
    }

    /** {@code WITH RECURSIVE t AS (base UNION [ALL] step)}: the step's columns grow until nothing changes. */
    private List<Col> recursiveCte(String name, List<String> aliases, JsonNode sel, Scope scope)
            throws LineageException, SqlParseException {
        List<Col> cols = renamed(select(sel.path("larg"), new Scope(scope.outer, new HashMap<>(scope.ctes))), aliases);
        for (int round = 0; round < 32; round++) {
            Map<String, Cte> ctes = new HashMap<>(scope.ctes);
            ctes.put(name, new Cte(cols));
            List<Col> step = select(sel.path("rarg"), new Scope(scope.outer, ctes));
            List<Col> merged = new ArrayList<>(cols.size());
            boolean changed = false;
            for (int i = 0; i < cols.size(); i++) {
                Deriv d = i < step.size() ? cols.get(i).deriv().either(step.get(i).deriv()) : cols.get(i).deriv();
                changed |= !d.equals(cols.get(i).deriv());
                merged.add(new Col(cols.get(i).name(), d));
            }
            cols = merged;
            if (!changed) {
                if (!sel.path("all").asBoolean()) setOperationUses(cols, "UNION");
                return cols;
            }
        }
        throw new LineageException("recursive query " + name + " did not settle");
    }

    List<Col> select(JsonNode body, Scope scope) throws LineageException, SqlParseException {
        withClause(body.path("withClause"), scope);
        String op = body.path("op").asText("SETOP_NONE");
        List<Col> out;
        Scope s = scope;
        if (!op.equals("SETOP_NONE")) {
            List<Col> left = select(body.path("larg"), new Scope(scope.outer, new HashMap<>(scope.ctes)));
            List<Col> right = select(body.path("rarg"), new Scope(scope.outer, new HashMap<>(scope.ctes)));
            out = new ArrayList<>(left.size());
            for (int i = 0; i < left.size(); i++) {
                out.add(new Col(left.get(i).name(), i < right.size() ? left.get(i).deriv().either(right.get(i).deriv()) : left.get(i).deriv()));
            }
            if (!body.path("all").asBoolean()) {
                setOperationUses(out, switch (op) {
                    case "SETOP_INTERSECT" -> "INTERSECT";
                    case "SETOP_EXCEPT" -> "EXCEPT";
                    default -> "UNION";
                });
            }
        } else if (body.has("valuesLists")) {
            out = new ArrayList<>();
            for (JsonNode row : body.path("valuesLists")) {
                JsonNode items = row.path("List").path("items");
                for (int i = 0; i < items.size(); i++) {
                    Deriv d = exprs.expr(items.get(i), s).computed();
                    if (out.size() <= i) out.add(new Col("column" + (i + 1), d));
                    else out.set(i, new Col(out.get(i).name(), out.get(i).deriv().either(d)));
                }
            }
        } else {
            from.from(body.path("fromClause"), s);
            exprs.condition(body.path("whereClause"), s, "WHERE");
            out = exprs.targetList(body.path("targetList"), s);
            for (JsonNode g : body.path("groupClause")) groupItem(g, s, out);
            exprs.condition(body.path("havingClause"), s, "HAVING");
            for (JsonNode w : body.path("windowClause")) window(w.path("WindowDef"), s, out);
            JsonNode distinct = body.path("distinctClause");
            if (!distinct.isMissingNode()) {
                boolean plain = distinct.size() == 1 && distinct.get(0).isEmpty();
                if (plain) {
                    for (Col c : out) use(c.deriv(), UseKind.SEARCH, "SELECT DISTINCT (which compares and sorts values)");
                } else {
                    for (JsonNode d : distinct) use(sortKey(d, s, out), UseKind.SEARCH, "DISTINCT ON");
                }
            }
        }
        for (JsonNode sort : body.path("sortClause")) {
            use(sortKey(sort.path("SortBy").path("node"), op.equals("SETOP_NONE") && !body.has("valuesLists") ? s : outputScope(scope, out), out),
                    UseKind.SEARCH, "ORDER BY");
        }
        Scope limits = op.equals("SETOP_NONE") ? s : outputScope(scope, out);
        if (body.has("limitCount")) use(exprs.expr(body.path("limitCount"), limits), UseKind.SEARCH, "LIMIT");
        if (body.has("limitOffset")) use(exprs.expr(body.path("limitOffset"), limits), UseKind.SEARCH, "OFFSET");
        return out;
    }

    private void setOperationUses(List<Col> out, String op) {
        for (Col c : out) use(c.deriv(), UseKind.SEARCH, op + " (which compares and sorts values; " + op + " ALL does not)");
    }

    /**
     * An ORDER BY, GROUP BY or DISTINCT ON key: an ordinal names a result column, a bare name a result
     * column (as well as any input column of that name: both are counted), anything else is an expression.
     */
    private Deriv sortKey(JsonNode node, Scope s, List<Col> out) throws LineageException, SqlParseException {
        JsonNode ival = node.path("A_Const").path("ival");
        if (node.has("A_Const") && !ival.isMissingNode()) {
            int i = ival.path("ival").asInt(0);
            return i >= 1 && i <= out.size() ? out.get(i - 1).deriv() : Deriv.NONE;
        }
        JsonNode fields = node.path("ColumnRef").path("fields");
        if (fields.size() == 1 && fields.get(0).has("String")) {
            String name = str(fields.get(0));
            Deriv d = null;
            for (Col c : out) if (c.name().equals(name)) d = d == null ? c.deriv() : d.either(c.deriv());
            if (d != null) {
                Optional<Deriv> input = resolveOptional(fields, s);
                return input.map(d::either).orElse(d);
            }
        }
        return exprs.expr(node, s);
    }

    private void groupItem(JsonNode g, Scope s, List<Col> out) throws LineageException, SqlParseException {
        if (g.has("GroupingSet")) {
            for (JsonNode c : g.path("GroupingSet").path("content")) groupItem(c, s, out);
            return;
        }
        use(sortKey(g, s, out), UseKind.SEARCH, "GROUP BY");
    }

    void window(JsonNode def, Scope s, List<Col> out) throws LineageException, SqlParseException {
        for (JsonNode p : def.path("partitionClause")) use(exprs.expr(p, s), UseKind.SEARCH, "PARTITION BY");
        for (JsonNode o : def.path("orderClause")) use(exprs.expr(o.path("SortBy").path("node"), s), UseKind.SEARCH, "ORDER BY in a window");
    }

}
