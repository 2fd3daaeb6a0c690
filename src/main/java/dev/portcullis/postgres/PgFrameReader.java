package dev.portcullis.postgres;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Objects;

/**
 * Framing: cuts a blocking byte stream into PostgreSQL messages, enforcing size limits before
 * anything is allocated. One reader per direction of one connection; not thread-safe.
 *
 * <p>A reader of client traffic starts in {@link State#AWAITING_STARTUP} (untyped packets: length,
 * then a code); after a StartupMessage, and from the start for server traffic, it reads typed
 * messages (type byte, int32 length including itself, payload). A typed message can be taken in two
 * steps — {@link #readHeader()} and then one of {@link #readPayload()}, {@link #forwardPayload},
 * {@link #skipPayload()} — so a relay can look at the type and pass a DataRow through without
 * allocating anything.
 *
 * <p>The reader buffers ahead: after it has been created, nobody else may read the stream. Clean end
 * of stream between messages is an {@link EOFException}; anything malformed, including a stream
 * that ends inside a message, is a {@link PgProtocolException}, after which the reader is
 * {@link State#CLOSED}.
 */
public final class PgFrameReader {

    /** Default limit for one message's payload. The server allows 1 GiB; agents have no need for that. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

    /** The server's own limit on startup packets (MAX_STARTUP_PACKET_LENGTH). */
    public static final int MAX_STARTUP_PACKET_BYTES = 10_000;

    private static final int BUFFER_BYTES = 64 * 1024;
    /** Payloads larger than this grow as their bytes arrive, so a hostile length costs nothing up front. */
    private static final int FIRST_ALLOCATION_BYTES = 1024 * 1024;

    public enum State { AWAITING_STARTUP, AWAITING_HEADER, AWAITING_PAYLOAD, CLOSED }

    /** Who writes the stream this reader reads. */
    public enum Peer { CLIENT, SERVER }

    private InputStream in;
    /** Whether {@link #in}'s {@code available()} is a cheap look at bytes already received (an event loop's), not a system call. */
    private boolean streamCountsReceived;
    private final Peer peer;
    private final int maxMessageBytes;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private int position;
    private int limit;
    private State state;
    private byte pendingType;
    private int pendingLength;

    private PgFrameReader(InputStream in, Peer peer, int maxMessageBytes, State initial) {
        this.in = Objects.requireNonNull(in, "in");
        if (maxMessageBytes < 1024) {
            throw new IllegalArgumentException("maxMessageBytes must be at least 1024, got " + maxMessageBytes);
        }
        this.peer = peer;
        this.maxMessageBytes = maxMessageBytes;
        this.state = initial;
    }

    /** Reads what a client sends, starting with the startup packets. */
    public static PgFrameReader fromClient(InputStream in, int maxMessageBytes) {
        return new PgFrameReader(in, Peer.CLIENT, maxMessageBytes, State.AWAITING_STARTUP);
    }

    public static PgFrameReader fromClient(InputStream in) {
        return fromClient(in, DEFAULT_MAX_MESSAGE_BYTES);
    }

    /** Reads what a server sends once the startup packet is out: typed messages only. */
    public static PgFrameReader fromServer(InputStream in, int maxMessageBytes) {
        return new PgFrameReader(in, Peer.SERVER, maxMessageBytes, State.AWAITING_HEADER);
    }

    public static PgFrameReader fromServer(InputStream in) {
        return fromServer(in, DEFAULT_MAX_MESSAGE_BYTES);
    }

    public State state() {
        return state;
    }

    public Peer peer() {
        return peer;
    }

    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /** True if bytes are already read ahead, i.e. the next read will not block on the network. */
    public boolean hasBufferedInput() throws IOException {
        return position < limit || (streamCountsReceived && in.available() > 0);
    }

    /**
     * Reads on from {@code received} instead, keeping what is buffered here: a connection moved onto an event loop,
     * whose stream holds the bytes received so far and counts them cheaply.
     */
    void continueFrom(InputStream received) {
        this.in = Objects.requireNonNull(received, "received");
        this.streamCountsReceived = true;
    }

    /**
     * Reads one startup-phase packet. After an SSLRequest or GSSENCRequest the reader still expects
     * a startup packet (the answer was 'N', or the caller wraps the socket in TLS and makes a new
     * reader); after a StartupMessage it expects typed messages; after a CancelRequest nothing.
     */
    public FrontendMessage.StartupPacket readStartupPacket() throws IOException {
        expect(State.AWAITING_STARTUP);
        try {
            if (!fillAtLeast(1)) {
                state = State.CLOSED;
                throw new EOFException("connection closed before the startup packet");
            }
            if (buffer[position] == 0x16) {
                throw new PgProtocolException("received a TLS handshake without SSLRequest; direct SSL negotiation is not supported");
            }
            if (!fillAtLeast(4)) {
                throw new PgProtocolException("connection closed inside the startup packet length");
            }
            int length = PayloadReader.getInt32(buffer, position);
            if (length < 8 || length > MAX_STARTUP_PACKET_BYTES) {
                throw new PgProtocolException("invalid startup packet length " + length + " (expected 8 to "
                        + MAX_STARTUP_PACKET_BYTES + ")");
            }
            position += 4;
            byte[] body = readExactly(length - 4, "startup packet");
            FrontendMessage.StartupPacket packet = FrontendDecoder.decodeStartup(body);
            state = switch (packet) {
                case FrontendMessage.Startup _ -> State.AWAITING_HEADER;
                case FrontendMessage.CancelRequest _ -> State.CLOSED;
                case FrontendMessage.SslRequest _, FrontendMessage.GssEncRequest _ -> {
                    // The client must wait for our one-byte answer; anything already here was injected
                    // in clear text ahead of the encryption (CVE-2021-23214).
                    if (hasBufferedInput()) {
                        throw new PgProtocolException("received unencrypted data after an encryption request");
                    }
                    yield State.AWAITING_STARTUP;
                }
            };
            return packet;
        } catch (PgProtocolException e) {
            state = State.CLOSED;
            throw e;
        }
    }

    /**
     * Reads the next typed message's header and returns its type byte; the payload must then be
     * consumed with {@link #readPayload()}, {@link #forwardPayload} or {@link #skipPayload()}.
     */
    public byte readHeader() throws IOException {
        expect(State.AWAITING_HEADER);
        try {
            if (!fillAtLeast(1)) {
                state = State.CLOSED;
                throw new EOFException("connection closed by the " + (peer == Peer.CLIENT ? "client" : "server"));
            }
            if (!fillAtLeast(5)) {
                throw new PgProtocolException("connection closed inside the header of message '"
                        + PayloadReader.printable(buffer[position]) + "'");
            }
            byte type = buffer[position];
            int length = PayloadReader.getInt32(buffer, position + 1);
            if (length < 4) {
                throw new PgProtocolException("invalid length " + length + " for message '" + PayloadReader.printable(type)
                        + "' (minimum 4)");
            }
            if (length - 4 > maxMessageBytes) {
                throw new PgProtocolException("message '" + PayloadReader.printable(type) + "' of " + (length - 4)
                        + " bytes exceeds the limit of " + maxMessageBytes + " bytes");
            }
            position += 5;
            pendingType = type;
            pendingLength = length - 4;
            state = State.AWAITING_PAYLOAD;
            return type;
        } catch (PgProtocolException e) {
            state = State.CLOSED;
            throw e;
        }
    }

    /** Payload length of the message whose header was just read. */
    public int payloadLength() {
        expect(State.AWAITING_PAYLOAD);
        return pendingLength;
    }

    /** Reads the payload of the message whose header was just read. */
    public RawMessage readPayload() throws IOException {
        expect(State.AWAITING_PAYLOAD);
        try {
            byte[] payload = readExactly(pendingLength, "message '" + PayloadReader.printable(pendingType) + "'");
            state = State.AWAITING_HEADER;
            return new RawMessage(pendingType, payload);
        } catch (PgProtocolException e) {
            state = State.CLOSED;
            throw e;
        }
    }

    /** Writes the message whose header was just read to {@code out} verbatim, without decoding or allocating. */
    public void forwardPayload(PgMessageWriter out) throws IOException {
        expect(State.AWAITING_PAYLOAD);
        out.appendHeader(pendingType, pendingLength + 4);
        transfer(out);
        out.afterMessage();
    }

    /** Discards the payload of the message whose header was just read. */
    public void skipPayload() throws IOException {
        expect(State.AWAITING_PAYLOAD);
        transfer(null);
    }

    /** Reads one whole typed message. */
    public RawMessage readMessage() throws IOException {
        readHeader();
        return readPayload();
    }

    /** Reads and decodes one typed message from a client. */
    public FrontendMessage readFrontend() throws IOException {
        if (peer != Peer.CLIENT) {
            throw new IllegalStateException("this reader reads a server's messages");
        }
        return FrontendMessage.decode(readMessage());
    }

    /** Reads and decodes one message from a server. */
    public BackendMessage readBackend() throws IOException {
        if (peer != Peer.SERVER) {
            throw new IllegalStateException("this reader reads a client's messages");
        }
        return BackendMessage.decode(readMessage());
    }

    private void transfer(PgMessageWriter out) throws IOException {
        int left = pendingLength;
        try {
            while (left > 0) {
                if (position == limit && !fillAtLeast(1)) {
                    throw new PgProtocolException("connection closed inside message '" + PayloadReader.printable(pendingType)
                            + "': got " + (pendingLength - left) + " of " + pendingLength + " payload bytes");
                }
                int chunk = Math.min(left, limit - position);
                if (out != null) {
                    out.appendBytes(buffer, position, chunk);
                }
                position += chunk;
                left -= chunk;
            }
            state = State.AWAITING_HEADER;
        } catch (PgProtocolException e) {
            state = State.CLOSED;
            throw e;
        }
    }

    private byte[] readExactly(int length, String what) throws IOException {
        byte[] out = new byte[Math.min(length, FIRST_ALLOCATION_BYTES)];
        int got = 0;
        while (got < length) {
            if (got == out.length) {
                out = Arrays.copyOf(out, (int) Math.min(length, 2L * out.length));
            }
            int n;
            if (position < limit) {
                n = Math.min(limit - position, out.length - got);
                System.arraycopy(buffer, position, out, got, n);
                position += n;
            } else if (out.length - got >= buffer.length) {
                n = in.read(out, got, out.length - got); // big read: skip the copy through our buffer
            } else {
                n = fillAtLeast(1) ? 0 : -1;
            }
            if (n < 0) {
                throw new PgProtocolException("connection closed inside " + what + ": got " + got + " of " + length + " bytes");
            }
            got += n;
        }
        return out;
    }

    /** Makes at least {@code count} (≤ buffer size) bytes available; false if the stream ended first. */
    /**
     * Whether the peer has closed the connection. Looks no further than one read, bounded by the
     * socket's timeout (the caller sets a short one); whatever arrives is kept for the next message.
     */
    public boolean peerClosed() throws IOException {
        if (limit - position > 0) return false; // it sent more: still there
        if (position > 0) {
            limit = 0;
            position = 0;
        }
        try {
            int n = in.read(buffer, limit, buffer.length - limit);
            if (n < 0) return true;
            limit += n;
            return false;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }

    private boolean fillAtLeast(int count) throws IOException {
        if (limit - position >= count) {
            return true;
        }
        if (position > 0) {
            System.arraycopy(buffer, position, buffer, 0, limit - position);
            limit -= position;
            position = 0;
        }
        while (limit < count) {
            int n = in.read(buffer, limit, buffer.length - limit);
            if (n < 0) {
                return false;
            }
            limit += n;
        }
        return true;
    }

    private void expect(State expected) {
        if (state != expected) {
            throw new IllegalStateException("reader is " + state + ", expected " + expected);
        }
    }
}
