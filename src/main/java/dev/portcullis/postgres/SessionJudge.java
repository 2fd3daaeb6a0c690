package dev.portcullis.postgres;

import dev.portcullis.core.Identity;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.policy.Decision;
import dev.portcullis.recording.ConnectionSession;
import dev.portcullis.sql.SqlParseException;
import dev.portcullis.sql.SqlParser;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A logged-in session's statements before the gate: judged (and recorded) under the session's
 * identity and recording, decided without recording when only prepared, refusals and unparseable
 * text recorded. What is recorded of a statement, and what approvers read, is its text and parameters
 * as sent, minus secrets ({@link #excerpt}).
 */
final class SessionJudge {
    private static final Logger log = LoggerFactory.getLogger(SessionJudge.class);

    private final Gate gate;
    private final ConnectionSession recording;
    private final PostgresConnectionConfig config;
    private final Identity identity;

    SessionJudge(Gate gate, ConnectionSession recording, PostgresConnectionConfig config, Identity identity) {
        this.gate = gate;
        this.recording = recording;
        this.config = config;
        this.identity = identity;
    }

    /** Judged by policy, and recorded before anything of it is forwarded when it may change the target. */
    Gate.Judged judge(SqlStatement statement) throws GateUnavailableException {
        return gate.judge(recording, config.name(), identity, statement, config.policy(), excerpt(statement));
    }

    /** Decided without recording: a statement being prepared, judged and recorded when it is executed. */
    Decision decide(SqlStatement statement) {
        return gate.decide(config.name(), identity, statement, config.policy());
    }

    /** A statement refused while being prepared (a mask rule's lineage check): recorded as that refusal. */
    void recordRefusal(SqlStatement statement, MaskCheck masking) {
        try {
            masking.completeRefused(judge(statement));
        } catch (GateUnavailableException e) {
            log.error("could not record a refusal on {}: {}", config.name(), e.getMessage());
        }
    }

    /** A text's statements, or the refusal that answers it instead (already recorded). */
    record Statements(List<SqlStatement> list, BackendMessage.ErrorResponse refusal) {
    }

    /**
     * The statements of {@code sql}, or a refusal, recorded: for text the parser refuses (fail closed), and
     * for a statement that would change how the server reads SQL ({@link SqlStatement.Effect#CHANGES_SQL_READING}),
     * whatever the policy says: what the gateway judged must be what the server runs.
     */
    Statements parse(String sql) {
        List<SqlStatement> statements;
        try {
            statements = SqlParser.parse(sql);
        } catch (SqlParseException e) {
            gate.refuseUnjudged(recording, config.name(), SqlStatement.unparseable(config.redactor().sql(sql)),
                    "unparseable SQL: " + e.getMessage());
            return new Statements(null, PgErrors.error("42601", "Portcullis could not parse this statement, so it is refused: "
                    + e.getMessage()));
        }
        for (SqlStatement s : statements) {
            if (!s.effects().contains(SqlStatement.Effect.CHANGES_SQL_READING)) continue;
            String reason = "it would change how the server reads SQL text (client_encoding must stay UTF8 and "
                    + "standard_conforming_strings on, as Portcullis reads every statement)";
            try {
                gate.refuseUnjudged(recording, config.name(), s.withText(config.redactor().sql(s.text())), reason);
            } catch (RuntimeException e) {
                log.error("could not record a refusal on {}: {}", config.name(), e.getMessage());
            }
            return new Statements(null, PgErrors.error("0A000", "Portcullis: this statement is refused: " + reason,
                    "statement: " + s.summary(), null));
        }
        return new Statements(statements, null);
    }

    /** What the recording keeps of a statement, and approvers read: its text and parameters as sent, minus secrets. */
    String excerpt(SqlStatement statement) {
        var redactor = config.redactor();
        if (statement.bindParameters().isEmpty()) return redactor.sql(statement.text());
        String params = "\nparameters: " + statement.bindParameters().stream().map(redactor::value).toList();
        // A prepared statement's text repeats with every execution: redacted once per session.
        String text = redactedTexts.get(statement.text());
        if (text == null) {
            text = redactor.sql(statement.text());
            if (redactedTexts.size() >= MAX_REDACTED_TEXTS) redactedTexts.clear();
            redactedTexts.put(statement.text(), text);
        }
        return text + params;
    }

    private static final int MAX_REDACTED_TEXTS = 256;
    /** Prepared statements' texts, redacted; a session's own, bounded (cleared when full). */
    private final Map<String, String> redactedTexts = new ConcurrentHashMap<>();
}
