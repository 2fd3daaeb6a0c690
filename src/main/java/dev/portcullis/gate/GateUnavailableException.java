package dev.portcullis.gate;

/**
 * The gateway cannot answer safely (the recording store is down, the IdP cannot be reached...): the
 * operation is refused, and the message says why. Fail closed.
 */
public final class GateUnavailableException extends Exception {
    public GateUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
