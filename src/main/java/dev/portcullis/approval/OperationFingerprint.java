package dev.portcullis.approval;

import dev.portcullis.core.Operation;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Binds an approval to one exact operation: SHA-256 over the protocol and, for SQL, the statement text
 * and its bind parameters; for HTTP, the method, path, raw query and request body bytes. Each field is
 * length-prefixed, so no two different operations share an input. Anything else (a different body, one
 * more parameter, another table) gives another fingerprint, and the approval does not release it.
 */
public final class OperationFingerprint {

    private OperationFingerprint() {
    }

    /**
     * @param requestBody the request body bytes as sent (HTTP); ignored for SQL, whose parameters are
     *                    part of the operation; may be empty
     * @return {@code sha256:} and 64 hex digits
     */
    public static String of(Operation operation, byte[] requestBody) {
        MessageDigest sha = sha256();
        field(sha, operation.protocol().getBytes(StandardCharsets.UTF_8));
        for (String f : operation.identity()) field(sha, f.getBytes(StandardCharsets.UTF_8));
        if (operation.bodyIsPartOfIdentity()) field(sha, requestBody == null ? new byte[0] : requestBody);
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    /** For operations without a body (SQL, or HTTP without one). */
    public static String of(Operation operation) {
        return of(operation, new byte[0]);
    }

    private static void field(MessageDigest sha, byte[] bytes) {
        sha.update(ByteBuffer.allocate(8).putLong(bytes.length).array());
        sha.update(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
