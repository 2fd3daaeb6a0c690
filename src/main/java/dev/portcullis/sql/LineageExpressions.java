package dev.portcullis.sql;

import static dev.portcullis.sql.LineageScope.columnOf;
import static dev.portcullis.sql.LineageScope.entry;
import static dev.portcullis.sql.LineageScope.hasColumn;
import static dev.portcullis.sql.LineageScope.names;
import static dev.portcullis.sql.LineageScope.resolveOptional;
import static dev.portcullis.sql.LineageScope.str;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.sql.Lineage.Column;
import dev.portcullis.sql.Lineage.UseKind;
import dev.portcullis.sql.LineageScope.Col;
import dev.portcullis.sql.LineageScope.Deriv;
import dev.portcullis.sql.LineageScope.Entry;
import dev.portcullis.sql.LineageScope.FromItem;
import dev.portcullis.sql.LineageScope.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Values in a {@link LineageWalker} walk: target lists ({@code *} included) and the names the server
 * gives result columns, expressions (operators, functions, CASE, casts, aggregates, windows, subqueries
 * as values), the conditions that pick rows and the column uses they make, and column references.
 * What it cannot attribute throws {@link LineageException}.
 */
final class LineageExpressions {
    private final LineageWalker w;

    LineageExpressions(LineageWalker w) {
        this.w = w;
    }
    // ---------------------------------------------------------------------------------------------
    // Target lists and names

    List<Col> targetList(JsonNode targets, Scope s) throws LineageException, SqlParseException {
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
    static String figureName(JsonNode val) {
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

    Deriv expr(JsonNode node, Scope s) throws LineageException, SqlParseException {
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
                    w.equalityOrSearch(arg, "CASE ... WHEN");
                    d = d.plus(arg);
                    for (JsonNode when : b.path("args")) {
                        Deriv value = expr(when.path("CaseWhen").path("expr"), s);
                        w.equalityOrSearch(value, "CASE ... WHEN");
                        d = d.plus(value).plus(expr(when.path("CaseWhen").path("result"), s));
                    }
                } else {
                    for (JsonNode when : b.path("args")) {
                        d = d.plus(condition(when.path("CaseWhen").path("expr"), s, "a CASE condition"));
                        d = d.plus(expr(when.path("CaseWhen").path("result"), s));
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
        if (LineageWalker.ROW_COUNT_FUNCTIONS.contains(names.getLast())) w.use(d, UseKind.SEARCH, "the bounds of " + names.getLast());
        for (JsonNode o : call.path("agg_order")) {
            w.use(expr(o.path("SortBy").path("node"), s), UseKind.SEARCH, "ORDER BY in " + shown + "(...)");
        }
        if (call.has("agg_filter")) condition(call.path("agg_filter"), s, "FILTER (WHERE ...)"); // a WHERE of its own
        if (call.has("over")) w.window(call.path("over"), s, List.of());
        return d.computed();
    }

    /** A subquery as a value: a scalar subquery passes its column through; ARRAY(...) and EXISTS compute. */
    private Deriv subLink(JsonNode b, Scope s, String construct) throws LineageException, SqlParseException {
        String kind = b.path("subLinkType").asText();
        List<Col> cols = w.statementIn(b.path("subselect"), s.child());
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
                    w.equalityOrSearch(test, "IN (subquery) in " + construct);
                    w.equalityOrSearch(out, "IN (subquery) in " + construct);
                } else if (construct != null) {
                    w.use(test.plus(out), UseKind.SEARCH, op + " ANY/ALL (subquery) in " + construct);
                }
                yield test.plus(out).computed();
            }
            default -> out.plus(expr(b.path("testexpr"), s)).computed(); // ARRAY(...), row comparisons
        };
    }

    /**
     * A condition: a WHERE, HAVING, JOIN ... ON, CASE WHEN or FILTER. Each column it w.uses is an
     * {@link UseKind#EQUALITY} when it is compared, unchanged, for equality, and a {@link UseKind#SEARCH}
     * otherwise. Returns what the condition's value derives from.
     */
    Deriv condition(JsonNode node, Scope s, String construct) throws LineageException, SqlParseException {
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
                w.use(d, d.bare() ? UseKind.EQUALITY : UseKind.SEARCH, (d.bare() ? "IS NULL" : "IS NULL of a value computed from it")
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
                w.equalityOrSearch(d, construct);
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
                w.use(d, UseKind.SEARCH, "operator " + op + " in " + construct);
                return d.computed();
            }
            case "AEXPR_OP_ANY", "AEXPR_OP_ALL", "AEXPR_IN" -> {
                if (!equality) {
                    Deriv d = expr(l, s).plus(expr(r, s));
                    w.use(d, UseKind.SEARCH, "operator " + op + " in " + construct);
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
                w.use(d, UseKind.SEARCH, likeName(kind, op) + " in " + construct);
                return d.computed();
            }
        }
    }

    private Deriv side(JsonNode e, Scope s, String construct, String op) throws LineageException, SqlParseException {
        Deriv d = expr(e, s);
        w.use(d, d.bare() ? UseKind.EQUALITY : UseKind.SEARCH, (d.bare() ? op : op + " on a value computed from it") + " in " + construct);
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

    static String type(JsonNode wrapper) {
        var it = wrapper.fieldNames();
        return it.hasNext() ? it.next() : "";
    }

    static String last(JsonNode stringNodes) {
        return stringNodes.isEmpty() ? "?column?" : str(stringNodes.get(stringNodes.size() - 1));
    }
}
