package dev.portcullis.netagent;

import dev.portcullis.core.Tunnels;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's local end of the agents' tunnels: a loopback listener where an adapter connects, writes
 * the one-time ticket of the stream it opened, and then talks through it. A connection without a valid
 * ticket (another local process) is closed at once; a ticket nobody claims within 10 s closes its stream.
 * Each stream is two blocking copies on virtual threads: a side that stops reading holds the other back,
 * and SSH's per-channel window carries that to the agent for this stream alone.
 */
final class Bridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Bridge.class);
    static final int TICKET_BYTES = 16;

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("agent-bridge-", 0).factory());
    private final ScheduledExecutorService expiry = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("agent-bridge-expiry").factory());
    private final Map<String, ChannelDirectTcpip> pending = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    private Bridge(ServerSocket server) {
        this.server = server;
    }

    static Bridge start() throws IOException {
        ServerSocket server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        Bridge bridge = new Bridge(server);
        bridge.threads.execute(bridge::accept);
        return bridge;
    }

    /** A route to an opened stream: this listener's address and a fresh ticket for it. */
    Tunnels.Route register(ChannelDirectTcpip channel) {
        byte[] ticket = new byte[TICKET_BYTES];
        random.nextBytes(ticket);
        String key = HexFormat.of().formatHex(ticket);
        pending.put(key, channel);
        expiry.schedule(() -> {
            ChannelDirectTcpip unclaimed = pending.remove(key);
            if (unclaimed != null) unclaimed.close(true);
        }, 10, TimeUnit.SECONDS);
        return new Tunnels.Route(new InetSocketAddress(server.getInetAddress(), server.getLocalPort()), ticket);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                threads.execute(() -> serve(socket));
            } catch (IOException e) {
                if (!server.isClosed()) log.warn("agent bridge accept failed: {}", e.getMessage());
            }
        }
    }

    private void serve(Socket socket) {
        ChannelDirectTcpip channel;
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(5000);
            byte[] ticket = socket.getInputStream().readNBytes(TICKET_BYTES);
            channel = ticket.length == TICKET_BYTES ? pending.remove(HexFormat.of().formatHex(ticket)) : null;
            if (channel == null) {
                log.warn("agent bridge: a local connection without a valid ticket was closed");
                socket.close();
                return;
            }
            socket.setSoTimeout(0);
        } catch (IOException e) {
            closeQuietly(socket);
            return;
        }
        InputStream fromTarget = channel.getInvertedOut();
        OutputStream toTarget = channel.getInvertedIn();
        threads.execute(() -> {
            copy(fromTarget, socket);
            closeQuietly(socket);
            channel.close(false);
        });
        try {
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[32 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                toTarget.write(buffer, 0, n);
                toTarget.flush();
            }
        } catch (IOException e) {
            // either side went away
        } finally {
            closeQuietly(socket);
            channel.close(false);
        }
    }

    private static void copy(InputStream from, Socket to) {
        try {
            OutputStream out = to.getOutputStream();
            byte[] buffer = new byte[32 * 1024];
            for (int n; (n = from.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // either side went away
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        pending.values().forEach(c -> c.close(true));
        expiry.shutdownNow();
        threads.shutdownNow();
    }
}
