package dev.portcullis.recording;

import dev.portcullis.store.ChainHead;
import dev.portcullis.store.Micros;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;

/**
 * The two SHA-256 chains. Every field is length-prefixed (or fixed width) before hashing, so no two
 * different field tuples hash the same input bytes.
 */
public final class ChainHash {

    /** The previous hash of the first event of a session and of the store. */
    public static final String GENESIS = ChainHead.GENESIS;

    private static final HexFormat HEX = HexFormat.of();

    private ChainHash() {
    }

    /** SHA-256 over (prevHash, sessionId, seq, recordedAt in epoch microseconds, code, payload). */
    public static String event(String prevHash, String sessionId, long seq, Instant recordedAt, String code,
                               String payload) {
        MessageDigest sha = sha256();
        text(sha, prevHash);
        text(sha, sessionId);
        number(sha, seq);
        number(sha, Micros.of(recordedAt));
        text(sha, code);
        text(sha, payload);
        return HEX.formatHex(sha.digest());
    }

    /** SHA-256 over (globalPrevHash, globalSeq, eventHash): links every event of every session in commit order. */
    public static String global(String globalPrevHash, long globalSeq, String eventHash) {
        MessageDigest sha = sha256();
        text(sha, globalPrevHash);
        number(sha, globalSeq);
        text(sha, eventHash);
        return HEX.formatHex(sha.digest());
    }

    private static void text(MessageDigest sha, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        number(sha, bytes.length);
        sha.update(bytes);
    }

    private static void number(MessageDigest sha, long value) {
        byte[] b = new byte[8]; // big-endian, as before; one update (a digest's per-call cost is most of 8 bytes')
        for (int i = 0; i < 8; i++) b[i] = (byte) (value >>> (56 - 8 * i));
        sha.update(b);
    }

    private static MessageDigest sha256() {
        return dev.portcullis.core.Sha256.digester();
    }
}
