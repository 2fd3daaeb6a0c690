package dev.portcullis.sql;

/**
 * PostgreSQL's parser refused the text. The gateway refuses such a statement too: what the gateway
 * cannot parse it cannot judge.
 */
public final class SqlParseException extends Exception {

    private final int cursorPosition;

    /**
     * @param message        the parser's message, e.g. {@code syntax error at or near "SELCT"}
     * @param cursorPosition 1-based character position in the query text where it failed; 0 when unknown
     */
    public SqlParseException(String message, int cursorPosition) {
        super(message);
        this.cursorPosition = cursorPosition;
    }

    /** 1-based character position in the query text where parsing failed; 0 when unknown. */
    public int cursorPosition() {
        return cursorPosition;
    }
}
