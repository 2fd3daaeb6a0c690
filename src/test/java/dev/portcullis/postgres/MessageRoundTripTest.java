package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** encode → frame → decode gives back the same record and, re-encoded, the same bytes. */
class MessageRoundTripTest {

    static Stream<FrontendMessage.StartupPacket> startupPackets() {
        return Samples.startupPackets().stream();
    }

    static Stream<FrontendMessage> typedFrontend() {
        return Samples.typedFrontend().stream();
    }

    static Stream<BackendMessage> backend() {
        return Samples.backend().stream();
    }

    @ParameterizedTest
    @MethodSource("startupPackets")
    void startupPacketRoundTrips(FrontendMessage.StartupPacket packet) throws Exception {
        byte[] bytes = PgMessageWriter.encode(packet);
        PgFrameReader reader = PgFrameReader.fromClient(new ByteArrayInputStream(bytes));
        FrontendMessage.StartupPacket decoded = reader.readStartupPacket();
        assertThat(decoded).usingRecursiveComparison().isEqualTo(packet);
        assertThat(PgMessageWriter.encode(decoded)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @MethodSource("typedFrontend")
    void frontendMessageRoundTrips(FrontendMessage message) throws Exception {
        byte[] startup = PgMessageWriter.encode(Samples.startup());
        byte[] bytes = PgMessageWriter.encode(message);
        PgFrameReader reader = PgFrameReader.fromClient(new ByteArrayInputStream(concat(startup, bytes)));
        reader.readStartupPacket();
        FrontendMessage decoded = reader.readFrontend();
        assertThat(decoded).usingRecursiveComparison().isEqualTo(message);
        assertThat(PgMessageWriter.encode(decoded)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @MethodSource("backend")
    void backendMessageRoundTrips(BackendMessage message) throws Exception {
        byte[] bytes = PgMessageWriter.encode(message);
        PgFrameReader reader = PgFrameReader.fromServer(new ByteArrayInputStream(bytes));
        BackendMessage decoded = reader.readBackend();
        assertThat(decoded).usingRecursiveComparison().isEqualTo(message);
        assertThat(PgMessageWriter.encode(decoded)).isEqualTo(bytes);
    }

    @Test
    void everyMessageTypeHasARoundTripSample() {
        Set<Class<?>> sampled = new HashSet<>();
        Samples.startupPackets().forEach(m -> sampled.add(m.getClass()));
        Samples.typedFrontend().forEach(m -> sampled.add(m.getClass()));
        Samples.backend().forEach(m -> sampled.add(m.getClass()));
        assertThat(sampled).containsAll(leaves(FrontendMessage.class)).containsAll(leaves(BackendMessage.class));
    }

    @Test
    void passwordMessagePayloadIsReadAccordingToThePhase() throws Exception {
        assertThat(FrontendMessage.PasswordMessage.password("secret").asPassword()).isEqualTo("secret");
        FrontendMessage.SaslInitialResponse initial = FrontendMessage.PasswordMessage
                .saslInitialResponse("SCRAM-SHA-256", "n,,n=*,r=abc".getBytes()).asSaslInitialResponse();
        assertThat(initial.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(new String(initial.initialResponse())).isEqualTo("n,,n=*,r=abc");
        assertThat(FrontendMessage.PasswordMessage.saslInitialResponse("X", null).asSaslInitialResponse().initialResponse())
                .isNull();
        assertThat(FrontendMessage.PasswordMessage.password("secret").toString()).doesNotContain("secret");
    }

    @Test
    void md5AnswerMatchesTheServersFormula() {
        assertThat(UpstreamConnection.md5Password("alice", "wonderland", new byte[] {1, 2, 3, 4}))
                .isEqualTo("md5370dfac54ebb2bdeedf68eab452ffd72");
    }

    @Test
    void pgErrorsBuildsAnErrorResponseWithSeveritySqlstateDetailAndHint() {
        BackendMessage.ErrorResponse error = PgErrors.error("42501", "refused by rule no-drops", "DROP TABLE customers",
                "ask in #db-approvals");
        assertThat(error.fields()).containsExactly(
                java.util.Map.entry('S', "ERROR"), java.util.Map.entry('V', "ERROR"), java.util.Map.entry('C', "42501"),
                java.util.Map.entry('M', "refused by rule no-drops"), java.util.Map.entry('D', "DROP TABLE customers"),
                java.util.Map.entry('H', "ask in #db-approvals"));
        assertThat(error.describe()).isEqualTo("ERROR 42501: refused by rule no-drops");
        assertThat(PgErrors.notice("00000", "waiting for approval", null, null).fields()).doesNotContainKeys('D', 'H');
        assertThat(PgErrors.readyForQuery(BackendMessage.TransactionStatus.IDLE))
                .isEqualTo(new BackendMessage.ReadyForQuery(BackendMessage.TransactionStatus.IDLE));
    }

    private static Set<Class<?>> leaves(Class<?> sealed) {
        Set<Class<?>> leaves = new HashSet<>();
        for (Class<?> sub : sealed.getPermittedSubclasses()) {
            if (sub.isSealed()) {
                leaves.addAll(leaves(sub));
            } else {
                leaves.add(sub);
            }
        }
        return leaves;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
