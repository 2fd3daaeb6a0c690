package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FramingLimitsTest {

    private static final byte[] STARTUP = PgMessageWriter.encode(Samples.startup());

    @Test
    void hostileLengthIsRefusedBeforeAnythingIsAllocated() {
        byte[] hostile = ByteBuffer.allocate(5).put((byte) 'Q').putInt(0x7fffffff).array();
        long before = allocatedBytes();
        assertThatThrownBy(() -> afterStartup(hostile).readFrontend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("message 'Q' of 2147483643 bytes exceeds the limit of 67108864 bytes");
        assertThat(allocatedBytes() - before).isLessThan(1024 * 1024);
    }

    @Test
    void lengthJustUnderTheLimitCostsOnlyWhatActuallyArrives() {
        int claimed = PgFrameReader.DEFAULT_MAX_MESSAGE_BYTES;
        byte[] lying = ByteBuffer.allocate(5 + 100).put((byte) 'd').putInt(claimed + 4).array();
        long before = allocatedBytes();
        assertThatThrownBy(() -> afterStartup(lying).readFrontend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("connection closed inside message 'd': got 100 of 67108864 bytes");
        assertThat(allocatedBytes() - before).isLessThan(4L * 1024 * 1024);
    }

    @Test
    void limitIsConfigurable() {
        byte[] big = PgMessageWriter.encode(new BackendMessage.CopyData(new byte[2000]));
        assertThatThrownBy(() -> PgFrameReader.fromServer(new ByteArrayInputStream(big), 1024).readBackend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("message 'd' of 2000 bytes exceeds the limit of 1024 bytes");
    }

    @Test
    void lengthBelowFourIsRefused() {
        byte[] bad = ByteBuffer.allocate(5).put((byte) 'S').putInt(3).array();
        assertThatThrownBy(() -> PgFrameReader.fromServer(new ByteArrayInputStream(bad)).readMessage())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("invalid length 3 for message 'S' (minimum 4)");
    }

    @Test
    void truncatedStreamsAreProtocolErrorsAndACleanEndIsEof() throws Exception {
        byte[] message = PgMessageWriter.encode(new FrontendMessage.Query("SELECT 1"));
        assertThatThrownBy(() -> afterStartup(Arrays.copyOf(message, 3)).readFrontend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("connection closed inside the header of message 'Q'");
        assertThatThrownBy(() -> afterStartup(Arrays.copyOf(message, message.length - 1)).readFrontend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessageStartingWith("connection closed inside message 'Q'");
        assertThatThrownBy(() -> PgFrameReader.fromClient(new ByteArrayInputStream(Arrays.copyOf(STARTUP, 10)))
                .readStartupPacket())
                .isInstanceOf(PgProtocolException.class)
                .hasMessageStartingWith("connection closed inside startup packet");
        PgFrameReader clean = afterStartup(new byte[0]);
        assertThatThrownBy(clean::readFrontend).isInstanceOf(EOFException.class);
        assertThat(clean.state()).isEqualTo(PgFrameReader.State.CLOSED);
    }

    @Test
    void unknownStartupCodesAreRefused() {
        assertThatThrownBy(() -> startupWithCode(0x00020000))
                .isInstanceOf(PgProtocolException.class)
                .hasMessageStartingWith("unsupported frontend protocol 2.0");
        assertThatThrownBy(() -> startupWithCode(1234))
                .isInstanceOf(PgProtocolException.class)
                .hasMessageStartingWith("unsupported frontend protocol 0.1234");
    }

    @Test
    void startupPacketLengthIsBounded() {
        byte[] tooLong = ByteBuffer.allocate(8).putInt(10_001).putInt(FrontendMessage.PROTOCOL_3_0).array();
        assertThatThrownBy(() -> PgFrameReader.fromClient(new ByteArrayInputStream(tooLong)).readStartupPacket())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("invalid startup packet length 10001 (expected 8 to 10000)");
        byte[] tooShort = ByteBuffer.allocate(8).putInt(7).putInt(0).array();
        assertThatThrownBy(() -> PgFrameReader.fromClient(new ByteArrayInputStream(tooShort)).readStartupPacket())
                .isInstanceOf(PgProtocolException.class)
                .hasMessageStartingWith("invalid startup packet length 7");
    }

    @Test
    void aTlsClientHelloWithoutSslRequestIsNamed() {
        byte[] hello = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
        assertThatThrownBy(() -> PgFrameReader.fromClient(new ByteArrayInputStream(hello)).readStartupPacket())
                .isInstanceOf(PgProtocolException.class)
                .hasMessageContaining("direct SSL negotiation is not supported");
    }

    @Test
    void sslRequestThenStartupThenTypedMessages() throws Exception {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        stream.writeBytes(PgMessageWriter.encode(new FrontendMessage.SslRequest()));
        // the client waits for our answer before it sends more, so the rest arrives later
        byte[] rest = MessageRoundTripTest.concat(STARTUP, PgMessageWriter.encode(new FrontendMessage.Sync()));
        InputStream in = new java.io.SequenceInputStream(new ByteArrayInputStream(stream.toByteArray()),
                new ByteArrayInputStream(rest));
        PgFrameReader reader = PgFrameReader.fromClient(in);
        assertThat(reader.readStartupPacket()).isInstanceOf(FrontendMessage.SslRequest.class);
        assertThat(reader.state()).isEqualTo(PgFrameReader.State.AWAITING_STARTUP);
        assertThat(reader.readStartupPacket()).isInstanceOf(FrontendMessage.Startup.class);
        assertThat(reader.state()).isEqualTo(PgFrameReader.State.AWAITING_HEADER);
        assertThat(reader.readFrontend()).isEqualTo(new FrontendMessage.Sync());
    }

    @Test
    void bytesPipelinedBehindSslRequestAreRefused() {
        byte[] injected = MessageRoundTripTest.concat(PgMessageWriter.encode(new FrontendMessage.SslRequest()), STARTUP);
        assertThatThrownBy(() -> PgFrameReader.fromClient(new ByteArrayInputStream(injected)).readStartupPacket())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("received unencrypted data after an encryption request");
    }

    @Test
    void cancelRequestEndsTheStream() throws Exception {
        PgFrameReader reader = PgFrameReader.fromClient(new ByteArrayInputStream(
                PgMessageWriter.encode(new FrontendMessage.CancelRequest(1, 2))));
        assertThat(reader.readStartupPacket()).isEqualTo(new FrontendMessage.CancelRequest(1, 2));
        assertThat(reader.state()).isEqualTo(PgFrameReader.State.CLOSED);
    }

    @Test
    void unknownMessageTypesAreRefusedByTheDecoders() {
        byte[] unknown = {'!', 0, 0, 0, 4};
        assertThatThrownBy(() -> afterStartup(unknown).readFrontend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("invalid frontend message type '!'");
        assertThatThrownBy(() -> PgFrameReader.fromServer(new ByteArrayInputStream(unknown)).readBackend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("invalid backend message type '!'");
    }

    @Test
    void malformedPayloadsNameTheMessageAndField() {
        byte[] unterminated = {'Q', 0, 0, 0, 7, 'a', 'b', 'c'};
        assertThatThrownBy(() -> afterStartup(unterminated).readFrontend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("malformed Query message: query string is not NUL-terminated");
        byte[] badUtf8 = {'Q', 0, 0, 0, 7, (byte) 0xc3, 0x28, 0};
        assertThatThrownBy(() -> afterStartup(badUtf8).readFrontend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("invalid UTF-8 in query string");
        byte[] hugeColumnCount = {'D', 0, 0, 0, 6, 0x7f, (byte) 0xff};
        assertThatThrownBy(() -> PgFrameReader.fromServer(new ByteArrayInputStream(hugeColumnCount)).readBackend())
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("malformed DataRow message: column count 32767 does not fit in the remaining 0 bytes");
    }

    @Test
    void forwardingCopiesMessagesByteForByteEvenFromATrickleOfInput() throws Exception {
        byte[] stream = Samples.serverStream();
        PgFrameReader reader = PgFrameReader.fromServer(new OneByteAtATime(new ByteArrayInputStream(stream)));
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        PgMessageWriter writer = new PgMessageWriter(copy);
        int messages = 0;
        while (true) {
            try {
                reader.readHeader();
            } catch (EOFException end) {
                break;
            }
            reader.forwardPayload(writer);
            messages++;
        }
        writer.flush();
        assertThat(messages).isEqualTo(Samples.backend().size());
        assertThat(copy.toByteArray()).isEqualTo(stream);
    }

    @Test
    void largePayloadsSurviveTheBuffers() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new java.util.Random(7).nextBytes(data);
        byte[] wire = PgMessageWriter.encode(new BackendMessage.CopyData(data));
        BackendMessage decoded = PgFrameReader.fromServer(new OneByteAtATime(new ByteArrayInputStream(wire), 70_000))
                .readBackend();
        assertThat(((BackendMessage.CopyData) decoded).data()).isEqualTo(data);
    }

    @Test
    void theEncoderRefusesStringsThatWouldSplitAMessage() {
        assertThatThrownBy(() -> PgMessageWriter.encode(new FrontendMessage.Query("SELECT 1\0Q")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NUL");
    }

    private static PgFrameReader afterStartup(byte[] typed) throws Exception {
        PgFrameReader reader = PgFrameReader.fromClient(new ByteArrayInputStream(MessageRoundTripTest.concat(STARTUP, typed)));
        reader.readStartupPacket();
        return reader;
    }

    private static void startupWithCode(int code) throws Exception {
        byte[] packet = ByteBuffer.allocate(9).putInt(9).putInt(code).put((byte) 0).array();
        PgFrameReader.fromClient(new ByteArrayInputStream(packet)).readStartupPacket();
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** A slow network: each read returns at most {@code chunk} bytes. */
    static final class OneByteAtATime extends FilterInputStream {
        private final int chunk;

        OneByteAtATime(InputStream in) {
            this(in, 1);
        }

        OneByteAtATime(InputStream in, int chunk) {
            super(in);
            this.chunk = chunk;
        }

        @Override
        public int read(byte[] b, int off, int len) throws java.io.IOException {
            return super.read(b, off, Math.min(len, chunk));
        }
    }
}
