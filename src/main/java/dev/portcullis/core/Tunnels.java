package dev.portcullis.core;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How a protocol adapter reaches a target through a network agent ({@code upstream.via: agent NAME}):
 * the agent, which dialled out to the gateway, opens the connection to the target from inside its own
 * network, and the adapter gets a local {@link Route} to it. A route is a loopback address and a
 * one-time ticket: the adapter connects there, writes the ticket first, and then talks to the target as
 * if it had connected to it directly (TLS and all), so every adapter keeps its own client code.
 */
public interface Tunnels {
    /** Without an agent listener: every route is refused, saying why. */
    Tunnels NONE = (agent, host, port) -> CompletableFuture.failedFuture(new Unavailable(agent,
            "no network agent listener is configured (agents.listen)"));

    /**
     * Opens a connection to {@code host:port} through agent {@code agent}: completes once the agent has
     * connected to the target, or fails with {@link Unavailable} saying why (the agent is offline, its
     * allow-list refuses the target, the target cannot be reached from there).
     */
    CompletableFuture<Route> open(String agent, String host, int port);

    /** Where to connect and what to write first: the ticket is good once, for a few seconds. */
    record Route(InetSocketAddress address, byte[] ticket) {
    }

    /** A target that cannot be reached through its agent; the message names the agent and why. */
    final class Unavailable extends IOException {
        private final String agent;

        public Unavailable(String agent, String why) {
            super("network agent '" + agent + "': " + why);
            this.agent = agent;
        }

        public String agent() {
            return agent;
        }
    }

    /**
     * For adapters that block (on a virtual thread): a socket to the target through the agent, the
     * ticket already written. Failures are {@link Unavailable}, naming the agent.
     */
    static Socket connect(Tunnels tunnels, String agent, String host, int port, Duration timeout) throws IOException {
        Route route;
        try {
            route = tunnels.open(agent, host, port).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable(agent, "interrupted while opening a connection to " + host + ":" + port);
        } catch (TimeoutException e) {
            throw new Unavailable(agent, "no connection to " + host + ":" + port + " within " + timeout.toSeconds() + "s");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Unavailable u) throw u;
            throw new Unavailable(agent, String.valueOf(e.getCause().getMessage()));
        }
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(route.address(), (int) timeout.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(route.ticket());
            out.flush();
            return socket;
        } catch (IOException e) {
            socket.close();
            throw new Unavailable(agent, "the gateway's local tunnel end refused: " + e.getMessage());
        }
    }

    /**
     * For the agent's side of a stream: copies what {@code from} sends to {@code to} until either ends, then
     * closes {@code to}, which ends the copy the other way too.
     */
    static void pipe(Socket from, Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
        } catch (IOException ignored) {
            // either side went away
        } finally {
            try {
                to.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
