package dev.portcullis.sql;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
    private static final ParseCache CACHE = new ParseCache(CACHE_ENTRIES, CACHE_CHARS);
    private static final ObjectMapper JSON = new ObjectMapper();

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
        return CACHE.put(sql, analyze(sql, PgQuery.instance().parseToJson(sql)));
    }

    /** What a {@code COPY table [(columns)] TO} copies; empty for {@code COPY (query) TO} or any other statement. */
    public record CopyTarget(String table, List<String> columns) {
    }

    /** The table and explicit column list of a COPY statement, read from its parse tree. */
    public static java.util.Optional<CopyTarget> copyTarget(String copyStatement) throws SqlParseException {
        JsonNode tree;
        try {
            tree = JSON.readTree(PgQuery.instance().parseToJson(copyStatement));
        } catch (JacksonException e) {
            throw new SqlParseException("the statement is too complex to analyse: " + e.getOriginalMessage(), 0);
        }
        JsonNode copy = tree.path("stmts").path(0).path("stmt").path("CopyStmt");
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

    private static List<SqlStatement> analyze(String sql, String json) throws SqlParseException {
        JsonNode tree;
        try {
            tree = JSON.readTree(json);
        } catch (JacksonException e) {
            // e.g. nesting deeper than Jackson allows: too complex to judge, so refused
            throw new SqlParseException("the statement is too complex to analyse: " + e.getOriginalMessage(), 0);
        }
        byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
        List<SqlStatement> out = new ArrayList<>();
        for (JsonNode raw : tree.path("stmts")) {
            int start = raw.path("stmt_location").asInt(0);
            int length = raw.path("stmt_len").asInt(0);
            int end = length == 0 ? utf8.length : start + length;
            out.add(StatementAnalyzer.analyze(raw.get("stmt"), new StatementAnalyzer.Source(utf8, start, end)));
        }
        return List.copyOf(out);
    }
}
