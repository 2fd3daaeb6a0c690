package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.KubeRequest;
import dev.portcullis.http.HttpDialect;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The exec recorder reads WebSocket frames as they pass, whatever way they are cut, and refuses oversized ones. */
class ExecRecorderTest {
    private static final KubeRequest EXEC = KubeRequest.parse("GET", "/api/v1/namespaces/dev/pods/web-1/exec", "command=sh&stdin=true");

    private static ExecRecorder websocket() {
        ExecRecorder r = new ExecRecorder(EXEC);
        r.opened(new DefaultHttpHeaders().set("Upgrade", "websocket"));
        return r;
    }

    /** One binary frame: FIN, opcode 2, the channel byte then the data; masked as a client must. */
    private static byte[] frame(int channel, String data, boolean masked, boolean fin, int opcode) {
        byte[] payload = new byte[data.length() + 1];
        payload[0] = (byte) channel;
        System.arraycopy(data.getBytes(StandardCharsets.UTF_8), 0, payload, 1, data.length());
        return raw(payload, masked, fin, opcode);
    }

    private static byte[] raw(byte[] payload, boolean masked, boolean fin, int opcode) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write((fin ? 0x80 : 0) | opcode);
        int len = payload.length;
        if (len < 126) out.write((masked ? 0x80 : 0) | len);
        else {
            out.write((masked ? 0x80 : 0) | 126);
            out.write(len >> 8);
            out.write(len & 0xff);
        }
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        if (masked) out.writeBytes(mask);
        for (int i = 0; i < len; i++) out.write(masked ? payload[i] ^ mask[i & 3] : payload[i]);
        return out.toByteArray();
    }

    @Test
    void withATerminalTheOutputIsRecordedAsTheTerminalSentIt() {
        ExecRecorder r = new ExecRecorder(KubeRequest.parse("GET", "/api/v1/namespaces/dev/pods/web-1/exec", "command=sh&stdin=true&tty=true"));
        r.opened(new DefaultHttpHeaders().set("Upgrade", "websocket"));
        r.fromUpstream(Unpooled.wrappedBuffer(frame(1, "app\n", false, true, 2)));
        assertThat(r.closed("done").text()).contains("\"o\",\"app\\n\"");
    }

    @Test
    void inputOutputAndStatusAreRecordedEvenWhenFramesArriveByteByByte() {
        ExecRecorder r = websocket();
        byte[] typed = frame(0, "whoami\n", true, true, 2);
        for (byte b : typed) r.fromAgent(Unpooled.wrappedBuffer(new byte[] {b})); // cut anywhere
        r.fromUpstream(Unpooled.wrappedBuffer(frame(1, "app\n", false, true, 2)));
        r.fromUpstream(Unpooled.wrappedBuffer(frame(3, "{\"status\":\"Success\"}", false, true, 2)));
        String cast = r.closed("the upstream closed the stream").text();
        assertThat(cast.lines().toList()).hasSize(4);
        // no tty: the program's bare line feeds are recorded as a terminal would show them (the agent got them as sent)
        assertThat(cast).contains("\"i\",\"whoami\\n\"").contains("\"o\",\"app\\r\\n\"").contains("Success");
        assertThat(cast.lines().findFirst().orElseThrow()).contains("\"version\":2").contains("exec pods/web-1 in dev: sh");
    }

    @Test
    void aMessageInSeveralFramesIsOneEvent() {
        ExecRecorder r = websocket();
        byte[] first = raw(new byte[] {1, 'h', 'e'}, false, false, 2);
        byte[] rest = raw("llo".getBytes(StandardCharsets.UTF_8), false, true, 0);
        ByteBuf both = Unpooled.wrappedBuffer(first, rest);
        int before = both.readerIndex();
        r.fromUpstream(both);
        assertThat(both.readerIndex()).as("the stream passes on untouched").isEqualTo(before);
        assertThat(r.closed("done").text()).contains("\"o\",\"hello\"");
    }

    @Test
    void aFrameOverTheLimitEndsTheStream() {
        ExecRecorder r = websocket();
        ByteBuf header = Unpooled.wrappedBuffer(new byte[] {(byte) 0x82, (byte) (0x80 | 127), 0, 0, 0, 0, 0x7f, 0, 0, 0});
        assertThatThrownBy(() -> r.fromAgent(header)).isInstanceOf(HttpDialect.StreamRefused.class).hasMessageContaining("over the limit");
    }

    @Test
    void anUnmaskedFrameFromTheAgentEndsTheStream() {
        ExecRecorder r = websocket();
        assertThatThrownBy(() -> r.fromAgent(Unpooled.wrappedBuffer(frame(0, "x", false, true, 2))))
                .isInstanceOf(HttpDialect.StreamRefused.class);
    }
}
