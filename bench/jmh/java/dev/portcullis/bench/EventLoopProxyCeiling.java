package dev.portcullis.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import java.net.InetSocketAddress;

/**
 * Not Portcullis: the ceiling of the design issue 10 names as the next step. An HTTP/1.1 proxy where
 * each agent connection and its upstream connection live on the same event loop thread, so a call
 * costs no thread wake-up. With {@code trail FILE} it also appends 1.5 KB per call to a file on that
 * thread (Portcullis's recording write, {@link CeilingTrail}). No token check, policy or masking: what it serves is the
 * most an event-loop gateway could serve here, to compare with nginx (bench/ceiling.sh).
 *
 * <p>Usage: {@code EventLoopProxyCeiling LISTEN_PORT UPSTREAM_PORT THREADS [trail FILE]}
 */
public final class EventLoopProxyCeiling {
    private EventLoopProxyCeiling() {
    }

    public static void main(String[] args) throws Exception {
        int listen = Integer.parseInt(args[0]);
        InetSocketAddress upstream = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
        int threads = Integer.parseInt(args[2]);
        CeilingTrail trail = CeilingTrail.fromArgs(args, 3);
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        new ServerBootstrap().group(loops).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                new Inbound(upstream, trail));
                    }
                }).bind(listen).sync();
        System.out.println("event-loop proxy ceiling on 127.0.0.1:" + listen + " -> " + upstream + ", " + threads
                + " loop thread(s)" + (trail == null ? "" : ", appending to " + trail.name()));
        Thread.currentThread().join();
    }

    /** One agent connection; its upstream connection is opened on the same loop at the first request. */
    private static final class Inbound extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final InetSocketAddress upstream;
        private final CeilingTrail trail;
        private Channel out;

        Inbound(InetSocketAddress upstream, CeilingTrail trail) {
            this.upstream = upstream;
            this.trail = trail;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            FullHttpRequest forwarded = request.retainedDuplicate();
            forwarded.headers().set(HttpHeaderNames.AUTHORIZATION, "SSWS bench-api-token");
            if (out != null && out.isActive()) {
                out.writeAndFlush(forwarded);
                return;
            }
            Channel in = ctx.channel();
            new Bootstrap().group(in.eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                    new SimpleChannelInboundHandler<FullHttpResponse>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext up, FullHttpResponse response) {
                                            if (trail != null) trail.append();
                                            HttpUtil.setKeepAlive(response, true);
                                            in.writeAndFlush(response.retainedDuplicate());
                                        }
                                    });
                        }
                    }).connect(upstream).addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            forwarded.release();
                            in.close();
                            return;
                        }
                        out = f.channel();
                        out.writeAndFlush(forwarded);
                    });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (out != null) out.close();
        }
    }
}
