package dev.portcullis.http;

import dev.portcullis.gate.Gate;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
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
        InetSocketAddress listen = connection.listen();
        ServerConnector connector = ListenerConnector.create(server, http, listen, connection.tls(),
                "connection '" + connection.name() + "'");
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
