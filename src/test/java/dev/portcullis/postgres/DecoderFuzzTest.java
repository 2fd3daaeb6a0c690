package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mutates valid client and server byte streams (the round-trip samples) and feeds them to the
 * framing and decoders: the only acceptable outcomes are messages, a clean EOF or a
 * PgProtocolException. Seeded, so a failure reproduces.
 */
@Timeout(60)
class DecoderFuzzTest {

    private static final int ITERATIONS = 20_000;
    private static final int[] INTERESTING_INTS = {0, -1, 1, 3, 4, 5, 8, 0x7fff, 0x8000, 0xffff, 10_000, 10_001,
            Integer.MAX_VALUE, Integer.MIN_VALUE, 80877103, 80877102, 196608};

    @Test
    void mutatedClientStreamsOnlyEverYieldMessagesEofOrProtocolErrors() {
        fuzz(Samples.clientStream(), true, 1);
    }

    @Test
    void mutatedServerStreamsOnlyEverYieldMessagesEofOrProtocolErrors() {
        fuzz(Samples.serverStream(), false, 2);
    }

    private static void fuzz(byte[] seed, boolean fromClient, long baseSeed) {
        int[] outcomes = new int[3];
        for (int i = 0; i < ITERATIONS; i++) {
            long seedOfCase = baseSeed * 1_000_003L + i;
            byte[] input = mutate(seed, new Random(seedOfCase));
            try {
                outcomes[drain(input, fromClient)]++;
            } catch (Throwable t) {
                fail("case " + seedOfCase + " threw " + t + " for input " + Arrays.toString(input), t);
            }
        }
        assertThat(outcomes[1]).as("cases ending in a protocol error").isPositive();
        assertThat(outcomes[0]).as("cases read to a clean end").isPositive();
    }

    /** 0: clean EOF or closed after CancelRequest, 1: PgProtocolException, 2: none of those (not expected). */
    private static int drain(byte[] input, boolean fromClient) throws Exception {
        PgFrameReader reader = fromClient
                ? PgFrameReader.fromClient(new ByteArrayInputStream(input), 1 << 20)
                : PgFrameReader.fromServer(new ByteArrayInputStream(input), 1 << 20);
        try {
            for (int messages = 0; messages < 10_000; messages++) {
                switch (reader.state()) {
                    case AWAITING_STARTUP -> reader.readStartupPacket();
                    case AWAITING_HEADER -> {
                        if (fromClient) {
                            if (reader.readFrontend() instanceof FrontendMessage.PasswordMessage p) {
                                interpret(p);
                            }
                        } else {
                            reader.readBackend();
                        }
                    }
                    case CLOSED -> {
                        return 0;
                    }
                    case AWAITING_PAYLOAD -> throw new IllegalStateException("left a payload unread");
                }
            }
            throw new IllegalStateException("more messages than bytes");
        } catch (EOFException e) {
            return 0;
        } catch (PgProtocolException e) {
            assertThat(e.getMessage()).isNotBlank();
            return 1;
        }
    }

    private static void interpret(FrontendMessage.PasswordMessage p) {
        try {
            p.asPassword();
        } catch (PgProtocolException expected) {
            // fine: the same bytes may be a SASL message
        }
        try {
            p.asSaslInitialResponse();
        } catch (PgProtocolException expected) {
            // fine
        }
    }

    private static byte[] mutate(byte[] seed, Random random) {
        byte[] bytes = seed.clone();
        int mutations = 1 + random.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            switch (random.nextInt(6)) {
                case 0 -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                case 1 -> bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                case 2 -> {
                    if (bytes.length < 4) {
                        continue;
                    }
                    int at = random.nextInt(bytes.length - 3);
                    int value = INTERESTING_INTS[random.nextInt(INTERESTING_INTS.length)];
                    bytes[at] = (byte) (value >>> 24);
                    bytes[at + 1] = (byte) (value >>> 16);
                    bytes[at + 2] = (byte) (value >>> 8);
                    bytes[at + 3] = (byte) value;
                }
                case 3 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
                case 4 -> {
                    int at = random.nextInt(bytes.length + 1);
                    byte[] insert = new byte[1 + random.nextInt(8)];
                    random.nextBytes(insert);
                    byte[] grown = new byte[bytes.length + insert.length];
                    System.arraycopy(bytes, 0, grown, 0, at);
                    System.arraycopy(insert, 0, grown, at, insert.length);
                    System.arraycopy(bytes, at, grown, at + insert.length, bytes.length - at);
                    bytes = grown;
                }
                default -> {
                    if (bytes.length > 1) {
                        int from = random.nextInt(bytes.length);
                        int to = Math.min(bytes.length, from + 1 + random.nextInt(16));
                        byte[] shrunk = new byte[bytes.length - (to - from)];
                        System.arraycopy(bytes, 0, shrunk, 0, from);
                        System.arraycopy(bytes, to, shrunk, from, bytes.length - to);
                        bytes = shrunk;
                    }
                }
            }
            if (bytes.length == 0) {
                break;
            }
        }
        return bytes;
    }
}
