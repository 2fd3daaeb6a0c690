package dev.portcullis.postgres;

import dev.portcullis.config.TlsConfig;
import dev.portcullis.gate.Gate;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.security.KeyStore;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One PostgreSQL connection's listener: accepts agents, one virtual thread per client connection. */
public final class PgListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgListener.class);

    private final ServerSocketChannel server;
    private final ExecutorService sessions;
    private final ColumnCatalog catalog;
    private final Thread acceptor;

    private PgListener(ServerSocketChannel server, ExecutorService sessions, ColumnCatalog catalog, Thread acceptor) {
        this.server = server;
        this.sessions = sessions;
        this.catalog = catalog;
        this.acceptor = acceptor;
    }

    /**
     * @throws IllegalStateException when PostgreSQL's parser (libpg_query) is not installed: the gateway then
     *                               stops at start-up instead of reporting ready and refusing every statement
     */
    public static PgListener start(PostgresConnectionConfig config, Gate gate, dev.portcullis.core.Tunnels tunnels) throws IOException {
        dev.portcullis.sql.SqlParser.requireAvailable();
        SSLContext tls = config.tls().isPresent() ? sslContext(config) : null;
        InetSocketAddress listen = config.listen();
        // A channel, so that a logged-in session's connection can move onto an event loop (PgLoop).
        ServerSocketChannel server = ServerSocketChannel.open();
        server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        try {
            server.bind(new InetSocketAddress(InetAddress.getByName(listen.getHostString()), listen.getPort()), 1024);
        } catch (IOException e) {
            server.close();
            throw new IOException("connection '" + config.name() + "': cannot listen on " + listen.getHostString() + ":"
                    + listen.getPort() + ": " + e.getMessage(), e);
        }
        ExecutorService sessions = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("pg-" + config.name() + "-", 0).factory());
        UpstreamDialer dialer = new UpstreamDialer(config.upstream(), tunnels);
        ColumnCatalog catalog = new ColumnCatalog(config, dialer);
        CancelRegistry cancels = new CancelRegistry();
        Thread acceptor = Thread.ofPlatform().daemon().name("pg-" + config.name() + "-accept").start(() -> {
            while (server.isOpen()) {
                try {
                    Socket socket = server.accept().socket();
                    socket.setTcpNoDelay(true);
                    sessions.execute(new PgSession(socket, config, gate, cancels, catalog, tls, dialer));
                } catch (IOException e) {
                    if (server.isOpen()) log.warn("accept on {} failed: {}", config.name(), e.getMessage());
                }
            }
        });
        return new PgListener(server, sessions, catalog, acceptor);
    }

    private static SSLContext sslContext(PostgresConnectionConfig config) throws IOException {
        TlsConfig tls = config.tls().get();
        KeyStore store;
        try {
            store = tls.load();
        } catch (IOException e) {
            throw new IOException("connection '" + config.name() + "': " + e.getMessage(), e);
        }
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, tls.password().toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("connection '" + config.name() + "': cannot use the TLS key store " + tls.keystore()
                    + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.socket().getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.close();
        acceptor.join(2_000);
        sessions.shutdownNow();
        catalog.close();
    }
}
