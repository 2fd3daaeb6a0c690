package dev.portcullis.core;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One SQL statement as policy sees it, analysed from PostgreSQL's own parse tree (see
 * {@code dev.portcullis.sql.SqlParser}). A query string with several statements becomes several of these,
 * each judged on its own.
 *
 * <p><b>Read-only</b>, exactly: {@link #effects()} is empty and {@link #kind()} is one of {@code select},
 * {@code copy-to}, {@code explain}, {@code show}, {@code set}, {@code transaction}, {@code prepare},
 * {@code deallocate}. That is close to what PostgreSQL itself runs in a {@code READ ONLY} transaction,
 * minus anything whose effect the gateway cannot see (an unknown function, a setting that changes who the
 * session is). An unresolved {@code EXECUTE} and {@link Kind#OTHER} are never read-only.
 *
 * @param text           the statement's own text, as sent (without the separating semicolon)
 * @param kind           what sort of statement it is
 * @param nestedKinds    kinds of the data-modifying statements that run inside this one: a DELETE in a
 *                       CTE, the statement under EXPLAIN ANALYZE or PREPARE; so a rule on kinds sees
 *                       {@code WITH d AS (DELETE ...) INSERT ...} as an insert <em>and</em> a delete
 * @param tables         tables (and views) it names, as the server resolves the names: unquoted names
 *                       folded to lower case, {@code schema.table} when written qualified; CTE names excluded
 * @param functions      functions it calls, {@code schema.name} when written qualified; unknown operators
 *                       appear as {@code OPERATOR(op)}
 * @param hasWhere       there is an UPDATE or DELETE, and each one (top level, CTEs, under EXPLAIN ANALYZE
 *                       or PREPARE) has a WHERE clause; {@code WHERE true} counts, as would any WHERE
 * @param effects        what running it may do beyond reading; empty for a plain query
 * @param explainAnalyze an {@code EXPLAIN ANALYZE}, which runs the explained statement
 * @param preparedName   for PREPARE, EXECUTE and DEALLOCATE: the prepared statement's name (empty for
 *                       {@code DEALLOCATE ALL})
 * @param preparedQuery  for PREPARE: the prepared query, analysed as if it ran; see {@link #executing}
 * @param bindParameters the extended protocol's bind parameters, in text form; empty for a simple query
 * @param summary        the text on one line, at most {@value #SUMMARY_CHARS} characters, passwords elided
 */
public record SqlStatement(String text, Kind kind, Set<Kind> nestedKinds, List<String> tables, List<String> functions, boolean hasWhere,
                           Set<Effect> effects, boolean explainAnalyze, Optional<String> preparedName,
                           Optional<SqlStatement> preparedQuery, List<String> bindParameters, String summary)
        implements Operation {

    public static final int SUMMARY_CHARS = 200;

    public SqlStatement {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(kind, "kind");
        nestedKinds = nestedKinds.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(nestedKinds));
        tables = List.copyOf(tables);
        functions = List.copyOf(functions);
        effects = effects.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(effects));
        Objects.requireNonNull(preparedName, "preparedName");
        Objects.requireNonNull(preparedQuery, "preparedQuery");
        bindParameters = List.copyOf(bindParameters);
        Objects.requireNonNull(summary, "summary");
    }

    /** What sort of statement; {@link #configName()} is how policy files name it. */
    public enum Kind {
        SELECT, INSERT, UPDATE, DELETE, MERGE, COPY_TO, COPY_FROM, CREATE, ALTER, DROP, TRUNCATE, GRANT, REVOKE,
        /** CREATE, ALTER or DROP of a role or user. */
        ROLE,
        DO,
        /** CREATE FUNCTION and CREATE PROCEDURE. */
        CREATE_FUNCTION,
        CALL, EXPLAIN, PREPARE, EXECUTE, DEALLOCATE,
        /** BEGIN, COMMIT, ROLLBACK, SAVEPOINT...; two-phase commit statements are {@link #OTHER}. */
        TRANSACTION,
        /** SET and RESET. */
        SET, SHOW,
        /** LISTEN and UNLISTEN. */
        LISTEN, NOTIFY,
        /** VACUUM, ANALYZE, REINDEX, CLUSTER, CHECKPOINT, REFRESH MATERIALIZED VIEW. */
        MAINTENANCE,
        LOCK,
        /** Anything else (DECLARE, FETCH, DISCARD, two-phase commit...); never read-only. */
        OTHER;

        private static final Set<Kind> READ_ONLY = EnumSet.of(SELECT, COPY_TO, EXPLAIN, SHOW, SET, TRANSACTION,
                PREPARE, DEALLOCATE);

        /** {@code select}, {@code copy-to}, {@code create-function}, ... */
        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** @throws IllegalArgumentException when {@code name} is not a config name */
        public static Kind fromConfigName(String name) {
            for (Kind k : values()) {
                if (k.configName().equals(name)) return k;
            }
            throw new IllegalArgumentException("unknown statement kind '" + name + "'");
        }
    }

    /** What running a statement may do beyond reading. Any one of them makes it not read-only. */
    public enum Effect {
        /** Modifies data anywhere: DML (also in a CTE), SELECT INTO, CREATE TABLE AS, COPY FROM, TRUNCATE,
         *  EXPLAIN ANALYZE of a write, a known side-effecting function (nextval, set_config, lo_import...). */
        WRITES,
        /** Creates, alters or drops an object (also SELECT INTO / CREATE TABLE AS). */
        CHANGES_SCHEMA,
        /** GRANT, REVOKE, role statements, ALTER DEFAULT PRIVILEGES, ownership changes, and settings that
         *  change who the session acts as or what names resolve to (role, session_authorization,
         *  search_path, transaction_read_only...). */
        CHANGES_PRIVILEGES,
        /** DO, CREATE FUNCTION/PROCEDURE, CALL, triggers, extensions, LOAD, functions that run SQL text. */
        RUNS_CODE,
        /** COPY to or from a server file or a PROGRAM (STDIN/STDOUT are fine); lo_import, lo_export and
         *  other built-ins that move data between the database and server files. */
        COPY_FILE_OR_PROGRAM,
        /** Calls a function or operator not on the list of side-effect-free built-ins. */
        CALLS_UNKNOWN_FUNCTIONS,
        /** Takes explicit locks: SELECT ... FOR UPDATE/SHARE, LOCK TABLE. PostgreSQL refuses both in a
         *  read-only transaction, and a held lock can stall every writer. */
        LOCKS,
        /** Changes how the server reads the SQL text that follows: {@code client_encoding} (also {@code SET NAMES})
         *  to anything but UTF-8, or {@code standard_conforming_strings} to off. The gateway reads every
         *  statement as UTF-8 with standard conforming strings, as each session starts; a server reading
         *  them otherwise (a multi-byte encoding that swallows a backslash, a backslash that escapes a quote)
         *  would run text the gateway judged as something else. Refused whatever the policy says. */
        CHANGES_SQL_READING;

        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    @Override
    public String protocol() {
        return "sql";
    }

    @Override
    public boolean mayChangeTarget() {
        return !readOnly();
    }

    public boolean readOnly() {
        return effects.isEmpty() && Kind.READ_ONLY.contains(kind);
    }

    public boolean writes() {
        return effects.contains(Effect.WRITES);
    }

    public boolean changesSchema() {
        return effects.contains(Effect.CHANGES_SCHEMA);
    }

    public boolean changesPrivileges() {
        return effects.contains(Effect.CHANGES_PRIVILEGES);
    }

    public boolean runsCode() {
        return effects.contains(Effect.RUNS_CODE);
    }

    public boolean copyFileOrProgram() {
        return effects.contains(Effect.COPY_FILE_OR_PROGRAM);
    }

    public boolean callsUnknownFunctions() {
        return effects.contains(Effect.CALLS_UNKNOWN_FUNCTIONS);
    }

    public boolean locks() {
        return effects.contains(Effect.LOCKS);
    }

    /** Its own kind and {@link #nestedKinds()}. */
    public Set<Kind> allKinds() {
        Set<Kind> all = EnumSet.of(kind);
        all.addAll(nestedKinds);
        return all;
    }

    /** The text, the number of bind parameters, and each of them. */
    @Override
    public List<String> identity() {
        List<String> fields = new ArrayList<>(bindParameters.size() + 2);
        fields.add(text);
        fields.add(Integer.toString(bindParameters.size()));
        fields.addAll(bindParameters);
        return fields;
    }

    /** SQL the parser refused: recorded as such, never forwarded. */
    public static SqlStatement unparseable(String text) {
        String oneLine = text.replaceAll("\\s+", " ").strip();
        String summary = oneLine.length() > SUMMARY_CHARS ? oneLine.substring(0, SUMMARY_CHARS) + "…" : oneLine;
        return new SqlStatement(text, Kind.OTHER, Set.of(), List.of(), List.of(), false, Set.of(), false, Optional.empty(),
                Optional.empty(), List.of(), summary);
    }

    /** This statement with another text (a redacted one, to record): the analysis and summary are kept. */
    public SqlStatement withText(String otherText) {
        return new SqlStatement(otherText, kind, nestedKinds, tables, functions, hasWhere, effects, explainAnalyze, preparedName,
                preparedQuery, bindParameters, summary);
    }

    /** This statement with the extended protocol's bind parameters (text form). */
    public SqlStatement withParameters(List<String> parameters) {
        return new SqlStatement(text, kind, nestedKinds, tables, functions, hasWhere, effects, explainAnalyze, preparedName,
                preparedQuery, parameters, summary);
    }

    /**
     * An {@code EXECUTE name(...)} judged as what it runs. The adapter records each PREPARE of a session
     * by {@link #preparedName()} and, for an EXECUTE of that name, judges {@code execute.executing(prepare)}:
     * the prepared query's kind, tables and effects, plus whatever the EXECUTE's own arguments call, with
     * this statement's text. An EXECUTE the session never prepared stays unresolved (never read-only).
     *
     * @throws IllegalArgumentException when this is not an EXECUTE or {@code prepare} is not the PREPARE
     *                                  of the same name
     */
    public SqlStatement executing(SqlStatement prepare) {
        if (kind != Kind.EXECUTE) throw new IllegalArgumentException("not an EXECUTE: " + summary);
        if (prepare.kind != Kind.PREPARE || prepare.preparedQuery.isEmpty() || !prepare.preparedName.equals(preparedName)) {
            throw new IllegalArgumentException("not the PREPARE of " + preparedName.orElse("?") + ": " + prepare.summary);
        }
        SqlStatement q = prepare.preparedQuery.get();
        Set<Effect> merged = EnumSet.noneOf(Effect.class);
        merged.addAll(q.effects);
        merged.addAll(effects);
        Set<String> calls = new LinkedHashSet<>(q.functions);
        calls.addAll(functions);
        Set<Kind> nested = EnumSet.noneOf(Kind.class);
        nested.addAll(q.nestedKinds);
        nested.addAll(nestedKinds);
        return new SqlStatement(text, q.kind, nested, q.tables, new ArrayList<>(calls), q.hasWhere, merged, q.explainAnalyze,
                preparedName, Optional.empty(), bindParameters, summary);
    }
}
