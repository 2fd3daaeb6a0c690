package dev.portcullis.dev;

import dev.portcullis.core.HttpCall;
import dev.portcullis.core.KubeRequest;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdyGoAwayFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The front door of the Kubernetes API stand-in: a connection whose first request upgrades to a pod's
 * {@code exec}, {@code attach} or {@code portforward} stream is served here (a port-forward's ports echo), over WebSocket (channel protocols v4 and v5, what
 * kubectl 1.30 and later use) or SPDY/3.1 (what kubectl up to 1.29 uses), with a {@link StandInContainer}
 * at the other end; every other connection is relayed byte for byte to the stand-in's HTTP server.
 */
final class KubeExecFront implements AutoCloseable {
    /** What the stand-in decides for the front: who may call, and the request log. */
    interface Api {
        boolean authorized(String authorization);

        void received(String method, String path, String query, String authorization);

        boolean podExists(String namespace, String name);
    }

    private static final String WS_PROTOCOLS = "v5.channel.k8s.io,v4.channel.k8s.io";

    private final EventLoopGroup loops;
    private final Channel server;
    /** Every connection the front has: its clients' and its own to the backend, closed explicitly on close. */
    private final ChannelGroup connections;

    private KubeExecFront(EventLoopGroup loops, Channel server, ChannelGroup connections) {
        this.loops = loops;
        this.server = server;
        this.connections = connections;
    }

    static KubeExecFront start(int port, URI backend, Api api) {
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        try {
            Channel server = new ServerBootstrap().group(loops).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            connections.add(ch);
                            ch.pipeline().addLast(new Sniffer(backend, api, connections));
                        }
                    }).bind("127.0.0.1", port).sync().channel();
            return new KubeExecFront(loops, server, connections);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            loops.shutdownGracefully();
            throw new IllegalStateException(e);
        } catch (RuntimeException e) {
            loops.shutdownGracefully();
            throw new IllegalStateException("the Kubernetes API stand-in could not listen on 127.0.0.1:" + port + ": " + e.getMessage(), e);
        }
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        // A dying cluster cuts its clients: every connection is closed here, and its close awaited, before the
        // loops stop, rather than left to the loops' shutdown (a watch through the front was once never seen to end).
        server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Reads the first request's head, then hands the connection to the exec server or the relay. */
    private static final class Sniffer extends ByteToMessageDecoder {
        private final URI backend;
        private final Api api;
        private final ChannelGroup connections;

        Sniffer(URI backend, Api api, ChannelGroup connections) {
            this.backend = backend;
            this.api = api;
            this.connections = connections;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            int end = indexOf(in, "\r\n\r\n");
            if (end < 0) {
                if (in.readableBytes() > 64 * 1024) ctx.close();
                return;
            }
            String head = in.toString(in.readerIndex(), end, StandardCharsets.ISO_8859_1);
            String requestLine = head.substring(0, Math.max(0, head.indexOf("\r\n")));
            String lower = head.toLowerCase(Locale.ROOT);
            boolean upgrade = lower.contains("\r\nupgrade:");
            String target = requestLine.split(" ").length > 1 ? requestLine.split(" ")[1] : "";
            String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            if (upgrade && path.matches("/api/v1/namespaces/[^/]+/pods/[^/]+/(exec|attach|portforward)")) {
                ctx.pipeline().addAfter(ctx.name(), "http", new HttpServerCodec());
                ctx.pipeline().addAfter("http", "aggregate", new HttpObjectAggregator(64 * 1024));
                ctx.pipeline().addAfter("aggregate", "upgrade", new Upgrade(api));
                ctx.pipeline().remove(this); // what was read goes on to the codec
            } else {
                ctx.channel().config().setAutoRead(false);
                ChannelHandlerContext self = ctx;
                new Bootstrap().group(ctx.channel().eventLoop()).channel(NioSocketChannel.class)
                        .option(ChannelOption.TCP_NODELAY, true)
                        .handler(new Relay(ctx.channel()))
                        .connect(backend.getHost(), backend.getPort()).addListener((ChannelFutureListener) f -> {
                            if (!f.isSuccess()) {
                                self.close();
                                return;
                            }
                            connections.add(f.channel());
                            self.pipeline().addAfter(self.name(), "relay", new Relay(f.channel()));
                            self.pipeline().remove(Sniffer.this);
                            self.channel().config().setAutoRead(true);
                        });
            }
        }

        private static int indexOf(ByteBuf in, String marker) {
            byte[] m = marker.getBytes(StandardCharsets.US_ASCII);
            outer:
            for (int i = in.readerIndex(), last = in.writerIndex() - m.length; i <= last; i++) {
                for (int j = 0; j < m.length; j++) if (in.getByte(i + j) != m[j]) continue outer;
                return i - in.readerIndex();
            }
            return -1;
        }
    }

    /**
     * Copies what one side reads to the other; either closing closes both. A side stops reading while
     * the other cannot take more, as a real API server's connection does (a client that stops reading
     * holds the server back, it is not buffered for).
     */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel other;

        Relay(Channel other) {
            this.other = other;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            other.writeAndFlush(msg);
            if (!other.isWritable()) ctx.channel().config().setAutoRead(false);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) other.config().setAutoRead(true); // the side that waited for this one reads on
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            other.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The upgrade request of an exec or attach: checked, then switched to WebSocket or SPDY. */
    private static final class Upgrade extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Api api;

        Upgrade(Api api) {
            this.api = api;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            URI uri = URI.create(req.uri());
            String query = uri.getRawQuery() == null ? "" : uri.getRawQuery();
            String authorization = req.headers().get(HttpHeaderNames.AUTHORIZATION, "");
            api.received(req.method().name(), uri.getPath(), query, authorization);
            if (!api.authorized(authorization)) {
                refuse(ctx, HttpResponseStatus.UNAUTHORIZED, "Unauthorized");
                return;
            }
            KubeRequest r = KubeRequest.parse(req.method().name(), uri.getPath(), query);
            if (!api.podExists(r.namespace(), r.name())) {
                refuse(ctx, HttpResponseStatus.NOT_FOUND, "pods \"" + r.name() + "\" not found");
                return;
            }
            if (r.verb().equals("portforward")) {
                portForward(ctx, req);
                return;
            }
            Map<String, List<String>> q = HttpCall.parseQuery(query);
            List<String> command = r.verb().equals("attach") ? List.of("sh") : q.getOrDefault("command", List.of());
            boolean stdin = truthy(q, "stdin");
            boolean tty = truthy(q, "tty");
            String upgrade = req.headers().get(HttpHeaderNames.UPGRADE, "");
            if (upgrade.equalsIgnoreCase("websocket")) {
                WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory("ws://stand-in" + req.uri(), WS_PROTOCOLS, false, 1 << 20)
                        .newHandshaker(req);
                if (handshaker == null) {
                    WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                    return;
                }
                Channel ch = ctx.channel();
                handshaker.handshake(ch, req).addListener(f -> {
                    if (!f.isSuccess()) {
                        ch.close();
                        return;
                    }
                    ch.pipeline().addLast(new WebSocketExec(r.name(), command, "v5.channel.k8s.io".equals(handshaker.selectedSubprotocol())));
                });
                ctx.pipeline().remove(this);
            } else if (upgrade.equalsIgnoreCase("SPDY/3.1")) {
                FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
                ok.headers().set(HttpHeaderNames.CONNECTION, "Upgrade").set(HttpHeaderNames.UPGRADE, "SPDY/3.1")
                        .set("X-Stream-Protocol-Version", "v4.channel.k8s.io");
                ctx.writeAndFlush(ok);
                ctx.pipeline().remove("aggregate");
                ctx.pipeline().replace("http", "spdy", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
                ctx.pipeline().replace(this, "exec", new SpdyExec(r.name(), command, stdin, tty, truthy(q, "stdout"), truthy(q, "stderr")));
            } else {
                refuse(ctx, HttpResponseStatus.BAD_REQUEST, "Upgrade request required");
            }
        }

        /**
         * Port-forward: SPDY/3.1 streams (kubectl up to 1.30), or the same SPDY tunnelled in WebSocket binary
         * messages ({@code SPDY/3.1+portforward.k8s.io}, kubectl 1.31 and later). Every port of the pod echoes.
         */
        private void portForward(ChannelHandlerContext ctx, FullHttpRequest req) {
            String upgrade = req.headers().get(HttpHeaderNames.UPGRADE, "");
            if (upgrade.equalsIgnoreCase("websocket")) {
                WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory("ws://stand-in" + req.uri(),
                        "SPDY/3.1+portforward.k8s.io", false, 1 << 20).newHandshaker(req);
                if (handshaker == null) {
                    WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                    return;
                }
                Channel ch = ctx.channel();
                handshaker.handshake(ch, req).addListener(f -> {
                    if (!f.isSuccess()) {
                        ch.close();
                        return;
                    }
                    ch.pipeline().addLast(new WebSocketBytes(), new SpdyFrameCodec(SpdyVersion.SPDY_3_1), new SpdyPortForward());
                });
                ctx.pipeline().remove(this);
            } else if (upgrade.equalsIgnoreCase("SPDY/3.1")) {
                FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
                ok.headers().set(HttpHeaderNames.CONNECTION, "Upgrade").set(HttpHeaderNames.UPGRADE, "SPDY/3.1")
                        .set("X-Stream-Protocol-Version", "portforward.k8s.io");
                ctx.writeAndFlush(ok);
                ctx.pipeline().remove("aggregate");
                ctx.pipeline().replace("http", "spdy", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
                ctx.pipeline().replace(this, "forward", new SpdyPortForward());
            } else {
                refuse(ctx, HttpResponseStatus.BAD_REQUEST, "Upgrade request required");
            }
        }

        private static boolean truthy(Map<String, List<String>> q, String name) {
            List<String> v = q.get(name);
            return v != null && !v.isEmpty() && (v.getFirst().equals("1") || v.getFirst().equalsIgnoreCase("true"));
        }

        private static void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
            byte[] body = ("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\""
                    + message.replace("\"", "\\\"") + "\",\"code\":" + status.code() + "}").getBytes(StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                    .set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Exec over WebSocket: each binary message starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize; v5: 255 close). */
    private static final class WebSocketExec extends SimpleChannelInboundHandler<WebSocketFrame> {
        private final String pod;
        private final List<String> command;
        private final boolean v5;
        private StandInContainer container;
        private boolean done;

        WebSocketExec(String pod, List<String> command, boolean v5) {
            this.pod = pod;
            this.command = command;
            this.v5 = v5;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            container = new StandInContainer(pod, command, b -> send(ctx, 1, b), b -> send(ctx, 2, b));
            if (container.start()) finish(ctx);
        }

        private static void send(ChannelHandlerContext ctx, int channel, byte[] bytes) {
            ByteBuf b = Unpooled.buffer(bytes.length + 1).writeByte(channel).writeBytes(bytes);
            ctx.writeAndFlush(new BinaryWebSocketFrame(b));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof PingWebSocketFrame ping) {
                ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
                return;
            }
            if (frame instanceof CloseWebSocketFrame) {
                ctx.close();
                return;
            }
            ByteBuf c = frame.content();
            if (done || !c.isReadable()) return;
            int channel = c.readUnsignedByte();
            byte[] rest = new byte[c.readableBytes()];
            c.readBytes(rest);
            boolean finished = switch (channel) {
                case 0 -> container.input(rest);
                case 255 -> v5 && rest.length > 0 && rest[0] == 0 && container.endOfInput();
                default -> false; // resize and anything else
            };
            if (finished) finish(ctx);
        }

        private void finish(ChannelHandlerContext ctx) {
            if (done) return;
            done = true;
            send(ctx, 3, StandInContainer.status(container.exitCode()).getBytes(StandardCharsets.UTF_8));
            ctx.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** WebSocket binary messages as a byte stream, and bytes written back as binary messages. */
    private static final class WebSocketBytes extends io.netty.channel.ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof BinaryWebSocketFrame frame) {
                ctx.fireChannelRead(frame.content());
            } else if (msg instanceof CloseWebSocketFrame close) {
                close.release();
                ctx.close();
            } else {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
            ctx.write(msg instanceof ByteBuf b ? new BinaryWebSocketFrame(b) : msg, promise);
        }
    }

    /** Port-forward's SPDY streams: an error and a data stream per connection kubectl accepts; the data echoes. */
    private static final class SpdyPortForward extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof SpdySynStreamFrame syn) {
                    DefaultSpdySynReplyFrame reply = new DefaultSpdySynReplyFrame(syn.streamId());
                    String type = syn.headers().getAsString("streamtype");
                    reply.headers().set("streamtype", type == null ? "" : type);
                    ctx.writeAndFlush(reply);
                } else if (msg instanceof SpdyDataFrame data) {
                    DefaultSpdyDataFrame echo = new DefaultSpdyDataFrame(data.streamId(), data.content().retain());
                    echo.setLast(data.isLast());
                    ctx.writeAndFlush(echo);
                }
            } finally {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Exec over SPDY/3.1: the client opens one stream per channel (streamtype error, stdin, stdout, stderr, resize). */
    private static final class SpdyExec extends ChannelInboundHandlerAdapter {
        private final String pod;
        private final List<String> command;
        private final Set<String> expected = new LinkedHashSet<>();
        private final Map<String, Integer> streams = new HashMap<>();
        private StandInContainer container;
        private boolean done;

        SpdyExec(String pod, List<String> command, boolean stdin, boolean tty, boolean stdout, boolean stderr) {
            this.pod = pod;
            this.command = command;
            expected.add("error");
            if (stdin) expected.add("stdin");
            if (stdout) expected.add("stdout");
            if (stderr && !tty) expected.add("stderr");
            if (tty) expected.add("resize");
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof SpdySynStreamFrame syn) {
                    String type = syn.headers().getAsString("streamtype");
                    // Go's SPDY framer reads a header block even when it holds no header; Netty writes none for an empty one.
                    DefaultSpdySynReplyFrame reply = new DefaultSpdySynReplyFrame(syn.streamId());
                    reply.headers().set("streamtype", type == null ? "" : type);
                    ctx.writeAndFlush(reply);
                    if (type != null) streams.put(type, syn.streamId());
                    if (container == null && streams.keySet().containsAll(expected)) {
                        container = new StandInContainer(pod, command, b -> data(ctx, "stdout", b), b -> data(ctx, "stderr", b));
                        if (container.start()) finish(ctx);
                    }
                } else if (msg instanceof SpdyDataFrame data && container != null && !done) {
                    Integer stdin = streams.get("stdin");
                    if (stdin != null && data.streamId() == stdin) {
                        byte[] bytes = new byte[data.content().readableBytes()];
                        data.content().readBytes(bytes);
                        boolean finished = bytes.length > 0 && container.input(bytes);
                        if (!finished && data.isLast()) finished = container.endOfInput();
                        if (finished) finish(ctx);
                    }
                }
            } finally {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }

        private void data(ChannelHandlerContext ctx, String type, byte[] bytes) {
            Integer id = streams.getOrDefault(type, streams.get("stdout"));
            if (id != null) ctx.writeAndFlush(new DefaultSpdyDataFrame(id, Unpooled.wrappedBuffer(bytes)));
        }

        private void finish(ChannelHandlerContext ctx) {
            if (done) return;
            done = true;
            for (String type : List.of("stdout", "stderr")) {
                Integer id = streams.get(type);
                if (id != null) ctx.write(new DefaultSpdyDataFrame(id).setLast(true));
            }
            DefaultSpdyDataFrame status = new DefaultSpdyDataFrame(streams.get("error"),
                    Unpooled.copiedBuffer(StandInContainer.status(container.exitCode()), StandardCharsets.UTF_8));
            status.setLast(true);
            ctx.writeAndFlush(status);
            ctx.channel().eventLoop().schedule(() -> ctx.writeAndFlush(new DefaultSpdyGoAwayFrame(0))
                    .addListener(ChannelFutureListener.CLOSE), 200, TimeUnit.MILLISECONDS);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
