package dev.portcullis.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * Not Portcullis: a PostgreSQL path's floor for a JVM gateway. A TCP relay on Netty's event loops (the transport and
 * loops Portcullis's PostgreSQL sessions use), each client connection and its server connection on one loop, bytes
 * passed through as read (one write per read, flushed when the read is done): no protocol parsing, login, policy,
 * masking or recording. What pgbench gets through it, in the same run as PgBouncer and Portcullis
 * ({@code RELAY=1 bench/postgres.sh}), separates what any JVM relay costs on this machine from what Portcullis's own
 * work per statement adds. With {@code trail FILE} it also appends 1.5 KB to a file for every read of a server's
 * answer, before passing it on ({@link CeilingTrail}, the stand-in for the trail's {@code write()}): the least a
 * relay that records each statement costs (a {@code pgbench -S} statement's answer is one read).
 *
 * <p>Usage: {@code TcpRelayCeiling LISTEN_PORT SERVER_PORT LOOPS [trail FILE]}
 */
public final class TcpRelayCeiling {
    private TcpRelayCeiling() {
    }

    public static void main(String[] args) throws Exception {
        int listen = Integer.parseInt(args[0]);
        int server = Integer.parseInt(args[1]);
        int loops = Integer.parseInt(args[2]);
        CeilingTrail trail = CeilingTrail.fromArgs(args, 3);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(loops, NioIoHandler.newFactory());
        new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel client) {
                        client.pipeline().addLast(new FromClient(client, server, trail));
                    }
                }).bind("127.0.0.1", listen).sync();
        System.out.println("TCP relay on 127.0.0.1:" + listen + " -> 127.0.0.1:" + server + ", " + loops + " loop(s)"
                + (trail == null ? "" : ", appending to " + trail.name()));
        Thread.currentThread().join();
    }

    /**
     * One side of a relayed pair: what it reads goes to the other side, flushed when the read is done; with a trail,
     * appended to first.
     */
    private static class Passing extends ChannelInboundHandlerAdapter {
        Channel to;
        private final CeilingTrail trail;

        Passing(Channel to, CeilingTrail trail) {
            this.to = to;
            this.trail = trail;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object bytes) {
            if (trail != null) trail.append();
            to.write(bytes);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            to.flush();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (to != null) to.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** A client's connection: opens the server's on the same loop, then starts reading (the server's side is {@code to}). */
    private static final class FromClient extends Passing {
        private final Channel client;
        private final int serverPort;
        /** Appended to for the server's answers (this side, the client's, appends nothing). */
        private final CeilingTrail answersTrail;

        FromClient(Channel client, int serverPort, CeilingTrail answersTrail) {
            super(null, null);
            this.client = client;
            this.serverPort = serverPort;
            this.answersTrail = answersTrail;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            new Bootstrap().group(client.eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new Passing(client, answersTrail))
                    .connect("127.0.0.1", serverPort)
                    .addListener((ChannelFutureListener) connected -> {
                        if (!connected.isSuccess()) {
                            client.close();
                            return;
                        }
                        to = connected.channel();
                        client.config().setAutoRead(true);
                    });
        }
    }
}
