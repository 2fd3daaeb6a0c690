package dev.portcullis.postgres;

import dev.portcullis.postgres.BackendMessage.ErrorResponse;
import dev.portcullis.postgres.BackendMessage.NoticeResponse;
import dev.portcullis.postgres.BackendMessage.ReadyForQuery;
import dev.portcullis.postgres.BackendMessage.TransactionStatus;
import java.util.LinkedHashMap;
import java.util.Objects;

/**
 * The messages the gateway makes up itself to speak to a client in its own dialect: refusals as
 * ErrorResponse with a SQLSTATE, warnings as NoticeResponse, and ReadyForQuery.
 */
public final class PgErrors {

    private PgErrors() {}

    /** ERROR: the statement fails, the session goes on. {@code detail} and {@code hint} may be null (left out). */
    public static ErrorResponse error(String sqlState, String message, String detail, String hint) {
        return new ErrorResponse(fields("ERROR", sqlState, message, detail, hint));
    }

    public static ErrorResponse error(String sqlState, String message) {
        return error(sqlState, message, null, null);
    }

    /** FATAL: the server side ends the session after sending this (authentication failures, protocol violations). */
    public static ErrorResponse fatal(String sqlState, String message, String detail, String hint) {
        return new ErrorResponse(fields("FATAL", sqlState, message, detail, hint));
    }

    public static ErrorResponse fatal(String sqlState, String message) {
        return fatal(sqlState, message, null, null);
    }

    /** NOTICE, e.g. to tell the agent an operation waits for approval. {@code detail}, {@code hint} may be null. */
    public static NoticeResponse notice(String sqlState, String message, String detail, String hint) {
        return new NoticeResponse(fields("NOTICE", sqlState, message, detail, hint));
    }

    /** WARNING, shown by psql even with default client_min_messages. */
    public static NoticeResponse warning(String sqlState, String message, String detail, String hint) {
        return new NoticeResponse(fields("WARNING", sqlState, message, detail, hint));
    }

    public static ReadyForQuery readyForQuery(TransactionStatus status) {
        return new ReadyForQuery(status);
    }

    private static LinkedHashMap<Character, String> fields(String severity, String sqlState, String message,
            String detail, String hint) {
        Objects.requireNonNull(message, "message");
        if (sqlState == null || !sqlState.matches("[0-9A-Z]{5}")) {
            throw new IllegalArgumentException("SQLSTATE must be five digits or capital letters, got " + sqlState);
        }
        LinkedHashMap<Character, String> fields = new LinkedHashMap<>();
        fields.put('S', severity);
        fields.put('V', severity);
        fields.put('C', sqlState);
        fields.put('M', message);
        if (detail != null) {
            fields.put('D', detail);
        }
        if (hint != null) {
            fields.put('H', hint);
        }
        return fields;
    }
}
