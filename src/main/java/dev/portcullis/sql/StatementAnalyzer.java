package dev.portcullis.sql;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.core.SqlStatement.Effect;
import dev.portcullis.core.SqlStatement.Kind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns one statement of libpg_query's JSON parse tree into a {@link SqlStatement}: kind from the node
 * type, tables from every {@code RangeVar} (minus references to CTEs in scope), functions from every
 * {@code FuncCall}, effects from the node types and the calls found anywhere in the tree.
 */
final class StatementAnalyzer {
    private StatementAnalyzer() {}

    /** Where a statement sits in the UTF-8 query text; libpg_query's locations are byte offsets. */
    record Source(byte[] utf8, int start, int end) {
        String text() {
            return new String(utf8, start, end - start, StandardCharsets.UTF_8).strip();
        }

        /** The statement's text up to a byte location in the whole query. */
        String textBefore(int location) {
            int to = Math.max(start, Math.min(end, location));
            return new String(utf8, start, to - start, StandardCharsets.UTF_8).strip();
        }
    }

    /** RangeVars under these keys always name a catalog relation, even when a CTE has the same name. */
    private static final Set<String> CATALOG_RELATION_KEYS = Set.of("relation", "rel", "view", "sequence");
    private static final Set<String> GUARDED_SETTINGS = Set.of("role", "session_authorization", "search_path",
            "default_transaction_read_only", "transaction_read_only", "session_replication_role");
    /** Settings that decide how the server reads SQL text; see {@link Effect#CHANGES_SQL_READING}. */
    static final Set<String> SQL_READING_SETTINGS = Set.of("client_encoding", "standard_conforming_strings");
    private static final Set<String> DROPPED_TABLES = Set.of("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW",
            "OBJECT_FOREIGN_TABLE");
    private static final Set<String> RUNS_CODE_STATEMENTS = Set.of("DoStmt", "CreateFunctionStmt", "CallStmt",
            "CreateExtensionStmt", "AlterExtensionStmt", "AlterExtensionContentsStmt", "LoadStmt", "CreatePLangStmt",
            "CreateTrigStmt", "CreateEventTrigStmt", "AlterSystemStmt");

    /** What the walk over one statement's tree found. */
    private static final class Facts {
        final Set<String> tables = new LinkedHashSet<>();
        final Set<String> functions = new LinkedHashSet<>();
        final Set<Effect> effects = EnumSet.noneOf(Effect.class);
        final Set<Kind> nestedKinds = EnumSet.noneOf(Kind.class);
        int updatesAndDeletes;
        boolean updateOrDeleteWithoutWhere;

        void updateOrDelete(JsonNode body) {
            updatesAndDeletes++;
            if (!body.hasNonNull("whereClause")) updateOrDeleteWithoutWhere = true;
        }

        /** Everything the inner statement does, as it will run inside this one. */
        void runs(SqlStatement inner) {
            tables.addAll(inner.tables());
            functions.addAll(inner.functions());
            effects.addAll(inner.effects());
            nestedKinds.addAll(inner.nestedKinds());
            if (DML_KINDS.contains(inner.kind())) nestedKinds.add(inner.kind());
            Set<Kind> innerKinds = inner.allKinds();
            if (innerKinds.contains(Kind.UPDATE) || innerKinds.contains(Kind.DELETE)) {
                updatesAndDeletes++;
                if (!inner.hasWhere()) updateOrDeleteWithoutWhere = true;
            }
        }
    }

    private static final Set<Kind> DML_KINDS = EnumSet.of(Kind.INSERT, Kind.UPDATE, Kind.DELETE, Kind.MERGE);

    /** @param wrapper a {@code {"SelectStmt": {...}}}-style node */
    static SqlStatement analyze(JsonNode wrapper, Source source) {
        Map.Entry<String, JsonNode> only = wrapper.properties().iterator().next();
        String type = only.getKey();
        JsonNode body = only.getValue();
        Kind kind = kind(type, body);
        Facts f = new Facts();
        boolean explainAnalyze = false;
        Optional<String> preparedName = Optional.empty();
        Optional<SqlStatement> preparedQuery = Optional.empty();

        switch (type) {
            case "ExplainStmt" -> {
                explainAnalyze = explainAnalyze(body.path("options"));
                SqlStatement inner = analyze(body.get("query"), source);
                if (explainAnalyze) {
                    f.runs(inner);
                } else {
                    f.tables.addAll(inner.tables());
                    f.functions.addAll(inner.functions());
                    // plain EXPLAIN runs nothing, but the planner may evaluate an immutable function
                    if (inner.callsUnknownFunctions()) f.effects.add(Effect.CALLS_UNKNOWN_FUNCTIONS);
                }
            }
            case "PrepareStmt" -> {
                SqlStatement inner = analyze(body.get("query"), source);
                f.runs(inner); // fail closed: judged as if it ran now
                preparedName = Optional.of(body.path("name").asText());
                preparedQuery = Optional.of(inner);
            }
            default -> {
                walk(body, type, Set.of(), f);
                if (type.equals("ExecuteStmt")) preparedName = Optional.of(body.path("name").asText());
                if (type.equals("DeallocateStmt") && body.hasNonNull("name")) preparedName = Optional.of(body.get("name").asText());
                if (type.equals("DropStmt") && DROPPED_TABLES.contains(body.path("removeType").asText())) {
                    for (JsonNode object : body.path("objects")) f.tables.add(dotted(object.path("List").path("items")));
                }
            }
        }
        effectsOfStatement(type, kind, body, f);
        if (kind == Kind.UPDATE || kind == Kind.DELETE) f.updateOrDelete(body);
        boolean hasWhere = f.updatesAndDeletes > 0 && !f.updateOrDeleteWithoutWhere;
        String text = source.text();
        return new SqlStatement(text, kind, f.nestedKinds, new ArrayList<>(f.tables), new ArrayList<>(f.functions), hasWhere,
                f.effects, explainAnalyze, preparedName, preparedQuery, List.of(), summary(type, body, source, text));
    }

    private static Kind kind(String type, JsonNode body) {
        return switch (type) {
            case "SelectStmt" -> Kind.SELECT;
            case "InsertStmt" -> Kind.INSERT;
            case "UpdateStmt" -> Kind.UPDATE;
            case "DeleteStmt" -> Kind.DELETE;
            case "MergeStmt" -> Kind.MERGE;
            case "CopyStmt" -> body.path("is_from").asBoolean() ? Kind.COPY_FROM : Kind.COPY_TO;
            case "TruncateStmt" -> Kind.TRUNCATE;
            case "GrantStmt", "GrantRoleStmt" -> body.path("is_grant").asBoolean() ? Kind.GRANT : Kind.REVOKE;
            case "AlterDefaultPrivilegesStmt" -> body.path("action").path("is_grant").asBoolean() ? Kind.GRANT : Kind.REVOKE;
            case "CreateRoleStmt", "AlterRoleStmt", "AlterRoleSetStmt", "DropRoleStmt" -> Kind.ROLE;
            case "DoStmt" -> Kind.DO;
            case "CreateFunctionStmt" -> Kind.CREATE_FUNCTION;
            case "CallStmt" -> Kind.CALL;
            case "ExplainStmt" -> Kind.EXPLAIN;
            case "PrepareStmt" -> Kind.PREPARE;
            case "ExecuteStmt" -> Kind.EXECUTE;
            case "DeallocateStmt" -> Kind.DEALLOCATE;
            case "TransactionStmt" -> body.path("kind").asText().endsWith("PREPARED")
                    || body.path("kind").asText().equals("TRANS_STMT_PREPARE") ? Kind.OTHER : Kind.TRANSACTION;
            case "VariableSetStmt" -> Kind.SET;
            case "VariableShowStmt" -> Kind.SHOW;
            case "ListenStmt", "UnlistenStmt" -> Kind.LISTEN;
            case "NotifyStmt" -> Kind.NOTIFY;
            case "VacuumStmt", "ReindexStmt", "ClusterStmt", "CheckPointStmt", "RefreshMatViewStmt" -> Kind.MAINTENANCE;
            case "LockStmt" -> Kind.LOCK;
            case "ViewStmt", "IndexStmt", "RuleStmt", "DefineStmt", "CompositeTypeStmt", "ImportForeignSchemaStmt" -> Kind.CREATE;
            case "RenameStmt", "CommentStmt", "SecLabelStmt", "ReassignOwnedStmt" -> Kind.ALTER;
            default -> type.startsWith("Create") ? Kind.CREATE
                    : type.startsWith("Alter") ? Kind.ALTER
                    : type.startsWith("Drop") ? Kind.DROP
                    : Kind.OTHER;
        };
    }

    private static void effectsOfStatement(String type, Kind kind, JsonNode body, Facts f) {
        switch (kind) {
            case INSERT, UPDATE, DELETE, MERGE, COPY_FROM, TRUNCATE -> f.effects.add(Effect.WRITES);
            case CREATE, ALTER, DROP, CREATE_FUNCTION -> f.effects.add(Effect.CHANGES_SCHEMA);
            case GRANT, REVOKE, ROLE -> f.effects.add(Effect.CHANGES_PRIVILEGES);
            case LOCK -> f.effects.add(Effect.LOCKS);
            default -> { }
        }
        if (RUNS_CODE_STATEMENTS.contains(type)) f.effects.add(Effect.RUNS_CODE);
        switch (type) {
            case "CreateTableAsStmt", "RefreshMatViewStmt" -> f.effects.add(Effect.WRITES);
            case "AlterOwnerStmt", "ReassignOwnedStmt" -> f.effects.add(Effect.CHANGES_PRIVILEGES);
            case "CopyStmt" -> {
                if (body.hasNonNull("filename") || body.path("is_program").asBoolean()) {
                    f.effects.add(Effect.COPY_FILE_OR_PROGRAM);
                }
            }
            case "VariableSetStmt" -> {
                if (guardedSetting(body)) f.effects.add(Effect.CHANGES_PRIVILEGES);
                if (changesSqlReading(body)) f.effects.add(Effect.CHANGES_SQL_READING);
            }
            case "TransactionStmt" -> {
                if (setsReadOnly(body.path("options"))) f.effects.add(Effect.CHANGES_PRIVILEGES);
            }
            default -> { }
        }
    }

    /** Settings that change who the session acts as, what names resolve to, or whether it may write. */
    private static boolean guardedSetting(JsonNode set) {
        String setKind = set.path("kind").asText();
        if (setKind.equals("VAR_RESET_ALL")) return true;
        if (setKind.equals("VAR_SET_MULTI")) return setsReadOnly(set.path("args"));
        return GUARDED_SETTINGS.contains(settingName(set.path("name").asText()));
    }

    /** The server matches setting names without regard to case ({@code SET "ROLE"}, {@code set_config('Role', ...)}). */
    static String settingName(String name) {
        return name.toLowerCase(java.util.Locale.ROOT);
    }

    private static boolean setsReadOnly(JsonNode defElems) {
        for (JsonNode d : defElems) {
            if (GUARDED_SETTINGS.contains(settingName(d.path("DefElem").path("defname").asText()))) return true;
        }
        return false;
    }

    /**
     * Walks every node. {@code ctes} are the CTE names visible here: an unqualified RangeVar with such a
     * name reads the CTE, not a table (unless it sits where only a catalog relation can, like DML targets).
     */
    private static void walk(JsonNode node, String key, Set<String> ctes, Facts f) {
        if (node.isArray()) {
            for (JsonNode element : node) walk(element, key, ctes, f);
            return;
        }
        if (!node.isObject()) return;
        JsonNode relname = node.get("relname");
        if (relname != null && relname.isTextual()) {
            boolean qualified = node.hasNonNull("schemaname") || node.hasNonNull("catalogname");
            boolean cteReference = !qualified && ctes.contains(relname.asText()) && !CATALOG_RELATION_KEYS.contains(key);
            if (!cteReference) f.tables.add(relationName(node));
        }
        Set<String> scope = ctes;
        JsonNode with = node.get("withClause");
        if (with != null && with.isObject()) scope = walkWith(with, ctes, f);
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String k = field.getKey();
            JsonNode v = field.getValue();
            if (k.equals("withClause")) continue;
            switch (k) {
                case "InsertStmt" -> nested(Kind.INSERT, f);
                case "MergeStmt" -> nested(Kind.MERGE, f);
                case "UpdateStmt" -> {
                    nested(Kind.UPDATE, f);
                    f.updateOrDelete(v);
                }
                case "DeleteStmt" -> {
                    nested(Kind.DELETE, f);
                    f.updateOrDelete(v);
                }
                case "FuncCall", "funccall" -> call(v, f);
                case "intoClause" -> {
                    f.effects.add(Effect.WRITES);
                    f.effects.add(Effect.CHANGES_SCHEMA);
                }
                case "lockingClause" -> f.effects.add(Effect.LOCKS);
                case "A_Expr" -> operator(v, f);
                default -> { }
            }
            walk(v, k, scope, f);
        }
    }

    private static void nested(Kind kind, Facts f) {
        f.nestedKinds.add(kind);
        f.effects.add(Effect.WRITES);
    }

    /** Walks the CTE bodies and returns the scope for the rest of the statement. */
    private static Set<String> walkWith(JsonNode with, Set<String> outer, Facts f) {
        boolean recursive = with.path("recursive").asBoolean();
        Set<String> visible = new HashSet<>(outer);
        if (recursive) {
            for (JsonNode cte : with.path("ctes")) visible.add(cte.path("CommonTableExpr").path("ctename").asText());
        }
        for (JsonNode cte : with.path("ctes")) {
            JsonNode c = cte.path("CommonTableExpr");
            walk(c, "CommonTableExpr", Set.copyOf(visible), f);
            visible.add(c.path("ctename").asText()); // a later CTE may read an earlier one
        }
        return Set.copyOf(visible);
    }

    private static void call(JsonNode funcCall, Facts f) {
        List<String> names = strings(funcCall.path("funcname"));
        f.functions.add(String.join(".", names));
        switch (BuiltinFunctions.classify(names)) {
            case SAFE -> { }
            case WRITES -> {
                f.effects.add(Effect.WRITES);
                if (names.getLast().equals("set_config")) {
                    JsonNode args = funcCall.path("args");
                    if (!harmlessSetting(args)) f.effects.add(Effect.CHANGES_PRIVILEGES);
                    if (setConfigChangesSqlReading(args)) f.effects.add(Effect.CHANGES_SQL_READING);
                }
            }
            case SERVER_FILES -> {
                f.effects.add(Effect.COPY_FILE_OR_PROGRAM);
                f.effects.add(Effect.WRITES);
            }
            case RUNS_CODE -> {
                f.effects.add(Effect.RUNS_CODE);
                f.effects.add(Effect.WRITES);
            }
            case UNKNOWN -> f.effects.add(Effect.CALLS_UNKNOWN_FUNCTIONS);
        }
    }

    /**
     * SET of a setting that decides how the server reads SQL text, to a value other than the one the
     * gateway reads it with. RESET and SET ... TO DEFAULT go back to the session's start (UTF-8, which
     * the gateway asks for, and the server's own standard_conforming_strings, checked at login).
     */
    private static boolean changesSqlReading(JsonNode set) {
        if (!set.path("kind").asText().equals("VAR_SET_VALUE")) return false;
        String name = settingName(set.path("name").asText());
        if (!SQL_READING_SETTINGS.contains(name)) return false;
        JsonNode args = set.path("args");
        if (args.size() != 1) return true;
        JsonNode value = args.get(0);
        String text = value.path("A_Const").has("ival") ? String.valueOf(value.path("A_Const").path("ival").path("ival").asInt(0))
                : stringLiteral(value);
        return !readsAsTheGatewayDoes(name, text);
    }

    /**
     * set_config(name, value, ...) that may change how SQL text is read: a name that is not a literal
     * (it could be any setting), or one of those settings with a value that is not a literal the gateway
     * reads with.
     */
    private static boolean setConfigChangesSqlReading(JsonNode args) {
        String name = stringLiteral(args.path(0));
        if (name == null) return true;
        String setting = settingName(name);
        return SQL_READING_SETTINGS.contains(setting) && !readsAsTheGatewayDoes(setting, stringLiteral(args.path(1)));
    }

    /** Whether {@code value} of a setting that decides how SQL text is read is the one the gateway reads with. */
    static boolean readsAsTheGatewayDoes(String setting, String value) {
        if (value == null) return false;
        String v = value.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (setting) {
            case "client_encoding" -> v.equals("utf8") || v.equals("utf-8") || v.equals("unicode");
            case "standard_conforming_strings" -> v.equals("on") || v.equals("true") || v.equals("yes") || v.equals("1");
            default -> true;
        };
    }

    /** set_config(name, ...) with a literal name that is not a guarded setting. */
    private static boolean harmlessSetting(JsonNode args) {
        String name = stringLiteral(args.path(0));
        return name != null && !GUARDED_SETTINGS.contains(settingName(name));
    }

    /** The value of a string constant ({@code 'role'}); null for any other expression. */
    private static String stringLiteral(JsonNode expr) {
        JsonNode value = expr.path("A_Const").path("sval").path("sval");
        return value.isTextual() ? value.asText() : null;
    }

    private static void operator(JsonNode expr, Facts f) {
        String exprKind = expr.path("kind").asText();
        if (!(exprKind.equals("AEXPR_OP") || exprKind.equals("AEXPR_OP_ANY") || exprKind.equals("AEXPR_OP_ALL"))) return;
        List<String> names = strings(expr.path("name"));
        if (!BuiltinFunctions.isBuiltinOperator(names)) {
            f.functions.add("OPERATOR(" + String.join(".", names) + ")");
            f.effects.add(Effect.CALLS_UNKNOWN_FUNCTIONS);
        }
    }

    private static boolean explainAnalyze(JsonNode options) {
        for (JsonNode option : options) {
            JsonNode d = option.path("DefElem");
            if (!d.path("defname").asText().equals("analyze")) continue;
            JsonNode arg = d.path("arg");
            if (arg.isMissingNode()) return true;
            if (arg.has("Boolean")) {
                if (arg.path("Boolean").path("boolval").asBoolean()) return true;
            } else if (arg.has("Integer")) {
                if (arg.path("Integer").path("ival").asInt() != 0) return true;
            } else if (!Set.of("false", "off", "no", "0").contains(arg.path("String").path("sval").asText())) {
                return true; // anything but an explicit "false" counts: fail closed
            }
        }
        return false;
    }

    private static String summary(String type, JsonNode body, Source source, String text) {
        String shown = text;
        if (type.equals("CreateRoleStmt") || type.equals("AlterRoleStmt")) {
            for (JsonNode option : body.path("options")) {
                JsonNode d = option.path("DefElem");
                if (d.path("defname").asText().equals("password")) {
                    shown = source.textBefore(d.path("location").asInt()) + " PASSWORD ***";
                }
            }
        }
        return summary(shown);
    }

    /** A statement's text on one line, at most {@link SqlStatement#SUMMARY_CHARS} characters. */
    static String summary(String text) {
        String oneLine = oneLine(text);
        return oneLine.length() <= SqlStatement.SUMMARY_CHARS ? oneLine
                : oneLine.substring(0, SqlStatement.SUMMARY_CHARS - 1) + "…";
    }

    /** Each run of whitespace as one space: {@code replaceAll("\\s+", " ")} without a regex per statement. */
    static String oneLine(String text) {
        int n = text.length();
        StringBuilder out = new StringBuilder(n);
        boolean inRun = false;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r') { // exactly regex \s
                if (!inRun) out.append(' ');
                inRun = true;
            } else {
                out.append(c);
                inRun = false;
            }
        }
        return out.toString();
    }

    private static String relationName(JsonNode rangeVar) {
        StringBuilder name = new StringBuilder();
        if (rangeVar.hasNonNull("catalogname")) name.append(rangeVar.get("catalogname").asText()).append('.');
        if (rangeVar.hasNonNull("schemaname")) name.append(rangeVar.get("schemaname").asText()).append('.');
        return name.append(rangeVar.get("relname").asText()).toString();
    }

    private static String dotted(JsonNode stringNodes) {
        return String.join(".", strings(stringNodes));
    }

    private static List<String> strings(JsonNode stringNodes) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : stringNodes) out.add(n.path("String").path("sval").asText());
        return out;
    }
}
