package dev.portcullis.sql;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.Json;
import dev.portcullis.core.SqlStatement;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses SQL with PostgreSQL's own grammar (libpg_query) and analyses each statement for policy.
 * Escapes, quoting, dollar quotes and comments are resolved exactly as the server would, so what the
 * gateway judges is what the server runs.
 *
 * <p>Thread-safe. Results are cached by exact text ({@value #CACHE_ENTRIES} entries), so a repeated or
 * prepared statement is parsed once; a cache hit returns the same list and statement instances.
 */
public final class SqlParser {

    static final int CACHE_ENTRIES = 10_000;
    private static final long CACHE_CHARS = 16L * 1024 * 1024;
    private static final ParseCache<List<SqlStatement>> CACHE = new ParseCache<>(CACHE_ENTRIES, CACHE_CHARS);
    /** Analyses by {@link StatementShape}: one statement whose constants cannot change it, and where it lies in its text. */
    private static final ParseCache<Template> SHAPES = new ParseCache<>(CACHE_ENTRIES, CACHE_CHARS);
    private static final java.util.Set<String> SHAPED_STATEMENTS = java.util.Set.of("SelectStmt", "InsertStmt", "UpdateStmt",
            "DeleteStmt");
    private static final ObjectMapper JSON = Json.mapper();

    private SqlParser() {}

    /**
     * Fails fast at start-up when the native parser is missing.
     *
     * @throws IllegalStateException "libpg_query not found: install Debian's libpg-query-dev"
     */
    public static void requireAvailable() {
        PgQuery.instance();
    }

    /**
     * One statement per statement of {@code sql}, in order; empty for a text with no statement
     * (only blanks, comments or semicolons).
     *
     * @throws SqlParseException     when the server's grammar refuses the text; refuse the query
     * @throws IllegalStateException when libpg_query is not installed
     */
    public static List<SqlStatement> parse(String sql) throws SqlParseException {
        List<SqlStatement> cached = CACHE.get(sql);
        if (cached != null) return cached;
        StatementShape shape = StatementShape.of(sql, PgQuery.INLINE_MAX_BYTES);
        if (shape != null) {
            Template template = SHAPES.get(shape.key);
            if (template != null) return List.of(template.instantiate(shape));
        }
        Parsed parsed = parseTree(sql);
        List<SqlStatement> statements = analyze(parsed);
        if (shape != null) {
            Template template = Template.of(shape, parsed, statements);
            if (template != null) {
                SHAPES.put(shape.key, template);
                LINEAGE_KEY.set(new String[] {statements.getFirst().text(), shape.key});
                return statements; // its shape stands for it: kept once, not once per constant
            }
        }
        return CACHE.put(sql, statements);
    }

    /**
     * The analysis of a text's one statement, standing for every text of its shape, and where the
     * statement lies in the text it came from (byte offsets).
     */
    private record Template(StatementShape shape, SqlStatement statement, int start, int end) {

        /** A template when the text is one DML statement whose constants cannot change its analysis; else null. */
        static Template of(StatementShape shape, Parsed parsed, List<SqlStatement> statements) {
            JsonNode stmts = parsed.tree.path("stmts");
            if (statements.size() != 1 || stmts.size() != 1) return null;
            JsonNode raw = stmts.get(0);
            JsonNode stmt = raw.path("stmt");
            if (stmt.size() != 1 || !SHAPED_STATEMENTS.contains(stmt.properties().iterator().next().getKey())) return null;
            if (!shape.inert(stmt)) return null;
            StatementAnalyzer.Source source = parsed.source(raw);
            return new Template(shape, statements.getFirst(), source.start(), source.end());
        }

        /** This analysis with the text of {@code other}, a text of the same shape. */
        SqlStatement instantiate(StatementShape other) {
            String text = new StatementAnalyzer.Source(other.utf8, other.mapFrom(shape, start), other.mapFrom(shape, end)).text();
            SqlStatement s = statement;
            LINEAGE_KEY.set(new String[] {text, shape.key});
            return new SqlStatement(text, s.kind(), s.nestedKinds(), s.tables(), s.functions(), s.hasWhere(), s.effects(),
                    s.explainAnalyze(), s.preparedName(), s.preparedQuery(), List.of(), StatementAnalyzer.summary(text));
        }
    }

    /**
     * Whether a server whose {@code setting} (as a ParameterStatus names it) has {@code value} reads SQL
     * text as this parser does: {@code client_encoding} UTF-8 and {@code standard_conforming_strings} on.
     * True for any other setting.
     */
    public static boolean readsSqlAsTheParser(String setting, String value) {
        String name = StatementAnalyzer.settingName(setting);
        return !StatementAnalyzer.SQL_READING_SETTINGS.contains(name) || StatementAnalyzer.readsAsTheGatewayDoes(name, value);
    }

    /** The settings {@link #readsSqlAsTheParser} is about. */
    public static java.util.Set<String> sqlReadingSettings() {
        return StatementAnalyzer.SQL_READING_SETTINGS;
    }

    /** The analysis of {@code sql} without either cache: what a cached answer must equal. */
    static List<SqlStatement> parseUncached(String sql) throws SqlParseException {
        return analyze(parseTree(sql));
    }

    /** Whether {@code sql} would be answered by the analysis of an earlier text of its shape. */
    static boolean analysedByShape(String sql) {
        StatementShape shape = StatementShape.of(sql, PgQuery.INLINE_MAX_BYTES);
        return shape != null && SHAPES.get(shape.key) != null;
    }

    /** The last statement text this thread analysed by its shape, and the shape's key. */
    private static final ThreadLocal<String[]> LINEAGE_KEY = new ThreadLocal<>();

    /**
     * What a statement's lineage may be cached by: the shape of its text when this thread just
     * analysed it by its shape (texts of one shape have one lineage: no constant taken out of it can
     * change a result column's sources or how a column is used), else the text itself.
     */
    public static String lineageKey(String statementText) {
        String[] last = LINEAGE_KEY.get();
        return last != null && last[0].equals(statementText) ? last[1] : statementText;
    }

    /** What a {@code COPY table [(columns)] TO} copies; empty for {@code COPY (query) TO} or any other statement. */
    public record CopyTarget(String table, List<String> columns) {
    }

    /** The table and explicit column list of a COPY statement, read from its parse tree. */
    public static java.util.Optional<CopyTarget> copyTarget(String copyStatement) throws SqlParseException {
        JsonNode copy = tree(copyStatement).path("stmts").path(0).path("stmt").path("CopyStmt");
        JsonNode relation = copy.path("relation");
        if (copy.isMissingNode() || relation.isMissingNode()) return java.util.Optional.empty();
        String table = (relation.hasNonNull("schemaname") ? relation.get("schemaname").asText() + "." : "")
                + relation.path("relname").asText();
        List<String> columns = new ArrayList<>();
        for (JsonNode c : copy.path("attlist")) {
            JsonNode str = c.path("String");
            columns.add(str.has("sval") ? str.get("sval").asText() : str.path("str").asText());
        }
        return java.util.Optional.of(new CopyTarget(table, List.copyOf(columns)));
    }

    /**
     * The query of a {@code COPY (query) TO ...}, as written; empty for any other statement, or when the
     * parenthesis cannot be matched. Strings, quoted names, dollar quotes and comments are skipped the way
     * the server's lexer skips them, and the result must parse as one statement.
     */
    public static java.util.Optional<String> copyQuery(String copyStatement) {
        String t = copyStatement;
        int i = skipBlanks(t, 0);
        if (!t.regionMatches(true, i, "copy", 0, 4)) return java.util.Optional.empty();
        i = skipBlanks(t, i + 4);
        if (i >= t.length() || t.charAt(i) != '(') return java.util.Optional.empty();
        int start = i + 1, depth = 0;
        for (; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '(') depth++;
            else if (c == ')' && --depth == 0) break;
            else if (c == '\'' || c == '"') i = t.indexOf(c, i + 1) < 0 ? t.length() : closing(t, i, c);
            else if (c == '-' && t.startsWith("--", i)) i = t.indexOf('\n', i) < 0 ? t.length() : t.indexOf('\n', i);
            else if (c == '/' && t.startsWith("/*", i)) i = endOfComment(t, i);
            else if (c == '$') {
                java.util.regex.Matcher tag = DOLLAR_TAG.matcher(t).region(i, t.length());
                if (tag.lookingAt() && (i == 0 || !Character.isLetterOrDigit(t.charAt(i - 1)) && t.charAt(i - 1) != '_')) {
                    int end = t.indexOf(tag.group(), i + tag.group().length());
                    i = end < 0 ? t.length() : end + tag.group().length() - 1;
                }
            }
        }
        if (i >= t.length()) return java.util.Optional.empty();
        String query = t.substring(start, i);
        try {
            return parse(query).size() == 1 ? java.util.Optional.of(query) : java.util.Optional.empty();
        } catch (SqlParseException | IllegalStateException e) {
            return java.util.Optional.empty();
        }
    }

    private static final java.util.regex.Pattern DOLLAR_TAG = java.util.regex.Pattern.compile("\\$([A-Za-z_][A-Za-z_0-9]*)?\\$");

    /** The index of the quote that closes the one at {@code from} ('' and "" are escaped quotes; E'' strings too). */
    private static int closing(String t, int from, char quote) {
        boolean backslashes = quote == '\'' && from > 0 && (t.charAt(from - 1) == 'E' || t.charAt(from - 1) == 'e');
        for (int i = from + 1; i < t.length(); i++) {
            char c = t.charAt(i);
            if (backslashes && c == '\\') {
                i++;
            } else if (c == quote) {
                if (i + 1 < t.length() && t.charAt(i + 1) == quote) i++;
                else return i;
            }
        }
        return t.length();
    }

    /** Block comments nest in PostgreSQL. */
    private static int endOfComment(String t, int from) {
        int depth = 0;
        for (int i = from; i + 1 < t.length(); i++) {
            if (t.startsWith("/*", i)) {
                depth++;
                i++;
            } else if (t.startsWith("*/", i)) {
                if (--depth == 0) return i + 1;
                i++;
            }
        }
        return t.length();
    }

    private static int skipBlanks(String t, int i) {
        while (i < t.length()) {
            if (Character.isWhitespace(t.charAt(i))) i++;
            else if (t.startsWith("--", i)) i = t.indexOf('\n', i) < 0 ? t.length() : t.indexOf('\n', i) + 1;
            else if (t.startsWith("/*", i)) i = endOfComment(t, i) + 1;
            else break;
        }
        return i;
    }

    /** A text as UTF-8 and its parse tree. */
    private record Parsed(byte[] utf8, JsonNode tree) {
        /** Where a statement of the tree ({@code stmts[i]}) lies in the text. */
        StatementAnalyzer.Source source(JsonNode raw) {
            int start = raw.path("stmt_location").asInt(0);
            int length = raw.path("stmt_len").asInt(0);
            return new StatementAnalyzer.Source(utf8, start, length == 0 ? utf8.length : start + length);
        }
    }

    /** The last text this thread parsed, with its tree, so the lineage of its statements needs no second parse. */
    private static final ThreadLocal<Parsed> LAST_PARSED = new ThreadLocal<>();

    /**
     * The parse tree ({@code {"SelectStmt": ...}}) of a statement of the text this thread parsed last, when
     * {@code statementText} is one of its statements ({@link SqlStatement#text()}); null otherwise.
     */
    static JsonNode lastParsedTree(String statementText) {
        Parsed last = LAST_PARSED.get();
        if (last == null) return null;
        for (JsonNode raw : last.tree.path("stmts")) {
            StatementAnalyzer.Source source = last.source(raw);
            if (source.end() - source.start() < statementText.length()) continue; // UTF-8 is never shorter than the text
            if (source.text().equals(statementText)) return raw.get("stmt");
        }
        return null;
    }

    /** The parse tree of {@code sql} ({@code {"stmts": [...]}}), by libpg_query. */
    static JsonNode tree(String sql) throws SqlParseException {
        try {
            return JSON.readTree(PgQuery.instance().parseToJson(sql));
        } catch (JacksonException e) {
            // e.g. nesting deeper than Jackson allows: too complex to judge, so refused
            throw new SqlParseException("the statement is too complex to analyse: " + e.getOriginalMessage(), 0);
        }
    }

    /** {@code sql} parsed, and kept as this thread's last parsed text ({@link #lastParsedTree}). */
    private static Parsed parseTree(String sql) throws SqlParseException {
        Parsed parsed = new Parsed(sql.getBytes(StandardCharsets.UTF_8), tree(sql));
        LAST_PARSED.set(parsed);
        return parsed;
    }

    private static List<SqlStatement> analyze(Parsed parsed) {
        List<SqlStatement> out = new ArrayList<>();
        for (JsonNode raw : parsed.tree.path("stmts")) out.add(StatementAnalyzer.analyze(raw.get("stmt"), parsed.source(raw)));
        return List.copyOf(out);
    }
}
