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
        return start(name, "127.0.0.1", port, null, handler);
    }

    /**
     * @param bind      the address to listen on ({@code 0.0.0.0} only inside a container network)
     * @param publicUrl how clients reach it (a container's service name), or null for {@code http://BIND:PORT}
     */
    static LocalServer start(String name, String bind, int port, URI publicUrl, Handler handler) {
        var threads = new VirtualThreadPool();
        threads.setName(name);
        var server = new Server(threads);
        var connector = new ServerConnector(server);
        connector.setHost(bind);
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
            throw new UncheckedIOException(new IOException(name + " could not listen on " + bind + ":" + port, e));
        }
        URI base = publicUrl != null ? URI.create(publicUrl.toString().replaceAll("/+$", ""))
                : URI.create("http://" + bind + ":" + connector.getLocalPort());
        return new LocalServer(server, base);
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
