package dev.portcullis.postgres;

import dev.portcullis.core.Identity;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.policy.Decision;
import dev.portcullis.recording.ConnectionSession;
import dev.portcullis.sql.SqlParseException;
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

    void recordUnparseable(String sql, SqlParseException e) {
        gate.refuseUnjudged(recording, config.name(), SqlStatement.unparseable(config.redactor().sql(sql)),
                "unparseable SQL: " + e.getMessage());
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
