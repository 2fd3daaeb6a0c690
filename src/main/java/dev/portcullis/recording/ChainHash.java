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
        return event(prevHash, sessionId, seq, recordedAt, code, payload.getBytes(StandardCharsets.UTF_8));
    }

    /** As {@link #event(String, String, long, Instant, String, String)}, with the payload's UTF-8 bytes. */
    public static String event(String prevHash, String sessionId, long seq, Instant recordedAt, String code,
                               byte[] payloadUtf8) {
        MessageDigest sha = sha256();
        Fields f = new Fields();
        f.text(prevHash);
        f.text(sessionId);
        f.number(seq);
        f.number(Micros.of(recordedAt));
        f.text(code);
        f.number(payloadUtf8.length);
        f.into(sha);
        sha.update(payloadUtf8);
        return HEX.formatHex(sha.digest());
    }

    /** SHA-256 over (globalPrevHash, globalSeq, eventHash): links every event of every session in commit order. */
    public static String global(String globalPrevHash, long globalSeq, String eventHash) {
        MessageDigest sha = sha256();
        Fields f = new Fields();
        f.text(globalPrevHash);
        f.number(globalSeq);
        f.text(eventHash);
        f.into(sha);
        return HEX.formatHex(sha.digest());
    }

    /**
     * The fixed fields of a hash's input, gathered into one array and given to the digest in one update (a
     * digest's per-call cost is most of a short field's): each text its length (8 bytes, big-endian) and its UTF-8
     * bytes, each number 8 bytes big-endian. ASCII text (hashes, ids, codes) is copied as it is, without an
     * encoder's array.
     */
    private static final class Fields {
        private byte[] b = new byte[256];
        private int n;

        void text(String value) {
            int len = value.length();
            boolean ascii = true;
            for (int i = 0; i < len && ascii; i++) ascii = value.charAt(i) < 0x80;
            if (!ascii) {
                byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
                len = bytes.length;
                number(len);
                room(len);
                System.arraycopy(bytes, 0, b, n, len);
            } else {
                number(len);
                room(len);
                for (int i = 0; i < len; i++) b[n + i] = (byte) value.charAt(i);
            }
            n += len;
        }

        void number(long value) {
            room(8);
            for (int i = 0; i < 8; i++) b[n + i] = (byte) (value >>> (56 - 8 * i));
            n += 8;
        }

        void into(MessageDigest sha) {
            sha.update(b, 0, n);
        }

        private void room(int more) {
            if (n + more > b.length) b = java.util.Arrays.copyOf(b, Math.max(b.length * 2, n + more));
        }
    }

    private static MessageDigest sha256() {
        return dev.portcullis.core.Sha256.digester();
    }
}
