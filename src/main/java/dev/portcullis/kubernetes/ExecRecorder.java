package dev.portcullis.kubernetes;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.Json;
import dev.portcullis.core.KubeRequest;
import dev.portcullis.http.HttpDialect;
import dev.portcullis.recording.Excerpt;
import dev.portcullis.core.HttpCall;
import dev.portcullis.recording.WithoutTerminal;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Records an exec or attach stream as an asciicast v2 document (asciinema's format): what the container
 * wrote to stdout and stderr as output events, what the agent typed as input events, terminal resizes,
 * and how the command ended (the Status on the error channel). It reads the stream as it passes, without
 * changing it: WebSocket frames of the {@code v4}/{@code v5.channel.k8s.io} protocols (kubectl 1.30 and
 * later) or SPDY/3.1 streams (up to 1.29). A frame over {@value #MAX_FRAME_BYTES} bytes ends the stream.
 */
final class ExecRecorder implements HttpDialect.StreamTap {
    static final int MAX_FRAME_BYTES = 16 * 1024 * 1024;
    /** The cast is kept up to this size; the recording says how much more there was. */
    static final int MAX_CAST_BYTES = 1024 * 1024;
    private static final ObjectMapper JSON = Json.mapper();

    private final KubeRequest request;
    private final long startNanos = System.nanoTime();
    private final ByteArrayOutputStream cast = new ByteArrayOutputStream();
    private long castBytes;
    private boolean truncated;
    private String status = "";
    private Direction fromAgent;
    private Direction fromUpstream;
    /** Present when the exec has no terminal ({@code tty=false}): its line feeds are recorded as a terminal would show them. */
    private final WithoutTerminal noTerminal;

    ExecRecorder(KubeRequest request) {
        this.request = request;
        boolean tty = HttpCall.parseQuery(request.rawQuery()).getOrDefault("tty", List.of()).contains("true");
        this.noTerminal = tty ? null : new WithoutTerminal();
        ObjectNode header = JSON.createObjectNode().put("version", 2).put("width", 80).put("height", 24)
                .put("timestamp", Instant.now().getEpochSecond()).put("title", request.summary());
        header.putObject("env").put("TERM", "xterm-256color").put("SHELL", String.join(" ", request.command()));
        append(header.toString());
    }

    @Override
    public void opened(HttpHeaders response) {
        String upgrade = response.get(HttpHeaderNames.UPGRADE, "").toLowerCase(Locale.ROOT);
        if (upgrade.equals("websocket")) {
            fromAgent = new WebSocketDirection(true);
            fromUpstream = new WebSocketDirection(false);
        } else if (upgrade.startsWith("spdy/3.1")) {
            Map<Integer, String> streams = new HashMap<>();
            fromAgent = new SpdyDirection(true, streams);
            fromUpstream = new SpdyDirection(false, streams);
        } else {
            fromAgent = bytes -> { };
            fromUpstream = bytes -> { };
        }
    }

    @Override
    public void fromAgent(ByteBuf bytes) {
        if (fromAgent != null) fromAgent.read(bytes);
    }

    @Override
    public void fromUpstream(ByteBuf bytes) {
        if (fromUpstream != null) fromUpstream.read(bytes);
    }

    @Override
    public Excerpt closed(String why) {
        if (fromAgent instanceof SpdyDirection s) s.close();
        if (fromUpstream instanceof SpdyDirection s) s.close();
        ObjectNode end = JSON.createObjectNode().put("ended", why);
        if (!status.isEmpty()) end.put("status", status);
        event("m", end.toString());
        return new Excerpt(cast.toString(StandardCharsets.UTF_8), truncated, castBytes);
    }

    /** One channel's bytes: 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize (the channel protocols' numbering). */
    private void channel(int channel, byte[] data) {
        switch (channel) {
            case 0 -> event("i", new String(data, StandardCharsets.UTF_8));
            case 1, 2 -> {
                String text = new String(data, StandardCharsets.UTF_8);
                event("o", noTerminal == null ? text : noTerminal.translate(text));
            }
            case 3 -> status = status + new String(data, StandardCharsets.UTF_8);
            case 4 -> {
                try {
                    var size = JSON.readTree(data);
                    event("r", size.path("Width").asInt() + "x" + size.path("Height").asInt());
                } catch (java.io.IOException e) {
                    // not a size: nothing to record
                }
            }
            default -> {
            }
        }
    }

    private void event(String type, String data) {
        ArrayNode e = JSON.createArrayNode();
        e.add(Math.round((System.nanoTime() - startNanos) / 1e3) / 1e6).add(type).add(data);
        append(e.toString());
    }

    private void append(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        castBytes += bytes.length;
        if (cast.size() + bytes.length > MAX_CAST_BYTES) {
            truncated = true;
            return;
        }
        cast.writeBytes(bytes);
    }

    private interface Direction {
        void read(ByteBuf bytes);
    }

    /** RFC 6455 frames of one direction (the agent's are masked); a message's first byte is its channel. */
    private final class WebSocketDirection implements Direction {
        private final boolean masked;
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
        private ByteArrayOutputStream message;

        WebSocketDirection(boolean masked) {
            this.masked = masked;
        }

        @Override
        public void read(ByteBuf bytes) {
            byte[] read = new byte[bytes.readableBytes()];
            bytes.getBytes(bytes.readerIndex(), read);
            pending.writeBytes(read);
            byte[] b = pending.toByteArray();
            int at = 0;
            while (true) {
                int consumed = frame(b, at);
                if (consumed == 0) break;
                at += consumed;
            }
            pending.reset();
            pending.write(b, at, b.length - at);
        }

        /** Reads one frame at {@code at}; returns its length, 0 when it is not all here yet. */
        private int frame(byte[] b, int at) {
            if (b.length - at < 2) return 0;
            boolean fin = (b[at] & 0x80) != 0;
            int opcode = b[at] & 0x0f;
            boolean hasMask = (b[at + 1] & 0x80) != 0;
            long length = b[at + 1] & 0x7f;
            int pos = at + 2;
            if (length == 126) {
                if (b.length - pos < 2) return 0;
                length = ((b[pos] & 0xff) << 8) | (b[pos + 1] & 0xff);
                pos += 2;
            } else if (length == 127) {
                if (b.length - pos < 8) return 0;
                length = 0;
                for (int i = 0; i < 8; i++) length = (length << 8) | (b[pos + i] & 0xff);
                pos += 8;
            }
            if (length > MAX_FRAME_BYTES || length < 0) {
                throw new HttpDialect.StreamRefused("a WebSocket frame of " + length + " bytes, over the limit of " + MAX_FRAME_BYTES);
            }
            if (hasMask != masked && opcode < 8) {
                throw new HttpDialect.StreamRefused(masked ? "the agent sent an unmasked WebSocket frame" : "the upstream sent a masked WebSocket frame");
            }
            byte[] mask = null;
            if (hasMask) {
                if (b.length - pos < 4) return 0;
                mask = new byte[] {b[pos], b[pos + 1], b[pos + 2], b[pos + 3]};
                pos += 4;
            }
            if (b.length - pos < length) return 0;
            byte[] payload = new byte[(int) length];
            for (int i = 0; i < length; i++) payload[i] = mask == null ? b[pos + i] : (byte) (b[pos + i] ^ mask[i & 3]);
            if (opcode == 1 || opcode == 2 || opcode == 0) {
                if (opcode != 0 || message == null) message = new ByteArrayOutputStream();
                message.writeBytes(payload);
                if (fin) {
                    byte[] m = message.toByteArray();
                    message = null;
                    if (m.length > 0) {
                        int channel = m[0] & 0xff;
                        byte[] data = java.util.Arrays.copyOfRange(m, 1, m.length);
                        if (channel != 255) channel(channel, data); // v5's close of a channel
                    }
                }
            }
            return pos + (int) length - at;
        }
    }

    /** SPDY/3.1 frames of one direction, decoded by Netty's codec; stream types come from the agent's SYN_STREAMs. */
    private final class SpdyDirection implements Direction {
        private final boolean agent;
        private final Map<Integer, String> streams;
        private final EmbeddedChannel decoder = new EmbeddedChannel(new SpdyFrameCodec(SpdyVersion.SPDY_3_1, MAX_FRAME_BYTES, 64 * 1024, 6, 15, 8));

        SpdyDirection(boolean agent, Map<Integer, String> streams) {
            this.agent = agent;
            this.streams = streams;
        }

        @Override
        public void read(ByteBuf bytes) {
            decoder.writeInbound(bytes.retainedDuplicate());
            Object frame;
            while ((frame = decoder.readInbound()) != null) {
                try {
                    if (frame instanceof SpdySynStreamFrame syn && agent) {
                        String type = syn.headers().getAsString("streamtype");
                        if (type != null) streams.put(syn.streamId(), type);
                    } else if (frame instanceof SpdyDataFrame data) {
                        String type = streams.getOrDefault(data.streamId(), "");
                        byte[] content = new byte[data.content().readableBytes()];
                        data.content().getBytes(data.content().readerIndex(), content);
                        int channel = switch (type) {
                            case "stdin" -> 0;
                            case "stdout" -> 1;
                            case "stderr" -> 2;
                            case "error" -> 3;
                            case "resize" -> 4;
                            default -> -1;
                        };
                        if (content.length > 0 && channel >= 0) channel(channel, content);
                    }
                } finally {
                    ReferenceCountUtil.release(frame);
                }
            }
        }

        void close() {
            decoder.finishAndReleaseAll();
        }
    }
}
