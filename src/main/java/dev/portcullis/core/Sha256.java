package dev.portcullis.core;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 digesters, one per thread and reused: {@code MessageDigest.getInstance} looks the provider up
 * and builds a new digester by reflection each time, which was a fifth of the bytes an HTTP call
 * allocated (JFR). An event loop hashes every call's token and chain links on one thread.
 */
public final class Sha256 {
    private static final ThreadLocal<MessageDigest> DIGESTERS = ThreadLocal.withInitial(Sha256::create);

    private Sha256() {
    }

    /** This thread's digester, reset; use it before calling anything that might use it too. */
    public static MessageDigest digester() {
        MessageDigest md = DIGESTERS.get();
        md.reset();
        return md;
    }

    /** The SHA-256 of the text's UTF-8 bytes, in lower-case hex: how a secret is kept where only a match is needed. */
    public static String hex(String text) {
        return java.util.HexFormat.of().formatHex(digester().digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private static MessageDigest create() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }
}
