package dev.portcullis.postgres;

import dev.portcullis.core.SqlStatement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What one session has prepared, and so what a later message means: statements from Parse, portals
 * from Bind (with their parameters, rendered for the recording), SQL-level PREPAREs (so that EXECUTE is
 * judged by what it runs), and a generation number per Parse and Bind, so that what the server
 * describes is tied to that very statement or portal, not to a name that is reused (the unnamed ones
 * are, constantly). The client thread's alone.
 */
final class SessionStatements {

    /** A bound portal: its generation, its statement's, and the result formats the client asked for. */
    record Bound(long portalGeneration, long statementGeneration, List<Integer> resultFormats) {
        static final Bound UNKNOWN = new Bound(-1, -1, List.of());
    }

    /** Statements prepared with Parse, by name ("" is the unnamed one). */
    private final Map<String, SqlStatement> prepared = new HashMap<>();
    /** Portals bound with Bind: statement and its text parameters. */
    private final Map<String, SqlStatement> portals = new HashMap<>();
    private long generation;
    private final Map<String, Long> statementGeneration = new HashMap<>();
    private final Map<String, Bound> bound = new HashMap<>();
    /** Parameter type OIDs of each statement from Parse, to render binary bind parameters in recordings. */
    private final Map<String, List<Integer>> parameterTypes = new HashMap<>();
    /** SQL-level PREPAREd statements, so EXECUTE is judged by what it runs. */
    private final Map<String, SqlStatement> sqlPrepared = new HashMap<>();

    /** A Parse that was let through: its one statement is remembered (several: the server refuses the Parse). */
    void parsed(FrontendMessage.Parse parse, List<SqlStatement> statements) {
        statementGeneration.put(parse.statement(), ++generation);
        parameterTypes.put(parse.statement(), parse.paramTypeOids());
        if (statements.size() == 1) prepared.put(parse.statement(), resolveExecute(statements.getFirst()));
        else prepared.remove(parse.statement());
    }

    void bound(FrontendMessage.Bind bind) {
        SqlStatement statement = prepared.get(bind.statement());
        if (statement != null) {
            portals.put(bind.portal(), statement.withParameters(
                    BindParameters.render(bind, parameterTypes.getOrDefault(bind.statement(), List.of()))));
        }
        bound.put(bind.portal(), new Bound(++generation, statementGeneration.getOrDefault(bind.statement(), -1L),
                bind.resultFormats()));
    }

    /** The statement a portal runs, with its parameters; null when this session bound no such portal. */
    SqlStatement portal(String name) {
        return portals.get(name);
    }

    /** What is known of a bound portal; {@link Bound#UNKNOWN} when nothing is. */
    Bound boundPortal(String name) {
        return bound.getOrDefault(name, Bound.UNKNOWN);
    }

    /** What a Describe will describe: the statement's or the portal's generation. */
    ResponseUnit.PendingDescribe describe(FrontendMessage.Describe d) {
        if (d.target() == FrontendMessage.Target.STATEMENT) {
            return new ResponseUnit.PendingDescribe(d.target(), statementGeneration.getOrDefault(d.name(), -1L), -1L);
        }
        Bound b = boundPortal(d.name());
        return new ResponseUnit.PendingDescribe(d.target(), b.portalGeneration(), b.statementGeneration());
    }

    void closed(FrontendMessage.Close close) {
        if (close.target() == FrontendMessage.Target.STATEMENT) prepared.remove(close.name());
        else portals.remove(close.name());
    }

    /** EXECUTE name is judged by the statement it runs, when this session PREPAREd it. */
    SqlStatement resolveExecute(SqlStatement statement) {
        if (statement.kind() == SqlStatement.Kind.EXECUTE && statement.preparedName().isPresent()) {
            SqlStatement prepare = sqlPrepared.get(statement.preparedName().get());
            if (prepare != null) return statement.executing(prepare);
        }
        return statement;
    }

    /** The text whose lineage a mask rule checks: a statement naming a PREPAREd one is checked as the query it runs. */
    String lineageText(SqlStatement statement) {
        if (statement.preparedName().isPresent() && statement.preparedQuery().isEmpty()) {
            SqlStatement prepare = sqlPrepared.get(statement.preparedName().get());
            if (prepare != null && statement.kind() != SqlStatement.Kind.EXECUTE
                    && statement.kind() != SqlStatement.Kind.DEALLOCATE) {
                return prepare.text();
            }
        }
        return statement.text();
    }

    /** SQL-level PREPARE and DEALLOCATE that reached the server. */
    void remember(List<SqlStatement> statements) {
        for (SqlStatement s : statements) {
            if (s.kind() == SqlStatement.Kind.PREPARE && s.preparedName().isPresent() && s.preparedQuery().isPresent()) {
                sqlPrepared.put(s.preparedName().get(), s);
            } else if (s.kind() == SqlStatement.Kind.DEALLOCATE && s.preparedName().isPresent()) {
                sqlPrepared.remove(s.preparedName().get());
            }
        }
    }
}
