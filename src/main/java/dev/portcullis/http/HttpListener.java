package dev.portcullis.http;

import dev.portcullis.config.TlsConfig;
import dev.portcullis.gate.Gate;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;

/**
 * One HTTP connection's listener: agents' HTTP/1.1 connections (over TLS 1.2 or 1.3 when the connection
 * has {@code tls:}) on a few Netty event loops, one per core. An agent's connection and the upstream
 * connections its calls use share a loop, so a call is read, decided, forwarded, answered, masked and
 * recorded without a thread hand-off; what may wait runs on virtual threads ({@link HttpGatewayHandler}).
 */
public final class HttpListener implements AutoCloseable {
    /** An agent connection with nothing in flight is closed after this long without a byte. */
    static final int IDLE_SECONDS = 60;

    private final EventLoopGroup loops;
    private final Channel server;
    private final ChannelGroup agents;
    private final HttpUpstream upstream;
    private final ExecutorService blocking;

    private HttpListener(EventLoopGroup loops, Channel server, ChannelGroup agents, HttpUpstream upstream, ExecutorService blocking) {
        this.loops = loops;
        this.server = server;
        this.agents = agents;
        this.upstream = upstream;
        this.blocking = blocking;
    }

    public static HttpListener start(HttpConnectionConfig connection, Gate gate, int maxRecordedResponseBytes) throws Exception {
        return start(connection, gate, maxRecordedResponseBytes, HttpDialect.REST, null);
    }

    /**
     * A listener for a protocol carried over HTTP ({@code dialect}); {@code upstreamTls}: how to reach an
     * https upstream (its CA, a client certificate), null for the JVM's trust store.
     */
    public static HttpListener start(HttpConnectionConfig connection, Gate gate, int maxRecordedResponseBytes, HttpDialect dialect,
                                     SslContext upstreamTls) throws Exception {
        return start(connection, gate, maxRecordedResponseBytes, dialect, upstreamTls, dev.portcullis.core.Tunnels.NONE);
    }

    /** {@code tunnels}: the network agents' tunnels, for an upstream that goes {@code via: agent NAME}. */
    public static HttpListener start(HttpConnectionConfig connection, Gate gate, int maxRecordedResponseBytes, HttpDialect dialect,
                                     SslContext upstreamTls, dev.portcullis.core.Tunnels tunnels) throws Exception {
        String name = connection.name();
        String prefix = dialect.protocol() + "-" + name;
        SslContext tls = connection.tls().isPresent() ? serverTls(connection.tls().get(), "connection '" + name + "'") : null;
        ExecutorService blocking = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(prefix + "-", 0).factory());
        HttpUpstream upstream = new HttpUpstream(connection, maxRecordedResponseBytes, blocking, dialect, upstreamTls, gate, tunnels);
        HttpGatewayHandler gateway = new HttpGatewayHandler(connection, gate, upstream, blocking, dialect);
        int threads = Integer.getInteger("portcullis.http.event-loops", Math.max(1, Runtime.getRuntime().availableProcessors()));
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(prefix + "-loop", true),
                Transport.ioHandler());
        ChannelGroup agents = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        InetSocketAddress listen = connection.listen();
        Channel server;
        try {
            server = new ServerBootstrap().group(loops).channel(Transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            agents.add(ch);
                            if (tls != null) ch.pipeline().addLast(new PlaintextOnTlsPort(), tls.newHandler(ch.alloc()));
                            ch.pipeline().addLast(
                                    new HttpServerCodec(new HttpDecoderConfig()
                                            .setMaxInitialLineLength(16 * 1024)
                                            .setMaxHeaderSize(16 * 1024)
                                            .setMaxChunkSize(16 * 1024)),
                                    new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS),
                                    new AgentConnection(gateway, connection.maxRequestBytes(), tls != null));
                        }
                    })
                    .bind(listen.isUnresolved() ? new InetSocketAddress(listen.getHostString(), listen.getPort()) : listen)
                    .sync().channel();
        } catch (Exception e) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            upstream.close();
            blocking.shutdownNow();
            throw new IllegalStateException("connection '" + name + "': cannot listen on "
                    + listen.getHostString() + ":" + listen.getPort() + ": " + HttpUpstream.describe(e), e);
        }
        return new HttpListener(loops, server, agents, upstream, blocking);
    }

    /** TLS 1.2 or 1.3 with the connection's key store; HTTP/1.1 only (no ALPN, so no HTTP/2). */
    private static SslContext serverTls(TlsConfig config, String listener) throws IOException {
        try {
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(config.load(), config.password().toCharArray());
            return SslContextBuilder.forServer(keys).sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2").build();
        } catch (IOException e) {
            throw new IOException(listener + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IOException(listener + ": the key store cannot be used: " + e.getMessage(), e);
        }
    }

    /** The port actually bound (differs from the configured one when that was 0). */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() throws Exception {
        server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        agents.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        upstream.close();
        loops.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        blocking.shutdownNow();
    }
}
