package dev.portcullis.sql;

import static dev.portcullis.sql.LineageScope.aliasColumns;
import static dev.portcullis.sql.LineageScope.columnOf;
import static dev.portcullis.sql.LineageScope.entry;
import static dev.portcullis.sql.LineageScope.hasColumn;
import static dev.portcullis.sql.LineageScope.lateralScope;
import static dev.portcullis.sql.LineageScope.names;
import static dev.portcullis.sql.LineageScope.outputScope;
import static dev.portcullis.sql.LineageScope.renamed;
import static dev.portcullis.sql.LineageScope.resolveOptional;
import static dev.portcullis.sql.LineageScope.starColumn;
import static dev.portcullis.sql.LineageScope.str;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One walk over a statement's parse tree that computes its {@link Lineage}. Each expression evaluates to
 * a {@link Deriv}: the base columns its value is computed from, and whether it is exactly one column's
 * value, unchanged ("bare", so {@code = value} on it is an equality lookup). Names resolve the way the
 * server resolves them: innermost query level first, a column before a whole-row reference, output
 * names in {@code ORDER BY}. What the walk does not cover is a {@link LineageException}: never a guess.
 */
final class LineageWalker {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Views within views, deeper than this, are refused (and a view that reaches itself). */
    private static final int MAX_VIEW_DEPTH = 16;
    private static final Set<String> SYSTEM_SCHEMAS = Set.of("pg_catalog", "information_schema");
    /** Catalog relations that hold values of other tables' columns: the planner's statistics samples. */
    private static final Set<String> VALUE_SAMPLES = Set.of("pg_stats", "pg_stats_ext", "pg_stats_ext_exprs",
            "pg_statistic", "pg_statistic_ext", "pg_statistic_ext_data");
    /** Set-returning functions whose arguments decide how many rows come back. */
    private static final Set<String> ROW_COUNT_FUNCTIONS = Set.of("generate_series", "generate_subscripts");
    /** Statements whose results the walk cannot attribute to columns, or that run code it cannot see. */
    private static final Set<String> UNCOVERED_STATEMENTS = Set.of("DoStmt", "CallStmt", "FetchStmt",
            "DeclareCursorStmt", "ExecuteStmt", "MergeStmt", "RuleStmt", "CreateTrigStmt", "CreateEventTrigStmt",
            "CreateFunctionStmt", "ClosePortalStmt");

    private final RelationCatalog catalog;
    private final List<Use> uses = new ArrayList<>();
    private final Map<String, RelationCatalog.Relation> relations = new HashMap<>();
    private final Set<String> expanding = new HashSet<>();

    private LineageWalker(RelationCatalog catalog) {
        this.catalog = catalog;
    }

    static Lineage analyze(String statement, RelationCatalog catalog) throws LineageException, SqlParseException {
        JsonNode stmt = SqlParser.lastParsedTree(statement); // the tree the gateway just judged, when it is this text's
        if (stmt == null) {
            JsonNode stmts = parse(statement).path("stmts");
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

    private static JsonNode parse(String sql) throws SqlParseException {
        try {
            return JSON.readTree(PgQuery.instance().parseToJson(sql));
        } catch (JacksonException e) {
            throw new SqlParseException("the statement is too complex to analyse: " + e.getOriginalMessage(), 0);
        }
    }

    private void use(Deriv d, UseKind kind, String construct) {
        if (!d.sources().isEmpty()) uses.add(new Use(d.sources(), kind, construct, Optional.empty()));
    }

    private void equalityOrSearch(Deriv d, String construct) {
        use(d, d.bare() ? UseKind.EQUALITY : UseKind.SEARCH, construct);
    }

    // ---------------------------------------------------------------------------------------------
    // Statements

    private List<Col> statement(JsonNode wrapper) throws LineageException, SqlParseException {
        String type = type(wrapper);
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
                Entry e = relationEntry(body.path("relation"), top);
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
        Entry target = relationEntry(body.path("relation"), top);
        RelationCatalog.Relation rel = relationOf(body.path("relation"));
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
            condition(conflict.path("whereClause"), cs, "ON CONFLICT ... WHERE");
            setList(conflict.path("targetList"), cs, rel);
        }
        return targetList(body.path("returningList"), s);
    }

    private List<Col> update(JsonNode body, Scope top) throws LineageException, SqlParseException {
        withClause(body.path("withClause"), top);
        Scope s = targetScope(body.path("relation"), top);
        RelationCatalog.Relation rel = relationOf(body.path("relation"));
        from(body.path("fromClause"), s);
        condition(body.path("whereClause"), s, "WHERE");
        setList(body.path("targetList"), s, rel);
        return targetList(body.path("returningList"), s);
    }

    private List<Col> delete(JsonNode body, Scope top) throws LineageException, SqlParseException {
        withClause(body.path("withClause"), top);
        Scope s = targetScope(body.path("relation"), top);
        from(body.path("usingClause"), s);
        condition(body.path("whereClause"), s, "WHERE");
        return targetList(body.path("returningList"), s);
    }

    /** The level an UPDATE or DELETE sees: its target table first, then its FROM or USING items. */
    private Scope targetScope(JsonNode relation, Scope top) throws LineageException, SqlParseException {
        Entry target = relationEntry(relation, top);
        Scope s = top.child();
        s.items.add(new FromItem(target.columns(), List.of(target), null));
        return s;
    }

    /** UPDATE's and ON CONFLICT's {@code SET column = value}: each value copied into its column. */
    private void setList(JsonNode targets, Scope s, RelationCatalog.Relation rel) throws LineageException, SqlParseException {
        for (JsonNode t : targets) {
            JsonNode r = t.path("ResTarget");
            JsonNode val = r.path("val");
            Deriv d = val.has("MultiAssignRef") ? expr(val.path("MultiAssignRef").path("source"), s) : expr(val, s);
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
    private List<Col> statementIn(JsonNode wrapper, Scope scope) throws LineageException, SqlParseException {
        String type = type(wrapper);
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

    private List<Col> select(JsonNode body, Scope scope) throws LineageException, SqlParseException {
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
                    Deriv d = expr(items.get(i), s).computed();
                    if (out.size() <= i) out.add(new Col("column" + (i + 1), d));
                    else out.set(i, new Col(out.get(i).name(), out.get(i).deriv().either(d)));
                }
            }
        } else {
            from(body.path("fromClause"), s);
            condition(body.path("whereClause"), s, "WHERE");
            out = targetList(body.path("targetList"), s);
            for (JsonNode g : body.path("groupClause")) groupItem(g, s, out);
            condition(body.path("havingClause"), s, "HAVING");
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
        if (body.has("limitCount")) use(expr(body.path("limitCount"), limits), UseKind.SEARCH, "LIMIT");
        if (body.has("limitOffset")) use(expr(body.path("limitOffset"), limits), UseKind.SEARCH, "OFFSET");
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
        return expr(node, s);
    }

    private void groupItem(JsonNode g, Scope s, List<Col> out) throws LineageException, SqlParseException {
        if (g.has("GroupingSet")) {
            for (JsonNode c : g.path("GroupingSet").path("content")) groupItem(c, s, out);
            return;
        }
        use(sortKey(g, s, out), UseKind.SEARCH, "GROUP BY");
    }

    private void window(JsonNode def, Scope s, List<Col> out) throws LineageException, SqlParseException {
        for (JsonNode p : def.path("partitionClause")) use(expr(p, s), UseKind.SEARCH, "PARTITION BY");
        for (JsonNode o : def.path("orderClause")) use(expr(o.path("SortBy").path("node"), s), UseKind.SEARCH, "ORDER BY in a window");
    }

    // ---------------------------------------------------------------------------------------------
    // FROM

    private void from(JsonNode fromClause, Scope s) throws LineageException, SqlParseException {
        for (JsonNode item : fromClause) s.items.add(fromItem(item, s));
    }

    /** One FROM item; LATERAL items see the ones before them (the scope so far). */
    private FromItem fromItem(JsonNode node, Scope s) throws LineageException, SqlParseException {
        String type = type(node);
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
                List<Col> cols = statementIn(body.path("subquery"), sub);
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
            equalityOrSearch(l, "JOIN ... USING");
            equalityOrSearch(r, "JOIN ... USING");
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
        condition(j.path("quals"), quals, "JOIN ... ON");
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
            Deriv d = expr(call, s).computed();
            all = all.plus(d);
            String fname = call.has("FuncCall") ? last(call.path("FuncCall").path("funcname")) : figureName(call);
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
    private Entry relationEntry(JsonNode rangeVar, Scope s) throws LineageException, SqlParseException {
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
        boolean system = SYSTEM_SCHEMAS.contains(rel.schema());
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

    private RelationCatalog.Relation relationOf(JsonNode rangeVar) throws LineageException {
        Optional<String> schema = rangeVar.hasNonNull("schemaname") ? Optional.of(rangeVar.get("schemaname").asText()) : Optional.empty();
        String name = rangeVar.path("relname").asText();
        String key = schema.orElse("") + "." + name;
        RelationCatalog.Relation rel = relations.get(key);
        if (rel == null) {
            rel = catalog.relation(schema, name)
                    .orElseThrow(() -> new LineageException("relation " + schema.map(x -> x + ".").orElse("") + name
                            + " is not in the catalog"));
            relations.put(key, rel);
        }
        if (SYSTEM_SCHEMAS.contains(rel.schema()) && VALUE_SAMPLES.contains(rel.name())) {
            throw new LineageException(rel.name() + " holds sample values of every column, masked ones included");
        }
        return rel;
    }

    /** A view's columns, from its definition: what a read of the view computes. */
    private List<Col> viewColumns(RelationCatalog.Relation view) throws LineageException, SqlParseException {
        String key = view.schema() + "." + view.name();
        if (!expanding.add(key) || expanding.size() > MAX_VIEW_DEPTH) {
            throw new LineageException("view " + key + " is nested too deeply to expand");
        }
        try {
            JsonNode stmts = parse(view.definition().orElseThrow()).path("stmts");
            if (stmts.size() != 1 || !stmts.get(0).path("stmt").has("SelectStmt")) {
                throw new LineageException("view " + key + " has a definition that is not one SELECT");
            }
            return select(stmts.get(0).path("stmt").path("SelectStmt"), new Scope(null, new HashMap<>()));
        } finally {
            expanding.remove(key);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Target lists and names

    private List<Col> targetList(JsonNode targets, Scope s) throws LineageException, SqlParseException {
        List<Col> out = new ArrayList<>();
        for (JsonNode t : targets) {
            JsonNode r = t.path("ResTarget");
            JsonNode val = r.path("val");
            JsonNode fields = val.path("ColumnRef").path("fields");
            if (fields.size() > 0 && fields.get(fields.size() - 1).has("A_Star")) {
                out.addAll(star(fields, s));
                continue;
            }
            Deriv d = expr(val, s);
            out.add(new Col(r.hasNonNull("name") ? r.get("name").asText() : figureName(val), d));
        }
        return out;
    }

    /** {@code *} or {@code t.*} in a target list: the columns, each on its own. */
    private List<Col> star(JsonNode fields, Scope s) throws LineageException {
        if (fields.size() == 1) {
            List<Col> all = new ArrayList<>();
            for (FromItem item : s.items) {
                if (item.star() == null) throw new LineageException("* over a function whose columns Portcullis cannot tell");
                all.addAll(item.star());
            }
            return all;
        }
        String qualifier = str(fields.get(fields.size() - 2));
        Entry e = entry(qualifier, s);
        if (e == null) throw new LineageException("cannot resolve " + qualifier + ".*");
        if (e.opaque() != null) throw new LineageException(qualifier + ".* over a function whose columns Portcullis cannot tell");
        return e.columns();
    }

    /** The name the server gives a result column without an alias (its FigureColname). */
    private static String figureName(JsonNode val) {
        String type = type(val);
        JsonNode body = val.path(type);
        return switch (type) {
            case "ColumnRef" -> {
                JsonNode f = body.path("fields");
                yield f.get(f.size() - 1).has("String") ? str(f.get(f.size() - 1)) : "?column?";
            }
            case "A_Indirection" -> {
                JsonNode ind = body.path("indirection");
                String name = "?column?";
                for (JsonNode i : ind) if (i.has("String")) name = str(i);
                yield name.equals("?column?") ? figureName(body.path("arg")) : name;
            }
            case "FuncCall" -> last(body.path("funcname"));
            case "TypeCast" -> {
                String inner = figureName(body.path("arg"));
                yield inner.equals("?column?") ? last(body.path("typeName").path("names")) : inner;
            }
            case "CaseExpr" -> "case";
            case "A_ArrayExpr" -> "array";
            case "RowExpr" -> "row";
            case "CoalesceExpr" -> "coalesce";
            case "MinMaxExpr" -> body.path("op").asText().equals("IS_GREATEST") ? "greatest" : "least";
            case "SubLink" -> switch (body.path("subLinkType").asText()) {
                case "EXISTS_SUBLINK" -> "exists";
                case "ARRAY_SUBLINK" -> "array";
                case "EXPR_SUBLINK" -> {
                    JsonNode t = body.path("subselect").path("SelectStmt").path("targetList").path(0).path("ResTarget");
                    yield t.hasNonNull("name") ? t.get("name").asText() : figureName(t.path("val"));
                }
                default -> "?column?";
            };
            case "A_Expr" -> body.path("kind").asText().equals("AEXPR_NULLIF") ? "nullif" : "?column?";
            case "SQLValueFunction" -> body.path("op").asText().replace("SVFOP_", "").toLowerCase(Locale.ROOT);
            case "GroupingFunc" -> "grouping";
            case "CollateClause" -> figureName(body.path("arg"));
            default -> "?column?";
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Expressions

    private Deriv expr(JsonNode node, Scope s) throws LineageException, SqlParseException {
        if (node == null || node.isMissingNode() || node.isNull() || node.isEmpty()) return Deriv.NONE;
        if (node.isArray()) {
            Deriv d = Deriv.NONE;
            for (JsonNode n : node) d = d.plus(expr(n, s));
            return d;
        }
        String type = type(node);
        JsonNode b = node.path(type);
        switch (type) {
            case "A_Const", "ParamRef", "SQLValueFunction", "SetToDefault", "CurrentOfExpr" -> {
                return Deriv.NONE;
            }
            case "ColumnRef" -> {
                return column(b.path("fields"), s);
            }
            case "A_Indirection" -> {
                JsonNode ind = b.path("indirection");
                Deriv sub = Deriv.NONE;
                for (JsonNode i : ind) if (!i.has("String") && !i.has("A_Star")) sub = sub.plus(expr(i, s));
                // (c).email: that column of the whole row c, exactly
                JsonNode argFields = b.path("arg").path("ColumnRef").path("fields");
                if (ind.size() == 1 && ind.get(0).has("String") && argFields.size() == 1 && argFields.get(0).has("String")) {
                    String rowName = str(argFields.get(0));
                    if (!hasColumn(rowName, s)) {
                        Entry e = entry(rowName, s);
                        if (e != null && e.opaque() == null) return columnOf(e, str(ind.get(0))).deriv();
                    }
                }
                return expr(b.path("arg"), s).plus(sub).computed();
            }
            case "A_Indices" -> {
                return expr(b.path("lidx"), s).plus(expr(b.path("uidx"), s));
            }
            case "A_Expr" -> {
                operator(b);
                return expr(b.path("lexpr"), s).plus(expr(b.path("rexpr"), s)).computed();
            }
            case "List" -> {
                return expr(b.path("items"), s).computed();
            }
            case "BoolExpr", "CoalesceExpr", "MinMaxExpr", "RowExpr", "GroupingFunc" -> {
                return expr(b.path("args"), s).computed();
            }
            case "A_ArrayExpr" -> {
                return expr(b.path("elements"), s).computed();
            }
            case "TypeCast", "CollateClause" -> {
                return expr(b.path("arg"), s).computed();
            }
            case "NullTest", "BooleanTest" -> {
                return expr(b.path("arg"), s).computed();
            }
            case "NamedArgExpr" -> {
                return expr(b.path("arg"), s);
            }
            case "XmlExpr" -> {
                return expr(b.path("args"), s).plus(expr(b.path("named_args"), s)).computed();
            }
            case "ResTarget" -> {
                return expr(b.path("val"), s);
            }
            case "XmlSerialize" -> {
                return expr(b.path("expr"), s).computed();
            }
            case "CaseExpr" -> {
                Deriv d = Deriv.NONE;
                if (b.has("arg")) {
                    Deriv arg = expr(b.path("arg"), s);
                    equalityOrSearch(arg, "CASE ... WHEN");
                    d = d.plus(arg);
                    for (JsonNode w : b.path("args")) {
                        Deriv when = expr(w.path("CaseWhen").path("expr"), s);
                        equalityOrSearch(when, "CASE ... WHEN");
                        d = d.plus(when).plus(expr(w.path("CaseWhen").path("result"), s));
                    }
                } else {
                    for (JsonNode w : b.path("args")) {
                        d = d.plus(condition(w.path("CaseWhen").path("expr"), s, "a CASE condition"));
                        d = d.plus(expr(w.path("CaseWhen").path("result"), s));
                    }
                }
                return d.plus(expr(b.path("defresult"), s)).computed();
            }
            case "FuncCall" -> {
                return function(b, s);
            }
            case "SubLink" -> {
                return subLink(b, s, null);
            }
            default -> throw new LineageException("the construct " + type + " is not covered");
        }
    }

    private Deriv function(JsonNode call, Scope s) throws LineageException, SqlParseException {
        List<String> names = new ArrayList<>();
        for (JsonNode n : call.path("funcname")) names.add(str(n));
        String shown = String.join(".", names);
        switch (BuiltinFunctions.classify(names)) {
            case SAFE, WRITES -> { }
            default -> throw new LineageException("function " + shown + " is not a built-in Portcullis knows, and could read "
                    + "or return any column");
        }
        Deriv d = expr(call.path("args"), s);
        if (ROW_COUNT_FUNCTIONS.contains(names.getLast())) use(d, UseKind.SEARCH, "the bounds of " + names.getLast());
        for (JsonNode o : call.path("agg_order")) {
            use(expr(o.path("SortBy").path("node"), s), UseKind.SEARCH, "ORDER BY in " + shown + "(...)");
        }
        if (call.has("agg_filter")) condition(call.path("agg_filter"), s, "FILTER (WHERE ...)"); // a WHERE of its own
        if (call.has("over")) window(call.path("over"), s, List.of());
        return d.computed();
    }

    /** A subquery as a value: a scalar subquery passes its column through; ARRAY(...) and EXISTS compute. */
    private Deriv subLink(JsonNode b, Scope s, String construct) throws LineageException, SqlParseException {
        String kind = b.path("subLinkType").asText();
        List<Col> cols = statementIn(b.path("subselect"), s.child());
        Deriv out = Deriv.NONE;
        if (cols.size() == 1) out = cols.getFirst().deriv();
        else for (Col c : cols) out = out.plus(c.deriv());
        return switch (kind) {
            case "EXPR_SUBLINK" -> out;
            case "EXISTS_SUBLINK" -> Deriv.NONE; // its WHERE was counted where it stands
            case "ANY_SUBLINK", "ALL_SUBLINK" -> {
                Deriv test = expr(b.path("testexpr"), s);
                String op = b.has("operName") ? last(b.path("operName")) : "=";
                if (construct != null && (op.equals("=") || op.equals("<>"))) {
                    equalityOrSearch(test, "IN (subquery) in " + construct);
                    equalityOrSearch(out, "IN (subquery) in " + construct);
                } else if (construct != null) {
                    use(test.plus(out), UseKind.SEARCH, op + " ANY/ALL (subquery) in " + construct);
                }
                yield test.plus(out).computed();
            }
            default -> out.plus(expr(b.path("testexpr"), s)).computed(); // ARRAY(...), row comparisons
        };
    }

    /**
     * A condition: a WHERE, HAVING, JOIN ... ON, CASE WHEN or FILTER. Each column it uses is an
     * {@link UseKind#EQUALITY} when it is compared, unchanged, for equality, and a {@link UseKind#SEARCH}
     * otherwise. Returns what the condition's value derives from.
     */
    private Deriv condition(JsonNode node, Scope s, String construct) throws LineageException, SqlParseException {
        if (node == null || node.isMissingNode() || node.isNull()) return Deriv.NONE;
        String type = type(node);
        JsonNode b = node.path(type);
        switch (type) {
            case "BoolExpr" -> {
                Deriv d = Deriv.NONE;
                for (JsonNode a : b.path("args")) d = d.plus(condition(a, s, construct));
                return d.computed();
            }
            case "BooleanTest" -> {
                return condition(b.path("arg"), s, construct).computed();
            }
            case "NullTest" -> {
                // email IS NULL is a lookup; NULLIF(substr(email, 1, 1), 'u') IS NULL is a search
                Deriv d = expr(b.path("arg"), s);
                use(d, d.bare() ? UseKind.EQUALITY : UseKind.SEARCH, (d.bare() ? "IS NULL" : "IS NULL of a value computed from it")
                        + " in " + construct);
                return d.computed();
            }
            case "SubLink" -> {
                return subLink(b, s, construct);
            }
            case "A_Expr" -> {
                return comparison(b, s, construct);
            }
            default -> {
                Deriv d = expr(node, s);
                equalityOrSearch(d, construct);
                return d.computed();
            }
        }
    }

    /** A user-defined operator runs a user's function, which could read any column. */
    private static void operator(JsonNode aExpr) throws LineageException {
        String kind = aExpr.path("kind").asText();
        if (!(kind.equals("AEXPR_OP") || kind.equals("AEXPR_OP_ANY") || kind.equals("AEXPR_OP_ALL"))) return;
        List<String> names = new ArrayList<>();
        for (JsonNode n : aExpr.path("name")) names.add(str(n));
        if (!BuiltinFunctions.isBuiltinOperator(names)) {
            throw new LineageException("operator " + String.join(".", names) + " is not a built-in Portcullis knows");
        }
    }

    private Deriv comparison(JsonNode b, Scope s, String construct) throws LineageException, SqlParseException {
        operator(b);
        String kind = b.path("kind").asText();
        String op = last(b.path("name"));
        boolean equality = op.equals("=") || op.equals("<>") || op.equals("!=");
        JsonNode l = b.path("lexpr");
        JsonNode r = b.path("rexpr");
        switch (kind) {
            case "AEXPR_OP", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT" -> {
                if (equality && l.has("RowExpr") && r.has("RowExpr")) {
                    Deriv d = Deriv.NONE;
                    for (JsonNode e : l.path("RowExpr").path("args")) d = d.plus(side(e, s, construct, op));
                    for (JsonNode e : r.path("RowExpr").path("args")) d = d.plus(side(e, s, construct, op));
                    return d.computed();
                }
                if (equality) return side(l, s, construct, op).plus(side(r, s, construct, op)).computed();
                Deriv d = expr(l, s).plus(expr(r, s));
                use(d, UseKind.SEARCH, "operator " + op + " in " + construct);
                return d.computed();
            }
            case "AEXPR_OP_ANY", "AEXPR_OP_ALL", "AEXPR_IN" -> {
                if (!equality) {
                    Deriv d = expr(l, s).plus(expr(r, s));
                    use(d, UseKind.SEARCH, "operator " + op + " in " + construct);
                    return d.computed();
                }
                Deriv d = side(l, s, construct, kind.equals("AEXPR_IN") ? "IN" : op + " ANY");
                JsonNode items = r.has("List") ? r.path("List").path("items") : r.has("A_ArrayExpr") ? r.path("A_ArrayExpr").path("elements") : null;
                if (items != null) {
                    for (JsonNode e : items) d = d.plus(side(e, s, construct, "IN"));
                } else {
                    d = d.plus(side(r, s, construct, op + " ANY"));
                }
                return d.computed();
            }
            default -> {
                // LIKE, ILIKE, SIMILAR TO, BETWEEN..., NULLIF: a search
                Deriv d = expr(l, s).plus(expr(r, s));
                use(d, UseKind.SEARCH, likeName(kind, op) + " in " + construct);
                return d.computed();
            }
        }
    }

    private Deriv side(JsonNode e, Scope s, String construct, String op) throws LineageException, SqlParseException {
        Deriv d = expr(e, s);
        use(d, d.bare() ? UseKind.EQUALITY : UseKind.SEARCH, (d.bare() ? op : op + " on a value computed from it") + " in " + construct);
        return d;
    }

    private static String likeName(String kind, String op) {
        return switch (kind) {
            case "AEXPR_LIKE" -> op.startsWith("!") ? "NOT LIKE" : "LIKE";
            case "AEXPR_ILIKE" -> op.startsWith("!") ? "NOT ILIKE" : "ILIKE";
            case "AEXPR_SIMILAR" -> "SIMILAR TO";
            case "AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM" -> "BETWEEN";
            case "AEXPR_NULLIF" -> "NULLIF";
            default -> "operator " + op;
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Column references

    private Deriv column(JsonNode fields, Scope s) throws LineageException {
        if (fields.get(fields.size() - 1).has("A_Star")) {
            // t.* (or *) as a value: the whole row
            if (fields.size() == 1) {
                Deriv d = Deriv.NONE;
                for (FromItem item : s.items) for (Entry e : item.entries()) d = d.plus(e.wholeRow());
                return d.computed();
            }
            Entry e = entry(str(fields.get(fields.size() - 2)), s);
            if (e == null) throw new LineageException("cannot resolve " + str(fields.get(fields.size() - 2)) + ".*");
            return e.wholeRow();
        }
        return resolveOptional(fields, s).orElseThrow(() -> new LineageException("cannot resolve column "
                + String.join(".", names(fields))));
    }

    private static String type(JsonNode wrapper) {
        var it = wrapper.fieldNames();
        return it.hasNext() ? it.next() : "";
    }

    private static String last(JsonNode stringNodes) {
        return stringNodes.isEmpty() ? "?column?" : str(stringNodes.get(stringNodes.size() - 1));
    }
}
