package dev.portcullis.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.UriCompliance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent's HTTP/1.1 connection on the listener's event loop: reads a request and its body (bounded),
 * hands the whole request to the {@link HttpGatewayHandler} as an {@link AgentExchange}, and reads the
 * next one only once that is answered (pipelined requests wait their turn, in order).
 *
 * <p>A body over the connection's limit is refused with 413 as soon as that is known, and what the
 * agent is still sending is read and dropped, up to {@link HttpGatewayHandler#LINGER_MAX_BYTES}, before
 * the connection closes, as nginx's lingering close does: closing with the agent's bytes unread makes
 * the kernel reset the connection, and an agent reading late would see the reset instead of the 413.
 */
final class AgentConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AgentConnection.class);
    private static final byte[] NO_BODY = new byte[0];

    private final HttpGatewayHandler gateway;
    private final long maxRequestBytes;
    private final String scheme;
    private ChannelHandlerContext ctx;
    private String clientAddress;

    /** Messages that arrived while an exchange was in flight (pipelined requests), in order. */
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private HttpRequest request;
    private HttpURI uri;
    private ByteArrayOutputStream body;
    private boolean discarding;
    private long discarded;
    /** Nothing more is read; the connection closes once the answer is written (now, if it is). */
    private boolean closeWhenAnswered;
    /** A malformed request's answer is being written; its write closes the connection. */
    private boolean malformed;
    private AgentExchange exchange;

    AgentConnection(HttpGatewayHandler gateway, long maxRequestBytes, boolean tls) {
        this.gateway = gateway;
        this.maxRequestBytes = maxRequestBytes;
        this.scheme = tls ? "https" : "http";
    }

    String clientAddress() {
        return clientAddress;
    }

    String scheme() {
        return scheme;
    }

    /** The authority the agent addressed: its Host header, else the listener's own address. */
    String authority(HttpRequest request) {
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host != null && !host.isBlank()) return host;
        InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
        return local.getAddress().getHostAddress() + ":" + local.getPort();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
        clientAddress = remote == null ? "unknown" : remote.getAddress().getHostAddress();
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (exchange != null && !discarding) {
            // Pipelined: answered in order, once the exchange in flight is. Reading pauses until then, so
            // what waits is bounded by one read; a client that waits for each answer never gets here, and
            // its connection is never paused and resumed (two epoll_ctl calls per request saved).
            waiting.add(msg);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        try {
            read(msg);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void read(Object msg) {
        if (msg instanceof HttpRequest r) {
            if (discarding) return; // the connection closes after the refused request
            beginRequest(r);
        }
        if (msg instanceof HttpContent content) {
            if (discarding) {
                discard(content);
            } else if (request != null) {
                bodyPart(content);
            }
        }
    }

    private void beginRequest(HttpRequest r) {
        if (r.decoderResult().isFailure()) {
            Throwable cause = r.decoderResult().cause();
            HttpResponseStatus status = cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            refuseMalformed(status, "malformed request: " + (cause == null ? "unreadable" : cause.getMessage()));
            return;
        }
        if (r.protocolVersion().equals(HttpVersion.HTTP_1_1) && !r.headers().contains(HttpHeaderNames.HOST)) {
            refuseMalformed(HttpResponseStatus.BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
            return;
        }
        // Jetty's URI parser and its default compliance, as the gateway's policy has always read paths:
        // an ambiguous path (encoded '/', '..' segments in disguise, ...) is refused, never guessed at.
        HttpURI parsed;
        try {
            parsed = HttpURI.build(r.uri());
        } catch (RuntimeException e) {
            refuseMalformed(HttpResponseStatus.BAD_REQUEST, "the request target cannot be read");
            return;
        }
        String violation = UriCompliance.checkUriCompliance(UriCompliance.DEFAULT, parsed, null);
        if (violation != null || parsed.getPath() == null || parsed.getCanonicalPath() == null
                || !parsed.getPath().startsWith("/")) {
            refuseMalformed(HttpResponseStatus.BAD_REQUEST, violation != null ? violation : "the request path is not a valid path");
            return;
        }
        request = r;
        uri = parsed;
        long declared = HttpUtil.getContentLength(r, -1L);
        if (declared > maxRequestBytes) {
            tooLarge();
            return;
        }
        if (HttpUtil.is100ContinueExpected(r)) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        body = null;
    }

    private void bodyPart(HttpContent content) {
        ByteBuf bytes = content.content();
        int n = bytes.readableBytes();
        if (n > 0) {
            long have = body == null ? 0 : body.size();
            if (have + n > maxRequestBytes) {
                tooLarge();
                discard(content);
                return;
            }
            if (body == null) {
                long expected = Math.min(maxRequestBytes, HttpUtil.getContentLength(request, 256L));
                body = new ByteArrayOutputStream((int) Math.clamp(expected, 256, 1 << 20));
            }
            try {
                bytes.readBytes(body, n); // straight into the body, no copy in between
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e); // a ByteArrayOutputStream does not fail
            }
        }
        if (content instanceof LastHttpContent) {
            byte[] whole = body == null ? NO_BODY : body.toByteArray();
            body = null;
            start(whole, false);
        }
    }

    /** The body is over the limit: answer now (413, after the token check), drop the rest, then close. */
    private void tooLarge() {
        discarding = true;
        discarded = 0;
        body = null;
        start(NO_BODY, true);
    }

    private void discard(HttpContent content) {
        discarded += content.content().readableBytes();
        // The body's end, or more than anyone should send after a refusal: cut off once the answer is out.
        if (content instanceof LastHttpContent || discarded > HttpGatewayHandler.LINGER_MAX_BYTES) discardingDone();
    }

    private void discardingDone() {
        ctx.channel().config().setAutoRead(false);
        closeWhenAnswered = true;
        if (exchange == null && !malformed) ctx.channel().close();
    }

    private void start(byte[] bytes, boolean tooLarge) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        // An upgrade's next bytes belong to the new protocol: nothing more is read (nor decoded as HTTP)
        // until the answer says whether the connection switches (switchTo) or stays HTTP (exchangeEnded).
        if (!tooLarge && request.headers().contains(HttpHeaderNames.UPGRADE)) ctx.channel().config().setAutoRead(false);
        exchange = new AgentExchange(this, ctx.channel(), request, uri, bytes, tooLarge, keepAlive);
        AgentExchange started = exchange;
        request = null;
        uri = null;
        gateway.handle(started);
    }

    /** After a {@code 101}: the connection carries {@code relay}'s bytes, no more HTTP and no idle timeout. */
    void switchTo(io.netty.channel.ChannelHandler relay) {
        io.netty.channel.ChannelPipeline p = ctx.pipeline();
        p.replace(this, "tunnel", relay);
        if (p.get(io.netty.handler.timeout.IdleStateHandler.class) != null) p.remove(io.netty.handler.timeout.IdleStateHandler.class);
        p.remove(io.netty.handler.codec.http.HttpServerCodec.class); // what it had read goes on to the relay
        p.channel().config().setAutoRead(true);
    }

    HttpDialect dialect() {
        return gateway.dialect();
    }

    /** Called by the exchange once its answer is written (or abandoned); {@code goOn}: read the next request. */
    void exchangeEnded(AgentExchange ended, boolean goOn) {
        if (!ctx.executor().inEventLoop()) {
            ctx.executor().execute(() -> exchangeEnded(ended, goOn));
            return;
        }
        if (exchange != ended) return;
        exchange = null;
        if (closeWhenAnswered) {
            ctx.channel().close();
            return;
        }
        if (discarding) return; // closed once the refused body is read
        if (!goOn) {
            ctx.channel().close();
            return;
        }
        while (exchange == null && !waiting.isEmpty()) {
            Object msg = waiting.poll();
            try {
                read(msg);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
        if (exchange == null && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
    }

    private void refuseMalformed(HttpResponseStatus status, String detail) {
        // Nothing of it is trusted (not even where its body ends): answer and close.
        discarding = true;
        malformed = true;
        HttpProblem problem = HttpProblem.badRequest(gateway.connectionName(), detail);
        FullHttpResponse response = problem.toResponse(gateway.dialect());
        response.setStatus(status);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(response).addListener(f -> ctx.channel().close());
        log.debug("refused a malformed request on {} from {}: {}", gateway.connectionName(), clientAddress, detail);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        AgentExchange current = exchange;
        if (current != null && ctx.channel().isWritable()) current.writable();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        AgentExchange current = exchange;
        if (current != null) current.agentLeft();
        Object msg;
        while ((msg = waiting.poll()) != null) ReferenceCountUtil.release(msg);
        super.channelInactive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        // An idle connection with nothing in flight is closed; one waiting for approval or upstream is not.
        if (evt instanceof IdleStateEvent && exchange == null) {
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("connection from {} on {} failed: {}", clientAddress, gateway.connectionName(), cause.toString());
        ctx.close();
    }
}
