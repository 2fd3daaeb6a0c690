package dev.portcullis.http;

import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Operation;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.recording.Excerpt;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An allowed request that upgrades its connection (a Kubernetes exec over WebSocket or SPDY): sent
 * upstream with its {@code Upgrade}; when the upstream answers {@code 101}, the agent gets that answer and
 * both connections become one stream of bytes, relayed as they come (each side paused while the other
 * cannot take more), watched by the dialect's {@link HttpDialect.StreamTap} and recorded when it ends.
 * Any other answer is passed on as a response. Everything runs on the agent connection's event loop.
 */
final class UpstreamTunnel {
    private static final Logger log = LoggerFactory.getLogger(UpstreamTunnel.class);
    private static final int MAX_REFUSAL_BYTES = 64 * 1024;

    private final HttpUpstream upstream;
    private final AgentExchange exchange;
    private final HttpCall call;
    private final Operation operation;
    private final Gate.Judged judged;
    private final long startNanos;
    private final HttpDialect.StreamTap tap;
    private final AtomicBoolean outcome = new AtomicBoolean();
    private Channel up;
    private Channel agent;
    private ScheduledFuture<?> timeout;
    private HttpResponse head;
    private CompositeByteBuf body;
    private dev.portcullis.gate.LiveSessions.Registration live;

    UpstreamTunnel(HttpUpstream upstream, AgentExchange exchange, HttpCall call, Operation operation, Gate.Judged judged, long startNanos) {
        this.upstream = upstream;
        this.exchange = exchange;
        this.call = call;
        this.operation = operation;
        this.judged = judged;
        this.startNanos = startNanos;
        this.tap = upstream.dialect.tap(operation, exchange.request().headers());
    }

    void start() {
        if (!exchange.agentConnected()) {
            judged.completeAborted(0, "the agent closed the connection before the stream was opened", startNanos);
            exchange.abort();
            return;
        }
        timeout = exchange.loop().schedule(() -> failBeforeAnswer("did not answer: timed out"),
                upstream.connection.responseTimeout().toMillis(), TimeUnit.MILLISECONDS);
        exchange.onAgentLeft(() -> {
            if (outcome.compareAndSet(false, true)) judged.completeAborted(0, "the agent closed the connection", startNanos);
            if (up != null) up.close();
            exchange.abort();
        });
        upstream.connect(exchange.loop(), Answer::new, (c, failure) -> {
            if (failure != null) {
                if (c != null) c.close();
                failBeforeAnswer(HttpUpstream.connectFailure(failure));
                return;
            }
            up = c;
            FullHttpRequest request = upstream.request(exchange, call, operation, new byte[0]);
            request.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
            request.headers().set(HttpHeaderNames.CONNECTION, "Upgrade");
            request.headers().set(HttpHeaderNames.UPGRADE, exchange.header(HttpHeaderNames.UPGRADE));
            up.writeAndFlush(request).addListener(w -> {
                if (!w.isSuccess()) failBeforeAnswer("failed: " + HttpUpstream.describe(w.cause()));
            });
        });
    }

    /** The upstream's answer to the upgrade request. */
    private final class Answer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (outcome.get()) return;
                if (msg instanceof HttpResponse r) {
                    if (r.decoderResult().isFailure()) {
                        failBeforeAnswer("sent an answer the gateway cannot read");
                        return;
                    }
                    head = r;
                    judged.upstreamLatency(System.nanoTime() - startNanos);
                    if (r.status().code() == 101) {
                        switchProtocols(ctx);
                        return;
                    }
                    body = ctx.alloc().compositeBuffer();
                }
                if (msg instanceof HttpContent content && body != null) {
                    if (body.readableBytes() + content.content().readableBytes() <= MAX_REFUSAL_BYTES) {
                        body.addComponent(true, content.content().retain());
                    }
                    if (content instanceof LastHttpContent) answerRefused();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (head == null) failBeforeAnswer("closed the connection");
            else if (body != null) answerRefused();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
            failBeforeAnswer("failed: " + HttpUpstream.describe(cause));
        }
    }

    /** The upstream refused to switch (a Status 400, 403, 404...): the agent hears it as it was. */
    private void answerRefused() {
        if (!outcome.compareAndSet(false, true)) return;
        cancelTimeout();
        ByteBuf bytes = body;
        body = null;
        up.close();
        String text = bytes.toString(StandardCharsets.UTF_8);
        try {
            judged.completeForwarded(head.status().code(), new Excerpt(text, false, bytes.readableBytes()), startNanos);
        } catch (GateUnavailableException e) {
            bytes.release();
            exchange.problem(HttpProblem.unavailable(upstream.connection.name(), e.getMessage()));
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, head.status(), bytes);
        HttpUpstream.copyDownstream(head.headers(), response.headers(), () -> new UpstreamLinks(upstream.base, exchange.origin()));
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.readableBytes());
        exchange.respond(response);
    }

    /** 101: the agent hears it, then the two connections are one stream. */
    private void switchProtocols(ChannelHandlerContext ctx) {
        cancelTimeout();
        tap.opened(head.headers());
        FullHttpResponse switching = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS, Unpooled.EMPTY_BUFFER);
        for (Map.Entry<String, String> h : head.headers()) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            if (!name.equals("content-length") && !name.equals("transfer-encoding") && !name.equals("server") && !name.equals("date")) {
                switching.headers().add(h.getKey(), h.getValue());
            }
        }
        up.config().setAutoRead(false); // until the agent's side has switched too
        ctx.pipeline().replace(ctx.handler(), "tunnel", new Relay(true));
        ctx.pipeline().remove(HttpClientCodec.class); // what it had read beyond the head goes on to the relay
        exchange.switchProtocols(switching, new Relay(false), () -> {
            agent = exchange.channel();
            if (upstream.gate != null) live = upstream.gate.live().register(judged.sessionId(), judged.identity(), upstream.connection.name(), upstream.dialect.protocol(),
                    (by, reason) -> exchange.loop().execute(() -> end("terminated by " + by + ": " + reason)));
            up.config().setAutoRead(true);
            up.read();
        });
    }

    /** One direction of the stream: what one side reads is watched, then written to the other. */
    private final class Relay extends ChannelInboundHandlerAdapter {
        private final boolean fromUpstream;

        Relay(boolean fromUpstream) {
            this.fromUpstream = fromUpstream;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf bytes)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            Channel other = fromUpstream ? agent : up;
            if (other == null) { // the agent's side is still switching: this goes to it as soon as it has
                exchange.loop().execute(() -> channelRead(ctx, msg));
                return;
            }
            try {
                if (fromUpstream) tap.fromUpstream(bytes);
                else tap.fromAgent(bytes);
            } catch (HttpDialect.StreamRefused e) {
                bytes.release();
                end("refused: " + e.getMessage());
                return;
            }
            other.writeAndFlush(bytes);
            if (!other.isWritable()) ctx.channel().config().setAutoRead(false); // resumed when the other side drains
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            Channel other = fromUpstream ? agent : up;
            if (other != null && ctx.channel().isWritable()) {
                other.config().setAutoRead(true);
                other.read();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            end(fromUpstream ? "the upstream closed the stream" : "the agent closed the stream");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            end((fromUpstream ? "the upstream" : "the agent") + "'s connection failed: " + HttpUpstream.describe(cause));
        }
    }

    /** The stream is over: both connections closed, the recording completed with what the tap kept. */
    private void end(String why) {
        if (live != null) live.close();
        if (up != null) up.close();
        if (agent != null) agent.close();
        if (!outcome.compareAndSet(false, true)) return;
        judged.streamed();
        try {
            judged.completeForwarded(101, capped(tap.closed(why)), startNanos);
        } catch (GateUnavailableException e) {
            log.error("recording the end of a stream on {} failed: {}", upstream.connection.name(), e.getMessage());
        }
    }

    /** The recording's limit for a response, cut at a line's end (an asciicast stays a list of whole events). */
    private Excerpt capped(Excerpt e) {
        int max = upstream.maxRecordedResponseBytes;
        if (e.text().length() <= max) return e;
        int cut = e.text().lastIndexOf('\n', max);
        return new Excerpt(e.text().substring(0, cut < 0 ? max : cut + 1), true, e.totalBytes());
    }

    private void failBeforeAnswer(String what) {
        if (!outcome.compareAndSet(false, true)) return;
        cancelTimeout();
        if (up != null) up.close();
        if (body != null) body.release();
        String detail = "connection '" + upstream.connection.name() + "': upstream " + UpstreamHeaders.origin(upstream.base) + " " + what;
        log.warn("upstream failure on {}: {}", upstream.connection.name(), what);
        judged.completeUpstreamFailed(detail, startNanos);
        exchange.problem(HttpProblem.badGateway(upstream.connection.name(), detail));
    }

    private void cancelTimeout() {
        if (timeout != null) timeout.cancel(false);
    }
}
