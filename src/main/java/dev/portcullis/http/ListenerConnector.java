package dev.portcullis.http;

import dev.portcullis.config.TlsConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The Jetty connector of a listener people send their tokens to (an HTTP connection's, the admin's):
 * plain HTTP, or with {@code tls:} HTTPS only. One place, so both listeners speak the same TLS.
 */
public final class ListenerConnector {
    private ListenerConnector() {
    }

    /**
     * A connector on {@code listen} (not yet started) with one acceptor and one selector; with
     * {@code tls}, TLS 1.2 or 1.3 with its key store and HTTP/1.1 only (no ALPN, so no HTTP/2), and
     * requests marked https.
     *
     * @param listener names the listener in a key store problem, e.g. {@code connection 'okta'} or {@code admin}
     * @throws IOException the key store cannot be loaded; the message names the listener and the file
     */
    public static ServerConnector create(Server server, HttpConfiguration http, InetSocketAddress listen,
                                         Optional<TlsConfig> tls, String listener) throws IOException {
        ServerConnector connector;
        if (tls.isPresent()) {
            // Marks requests https, so URLs the gateway writes from the request (Link, Location) say so.
            http.addCustomizer(new SecureRequestCustomizer());
            connector = new ServerConnector(server, 1, 1,
                    new SslConnectionFactory(sslContextFactory(tls.get(), listener), HttpVersion.HTTP_1_1.asString()),
                    new HttpConnectionFactory(http));
        } else {
            connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        }
        connector.setHost(listen.getHostString());
        connector.setPort(listen.getPort());
        return connector;
    }

    private static SslContextFactory.Server sslContextFactory(TlsConfig config, String listener) throws IOException {
        SslContextFactory.Server factory = new SslContextFactory.Server();
        try {
            factory.setKeyStore(config.load());
        } catch (IOException e) {
            throw new IOException(listener + ": " + e.getMessage(), e);
        }
        factory.setKeyStorePassword(config.password());
        factory.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        return factory;
    }
}
