package dev.portcullis.dev;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;

/** A Jetty server bound to loopback only, one virtual thread per request, so handlers may block. */
final class LocalServer implements AutoCloseable {
    private final Server server;
    private final URI baseUri;

    private LocalServer(Server server, URI baseUri) {
        this.server = server;
        this.baseUri = baseUri;
    }

    static LocalServer start(String name, int port, Handler handler) {
        var threads = new VirtualThreadPool();
        threads.setName(name);
        var server = new Server(threads);
        var connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(handler);
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException(new IOException(name + " could not listen on 127.0.0.1:" + port, e));
        }
        return new LocalServer(server, URI.create("http://127.0.0.1:" + connector.getLocalPort()));
    }

    /** {@code http://127.0.0.1:PORT}, no trailing slash. */
    URI baseUri() {
        return baseUri;
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping " + baseUri, e);
        }
    }
}
