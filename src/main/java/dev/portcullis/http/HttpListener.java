package dev.portcullis.http;

import dev.portcullis.config.HttpConnectionConfig;
import dev.portcullis.config.TlsConfig;
import dev.portcullis.gate.Gate;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * One HTTP connection's listener: a Jetty server on the connection's address, over TLS when the
 * connection has {@code tls:}, a virtual thread per request.
 */
public final class HttpListener implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;
    private final HttpUpstream upstream;

    private HttpListener(Server server, ServerConnector connector, HttpUpstream upstream) {
        this.server = server;
        this.connector = connector;
        this.upstream = upstream;
    }

    public static HttpListener start(HttpConnectionConfig connection, Gate gate, int maxRecordedResponseBytes) throws Exception {
        SslContextFactory.Server tls = connection.tls().isPresent() ? sslContextFactory(connection) : null;
        // Selectors and acceptors on a few platform threads; each request's blocking pipeline on a
        // virtual thread of its own.
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("http-" + connection.name());
        threads.setVirtualThreadsExecutor(Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("http-" + connection.name() + "-", 0).factory()));
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(false);
        http.setSendXPoweredBy(false);
        http.setRequestHeaderSize(16 * 1024);
        if (tls != null) {
            // Marks requests https, so the Link/Location headers rewritten to point at the gateway say so.
            http.addCustomizer(new SecureRequestCustomizer());
        }
        ServerConnector connector = tls == null
                ? new ServerConnector(server, 1, 1, new HttpConnectionFactory(http))
                : new ServerConnector(server, 1, 1, new SslConnectionFactory(tls, HttpVersion.HTTP_1_1.asString()),
                        new HttpConnectionFactory(http));
        InetSocketAddress listen = connection.listen();
        connector.setHost(listen.getHostString());
        connector.setPort(listen.getPort());
        connector.setAcceptQueueSize(1024);
        server.addConnector(connector);
        HttpUpstream upstream = new HttpUpstream(connection, maxRecordedResponseBytes);
        server.setHandler(new HttpGatewayHandler(connection, gate, upstream));
        server.setStopTimeout(5_000);
        try {
            server.start();
        } catch (Exception e) {
            upstream.close();
            throw new IllegalStateException("connection '" + connection.name() + "': cannot listen on "
                    + listen.getHostString() + ":" + listen.getPort() + ": " + e.getMessage(), e);
        }
        return new HttpListener(server, connector, upstream);
    }

    /** TLS 1.2 or 1.3 with the connection's key store; HTTP/1.1 only (no ALPN, so no HTTP/2). */
    private static SslContextFactory.Server sslContextFactory(HttpConnectionConfig connection) throws IOException {
        TlsConfig config = connection.tls().get();
        SslContextFactory.Server factory = new SslContextFactory.Server();
        try {
            factory.setKeyStore(config.load());
        } catch (IOException e) {
            throw new IOException("connection '" + connection.name() + "': " + e.getMessage(), e);
        }
        factory.setKeyStorePassword(config.password());
        factory.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        return factory;
    }

    /** The port actually bound (differs from the configured one when that was 0). */
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
        upstream.close();
    }
}
