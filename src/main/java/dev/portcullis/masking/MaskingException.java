package dev.portcullis.masking;

/**
 * A body could not be masked (for example the upstream JSON broke off midway). The caller must abort
 * the response: what was already written is masked, but the rest cannot be vouched for.
 */
public final class MaskingException extends Exception {
    public MaskingException(String message, Throwable cause) {
        super(message, cause);
    }
}
