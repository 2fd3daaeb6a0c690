package dev.portcullis.postgres;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Bounds-checked cursor over one message payload. Every read that would run past the end, and
 * every string that is not terminated or not UTF-8, becomes a {@link PgProtocolException} naming
 * the message and the field.
 */
final class PayloadReader {

    private final byte[] bytes;
    private final String messageName;
    private int position;

    PayloadReader(byte[] bytes, String messageName) {
        this.bytes = bytes;
        this.messageName = messageName;
    }

    int remaining() {
        return bytes.length - position;
    }

    byte int8(String field) throws PgProtocolException {
        need(1, field);
        return bytes[position++];
    }

    short int16(String field) throws PgProtocolException {
        need(2, field);
        short value = (short) (((bytes[position] & 0xff) << 8) | (bytes[position + 1] & 0xff));
        position += 2;
        return value;
    }

    int int32(String field) throws PgProtocolException {
        need(4, field);
        int value = getInt32(bytes, position);
        position += 4;
        return value;
    }

    /** A count (int16) that must be non-negative and could fit in what is left, at {@code minBytesEach}. */
    int count16(String field, int minBytesEach) throws PgProtocolException {
        int count = int16(field);
        return checkCount(count, field, minBytesEach);
    }

    int checkCount(int count, String field, int minBytesEach) throws PgProtocolException {
        if (count < 0) {
            throw fail("negative " + field + " " + count);
        }
        if ((long) count * minBytesEach > remaining()) {
            throw fail(field + " " + count + " does not fit in the remaining " + remaining() + " bytes");
        }
        return count;
    }

    byte[] bytes(int length, String field) throws PgProtocolException {
        if (length < 0) {
            throw fail("negative length " + length + " for " + field);
        }
        need(length, field);
        byte[] out = new byte[length];
        System.arraycopy(bytes, position, out, 0, length);
        position += length;
        return out;
    }

    /** An int32 length followed by that many bytes; length -1 means NULL and returns null. */
    byte[] nullableValue(String field) throws PgProtocolException {
        int length = int32(field + " length");
        if (length == -1) {
            return null;
        }
        return bytes(length, field);
    }

    byte[] rest() {
        byte[] out = new byte[remaining()];
        System.arraycopy(bytes, position, out, 0, out.length);
        position = bytes.length;
        return out;
    }

    String cstring(String field) throws PgProtocolException {
        int end = position;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        if (end == bytes.length) {
            throw fail(field + " is not NUL-terminated");
        }
        String value = utf8(bytes, position, end - position, field);
        position = end + 1;
        return value;
    }

    /** True (and consumed) if the next byte is the terminating zero of a list. */
    boolean atListEnd(String field) throws PgProtocolException {
        need(1, field);
        if (bytes[position] == 0) {
            position++;
            return true;
        }
        return false;
    }

    void end() throws PgProtocolException {
        if (position != bytes.length) {
            throw fail((bytes.length - position) + " unexpected trailing bytes");
        }
    }

    PgProtocolException fail(String problem) {
        return new PgProtocolException("malformed " + messageName + " message: " + problem);
    }

    private void need(int count, String field) throws PgProtocolException {
        if (count > bytes.length - position) {
            throw fail(field + " needs " + count + " bytes, only " + (bytes.length - position) + " left");
        }
    }

    static int getInt32(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    /**
     * Strict UTF-8: the policy engine must see exactly the text the server will execute. ASCII (names, most
     * statements, parameters' text) is its own UTF-8 and is copied as it is; anything else goes through a strict
     * decoder, which refuses a malformed sequence (a decoder, a buffer and a copy per string: a tenth of a
     * statement's allocation when every string took that path).
     */
    static String utf8(byte[] b, int offset, int length, String field) throws PgProtocolException {
        int end = offset + length;
        int i = offset;
        while (i < end && b[i] >= 0) i++;
        if (i == end) return new String(b, offset, length, StandardCharsets.ISO_8859_1);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b, offset, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new PgProtocolException("invalid UTF-8 in " + field, e);
        }
    }

    static String printable(byte type) {
        int c = type & 0xff;
        return c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("0x%02x", c);
    }
}
