package dev.portcullis.http;

import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Operation;
import dev.portcullis.gate.Gate;
import dev.portcullis.masking.JsonMasker;
import dev.portcullis.masking.MaskPlan;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards an allowed call to the connection's upstream with the target's credential injected, and
 * answers the agent with the upstream's response, masked, with the upstream's URLs in headers and JSON
 * bodies pointed at the gateway ({@link UpstreamLinks}). The agent's own credential never leaves the
 * gateway.
 *
 * <p>The upstream connection lives on the agent connection's event loop (kept alive and reused by the
 * calls of that loop), so a call costs no thread hand-off: the request goes out, and the response is
 * parsed, masked, recorded and answered on the loop that read it. A response is gathered whole up to
 * {@link #STREAM_ABOVE_BYTES}; a longer one is streamed: passed through as it arrives, or masked on a
 * virtual thread reading from the loop, with the upstream paused while the agent reads slowly. Either
 * way the response completes only after it has been recorded.
 */
final class HttpUpstream implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpUpstream.class);

    /** Responses up to this size are gathered, masked and answered whole; larger ones are streamed. */
    static final int STREAM_ABOVE_BYTES = 256 * 1024;
    /** Idle upstream connections kept per event loop. */
    private static final int MAX_IDLE_PER_LOOP = 256;

    final HttpConnectionConfig connection;
    final URI base;
    final String host;
    final int port;
    private final dev.portcullis.core.Tunnels tunnels;
    final String hostHeader;
    private final String basePath;
    private final SslContext ssl;
    final int maxRecordedResponseBytes;
    final Executor blocking;
    final JsonMasker jsonMasker = new JsonMasker();
    final HttpDialect dialect;
    /** Where live streams are registered, so a session admin can end them; null in tests without a gate. */
    final Gate gate;
    private final Map<EventLoop, ArrayDeque<Channel>> idle = new ConcurrentHashMap<>();
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();

    HttpUpstream(HttpConnectionConfig connection, int maxRecordedResponseBytes, Executor blocking) throws SSLException {
        this(connection, maxRecordedResponseBytes, blocking, HttpDialect.REST, null, null, dev.portcullis.core.Tunnels.NONE);
    }

    /** {@code upstreamTls}: how to reach an https upstream (its CA, a client certificate); null: the JVM's trust store. */
    HttpUpstream(HttpConnectionConfig connection, int maxRecordedResponseBytes, Executor blocking, HttpDialect dialect,
                 SslContext upstreamTls, Gate gate, dev.portcullis.core.Tunnels tunnels) throws SSLException {
        this.connection = connection;
        this.tunnels = tunnels;
        this.dialect = dialect;
        this.gate = gate;
        this.base = connection.upstreamUrl();
        this.maxRecordedResponseBytes = maxRecordedResponseBytes;
        this.blocking = blocking;
        boolean https = base.getScheme().equalsIgnoreCase("https");
        this.host = base.getHost();
        this.port = base.getPort() != -1 ? base.getPort() : https ? 443 : 80;
        this.hostHeader = base.getPort() == -1 ? hostForHeader(host) : hostForHeader(host) + ":" + base.getPort();
        String path = base.getRawPath() == null ? "" : base.getRawPath();
        this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        // The JVM's trust store (javax.net.ssl.trustStore when set), the upstream's name checked.
        // With the credentials held by the network agent, the agent speaks TLS to the target (it adds them inside it).
        this.ssl = !https || connection.credentials().heldByAgent() ? null : upstreamTls != null ? upstreamTls
                : SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2").build();
    }

    private static String hostForHeader(String host) {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** Forwards the call; answers the exchange in every case. May be called from any thread. */
    void forward(AgentExchange exchange, HttpCall call, Operation operation, byte[] body, MaskPlan plan, Gate.Judged judged, long startNanos) {
        Runnable start;
        if (dialect.tunnels(operation) && exchange.request().headers().contains(HttpHeaderNames.UPGRADE)) {
            start = new UpstreamTunnel(this, exchange, call, operation, judged, startNanos)::start;
        } else {
            start = new UpstreamCall(this, exchange, call, operation, body, plan, judged, startNanos)::start;
        }
        EventLoop loop = exchange.loop();
        if (loop.inEventLoop()) start.run();
        else loop.execute(start);
    }

    // ---------------------------------------------------------------------------------------------
    // Upstream connections: opened on the agent's loop, kept alive on it while idle.

    Channel idleChannel(EventLoop loop) {
        ArrayDeque<Channel> channels = idle.get(loop);
        if (channels == null) return null;
        Channel c;
        while ((c = channels.pollLast()) != null) {
            if (c.isActive()) return c;
        }
        return null;
    }

    void release(Channel c, boolean reusable) {
        Handler handler = c.pipeline().get(Handler.class);
        if (handler != null) handler.call = null;
        if (!reusable || !c.isActive()) {
            c.close();
            return;
        }
        c.config().setAutoRead(true);
        ArrayDeque<Channel> channels = idle.computeIfAbsent(c.eventLoop(), l -> new ArrayDeque<>());
        if (channels.size() >= MAX_IDLE_PER_LOOP) {
            c.close();
            return;
        }
        channels.addLast(c);
    }

    /**
     * Opens an upstream connection on {@code loop} whose responses go to the handler {@code last} makes:
     * straight to the upstream, or through its network agent (the tunnel's local end, its ticket written
     * before anything else, TLS included). {@code done} runs on the loop with the channel, or with why not.
     */
    void connect(EventLoop loop, java.util.function.Supplier<io.netty.channel.ChannelHandler> last,
                 java.util.function.BiConsumer<Channel, Throwable> done) {
        if (connection.via().isEmpty()) {
            bootstrap(loop, last).connect(host, port).addListener((io.netty.channel.ChannelFutureListener) f ->
                    done.accept(f.channel(), f.isSuccess() ? null : f.cause()));
            return;
        }
        String agent = connection.via().get();
        tunnels.open(agent, host, port).whenComplete((route, failure) -> loop.execute(() -> {
            if (failure != null) {
                done.accept(null, failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : failure);
                return;
            }
            Bootstrap b = bootstrap(loop, last, route.ticket());
            b.connect(route.address()).addListener((io.netty.channel.ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    done.accept(f.channel(), new dev.portcullis.core.Tunnels.Unavailable(agent, "the tunnel's local end refused: " + describe(f.cause())));
                    return;
                }
                // The ticket goes first, below TLS (written from its own place at the head of the pipeline),
                // before whoever asked for the connection writes anything.
                io.netty.channel.ChannelHandlerContext head = f.channel().pipeline().context(Ticket.class);
                head.writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(route.ticket()));
                f.channel().pipeline().remove(Ticket.class);
                done.accept(f.channel(), null);
            });
        }));
    }

    /** The reader of an upstream connection that serves calls (not a tunnel). */
    io.netty.channel.ChannelHandler newHandler() {
        return new Handler();
    }

    /** Why no upstream connection was made, as the agent's problem says it: its agent's, or the upstream's own. */
    static String connectFailure(Throwable failure) {
        return failure instanceof dev.portcullis.core.Tunnels.Unavailable
                ? "cannot be reached: " + failure.getMessage() : "did not answer: " + describe(failure);
    }

    /** Marks the place, at the head of a tunnelled connection's pipeline, from which its ticket is written. */
    private static final class Ticket extends io.netty.channel.ChannelHandlerAdapter {
    }

    Bootstrap bootstrap(EventLoop loop, java.util.function.Supplier<io.netty.channel.ChannelHandler> last) {
        return bootstrap(loop, last, null);
    }

    private Bootstrap bootstrap(EventLoop loop, java.util.function.Supplier<io.netty.channel.ChannelHandler> last, byte[] ticket) {
        return new Bootstrap().group(loop).channel(Transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connection.connectTimeout().toMillis()))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ticket != null) ch.pipeline().addLast(new Ticket());
                        if (ssl != null) {
                            SslHandler tls = ssl.newHandler(ch.alloc(), host, port);
                            SSLEngine engine = tls.engine();
                            SSLParameters params = engine.getSSLParameters();
                            params.setEndpointIdentificationAlgorithm("HTTPS");
                            engine.setSSLParameters(params);
                            ch.pipeline().addLast(tls);
                        }
                        ch.pipeline().addLast(new HttpClientCodec(4096, 64 * 1024, 16 * 1024), last.get());
                        open.add(ch);
                        ch.closeFuture().addListener(f -> open.remove(ch));
                    }
                });
    }

    /** One upstream connection's reader: hands what it reads to the call it is serving. */
    final class Handler extends ChannelInboundHandlerAdapter {
        UpstreamCall call;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            UpstreamCall current = call;
            if (current == null) {
                ReferenceCountUtil.release(msg); // nothing asked: an idle connection talks, so it is not reused
                ctx.close();
                return;
            }
            current.read(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            UpstreamCall current = call;
            if (current != null) current.upstreamClosed(null);
            ArrayDeque<Channel> channels = idle.get(ctx.channel().eventLoop());
            if (channels != null) channels.remove(ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            UpstreamCall current = call;
            ctx.close();
            if (current != null) current.upstreamClosed(cause);
        }
    }

    /** The upstream request: the agent's end-to-end headers, the target's credential in place of the agent's. */
    FullHttpRequest request(AgentExchange exchange, HttpCall call, Operation operation, byte[] body) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(call.method()),
                target(call), body.length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body), false);
        HttpHeaders h = request.headers();
        HttpHeaders agent = exchange.request().headers();
        Set<String> hopByHop = connectionTokens(agent);
        for (Map.Entry<String, String> f : agent) {
            String name = f.getKey();
            if (UpstreamHeaders.forwardUpstream(name, connection.credentials().header())
                    && (hopByHop.isEmpty() || !hopByHop.contains(name.toLowerCase(Locale.ROOT)))) {
                h.add(name, f.getValue());
            }
        }
        h.set(HttpHeaderNames.HOST, hostHeader);
        if (!connection.credentials().heldByAgent()) h.set(connection.credentials().header(), connection.credentials().value());
        if (body.length > 0 || hasBody(call.method())) {
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            if (body.length > 0 && !h.contains(HttpHeaderNames.CONTENT_TYPE)) {
                h.set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
            }
        }
        dialect.upstreamRequest(operation, h);
        return request;
    }

    /** The upstream's response headers that cross to the agent, with their URLs pointed at the gateway. */
    static void copyDownstream(HttpHeaders from, HttpHeaders to, java.util.function.Supplier<UpstreamLinks> links) {
        UpstreamLinks rewrite = null;
        for (Map.Entry<String, String> f : from) {
            String name = f.getKey();
            if (!UpstreamHeaders.forwardDownstream(name)) continue;
            if (UpstreamLinks.carriesUrls(name)) {
                if (rewrite == null) rewrite = links.get();
                to.add(name, rewrite.header(name, f.getValue()));
            } else {
                to.add(name, f.getValue());
            }
        }
    }

    String target(HttpCall call) {
        String q = call.rawQuery().isEmpty() ? "" : "?" + call.rawQuery();
        String path = basePath + encodePath(call.path());
        return (path.isEmpty() ? "/" : path) + q;
    }

    private static String encodePath(String decodedPath) {
        // Re-encode what policy judged (the decoded path), so upstream sees exactly that path.
        StringBuilder sb = new StringBuilder(decodedPath.length() + 8);
        for (byte b : decodedPath.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-._~/!$&'()*+,;=:@".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    /** The header names an agent's {@code Connection} header lists: hop-by-hop, not forwarded (RFC 9110, 7.6.1). */
    static Set<String> connectionTokens(HttpHeaders headers) {
        Set<String> tokens = null;
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String t = token.strip().toLowerCase(Locale.ROOT);
                if (t.isEmpty()) continue;
                if (tokens == null) tokens = new HashSet<>();
                tokens.add(t);
            }
        }
        return tokens == null ? Set.of() : tokens;
    }

    static boolean hasBody(String method) {
        return method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
    }

    static boolean idempotent(String method) {
        return method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS");
    }

    static boolean hasContent(HttpResponseStatus status) {
        int code = status.code();
        return code >= 200 && code != 204 && code != 304;
    }

    static String describe(Throwable e) {
        if (e == null) return "unknown failure";
        Throwable cause = e.getCause() != null && e.getMessage() != null && e.getMessage().startsWith("io.netty") ? e.getCause() : e;
        if (cause instanceof io.netty.channel.ConnectTimeoutException) return "timed out connecting";
        String message = cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    @Override
    public void close() {
        for (Channel c : open) c.close();
    }
}
