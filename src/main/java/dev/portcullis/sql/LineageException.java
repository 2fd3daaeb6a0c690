package dev.portcullis.sql;

/** The lineage of a statement cannot be proven, so masking cannot be guaranteed for it: refuse it. */
public final class LineageException extends Exception {
    public LineageException(String message) {
        super(message);
    }
}
