package dev.portcullis.postgres;

import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * Encodes messages onto an output stream through one reusable buffer. Nothing reaches the stream
 * until {@link #flush()} or until the buffer passes {@link #AUTO_FLUSH_BYTES}; a relay flushes when
 * its input has nothing more buffered ({@link PgFrameReader#hasBufferedInput()}) or before it blocks.
 * Not thread-safe: one writer per direction of one connection.
 */
public final class PgMessageWriter implements Flushable {

    /** Above this many pending bytes a write goes out without waiting for {@link #flush()}. */
    public static final int AUTO_FLUSH_BYTES = 64 * 1024;

    private OutputStream out;
    private final Buffer buffer = new Buffer(AUTO_FLUSH_BYTES + 1024);

    public PgMessageWriter(OutputStream out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    /** Writes to {@code next} from now on; nothing may be pending (flushed to the stream before it). */
    void continueTo(OutputStream next) {
        if (buffer.size() > 0) throw new IllegalStateException("unflushed bytes would go to the wrong stream");
        out = Objects.requireNonNull(next, "next");
    }

    public void write(FrontendMessage message) throws IOException {
        PgEncoder.encode(message, buffer);
        afterMessage();
    }

    public void write(BackendMessage message) throws IOException {
        PgEncoder.encode(message, buffer);
        afterMessage();
    }

    /** Writes a typed message verbatim. */
    public void write(RawMessage message) throws IOException {
        write(message.type(), message.payload(), 0, message.payload().length);
    }

    /** Writes a typed message verbatim from part of an array. */
    public void write(byte type, byte[] payload, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, payload.length);
        buffer.int8(type);
        buffer.int32(length + 4);
        appendBytes(payload, offset, length);
        afterMessage();
    }

    /** One of the single bytes answering SSLRequest/GSSENCRequest: {@code 'S'} yes, {@code 'N'} no. */
    public void writeNegotiationByte(char answer) throws IOException {
        if (answer != 'S' && answer != 'N' && answer != 'G') {
            throw new IllegalArgumentException("negotiation answer must be 'S', 'G' or 'N', got '" + answer + "'");
        }
        buffer.int8((byte) answer);
    }

    @Override
    public void flush() throws IOException {
        drain();
        out.flush();
    }

    /** The encoding of one message, for tests and one-off writes. */
    public static byte[] encode(FrontendMessage message) {
        Buffer b = new Buffer(64);
        PgEncoder.encode(message, b);
        return b.toByteArray();
    }

    public static byte[] encode(BackendMessage message) {
        Buffer b = new Buffer(64);
        PgEncoder.encode(message, b);
        return b.toByteArray();
    }

    /** Raw payload bytes arriving in pieces (message forwarding); large pieces skip the buffer. */
    void appendBytes(byte[] bytes, int offset, int length) throws IOException {
        if (length >= AUTO_FLUSH_BYTES) {
            drain();
            out.write(bytes, offset, length);
        } else {
            buffer.bytes(bytes, offset, length);
            if (buffer.size() >= AUTO_FLUSH_BYTES) {
                drain();
            }
        }
    }

    void appendHeader(byte type, int length) {
        buffer.int8(type);
        buffer.int32(length);
    }

    void afterMessage() throws IOException {
        if (buffer.size() >= AUTO_FLUSH_BYTES) {
            drain();
        }
    }

    private void drain() throws IOException {
        if (buffer.size() > 0) {
            out.write(buffer.array(), 0, buffer.size());
            buffer.reset();
        }
        if (buffer.array().length > 4 * AUTO_FLUSH_BYTES) {
            buffer.shrink(AUTO_FLUSH_BYTES + 1024); // one huge message must not pin its buffer for the connection's life
        }
    }

    /** Growable big-endian byte buffer with back-patched length words. */
    static final class Buffer {
        private byte[] bytes;
        private int size;

        Buffer(int capacity) {
            bytes = new byte[capacity];
        }

        int size() {
            return size;
        }

        byte[] array() {
            return bytes;
        }

        void reset() {
            size = 0;
        }

        void shrink(int capacity) {
            bytes = new byte[capacity];
            size = 0;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, size);
        }

        void int8(int value) {
            ensure(1);
            bytes[size++] = (byte) value;
        }

        void int16(int value) {
            if (value < Short.MIN_VALUE || value > 0xffff) {
                throw new IllegalArgumentException("value " + value + " does not fit in an int16");
            }
            ensure(2);
            bytes[size++] = (byte) (value >>> 8);
            bytes[size++] = (byte) value;
        }

        /** A count sent as int16: the protocol's limit on columns, parameters and formats. */
        void count16(int count, String what) {
            if (count > Short.MAX_VALUE) {
                throw new IllegalArgumentException(count + " " + what + " exceed the protocol's limit of " + Short.MAX_VALUE);
            }
            int16(count);
        }

        void int32(int value) {
            ensure(4);
            putInt32(size, value);
            size += 4;
        }

        void bytes(byte[] value) {
            bytes(value, 0, value.length);
        }

        void bytes(byte[] value, int offset, int length) {
            ensure(length);
            System.arraycopy(value, offset, bytes, size, length);
            size += length;
        }

        /** A NUL-terminated UTF-8 string; an embedded NUL would split the message, so it is refused. */
        void cstring(String value) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            for (byte b : utf8) {
                if (b == 0) {
                    throw new IllegalArgumentException("string for the wire contains a NUL character");
                }
            }
            bytes(utf8);
            int8(0);
        }

        /** int32 length + bytes, or -1 for null (SQL NULL). */
        void nullableValue(byte[] value) {
            if (value == null) {
                int32(-1);
            } else {
                int32(value.length);
                bytes(value);
            }
        }

        /** Starts a length-prefixed section; returns the position to pass to {@link #endLength}. */
        int beginLength() {
            int at = size;
            int32(0);
            return at;
        }

        /** Fills in the length word at {@code at}: the bytes from there to here, itself included. */
        void endLength(int at) {
            putInt32(at, size - at);
        }

        private void putInt32(int at, int value) {
            bytes[at] = (byte) (value >>> 24);
            bytes[at + 1] = (byte) (value >>> 16);
            bytes[at + 2] = (byte) (value >>> 8);
            bytes[at + 3] = (byte) value;
        }

        private void ensure(int more) {
            if (bytes.length - size < more) {
                long wanted = Math.max((long) bytes.length * 2, (long) size + more);
                if (wanted > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException("message too large to encode");
                }
                bytes = Arrays.copyOf(bytes, (int) wanted);
            }
        }
    }
}
