package dev.portcullis.postgres;

import dev.portcullis.core.Tunnels;
import java.io.IOException;
import java.util.Map;

/**
 * Opens the connection's upstream sessions (the agents' and the catalog's): straight to the database, or
 * through the network agent its upstream names ({@code via: agent NAME}).
 */
final class UpstreamDialer {
    private final PostgresConnectionConfig.Upstream upstream;
    private final Tunnels tunnels;

    UpstreamDialer(PostgresConnectionConfig.Upstream upstream, Tunnels tunnels) {
        this.upstream = upstream;
        this.tunnels = tunnels;
    }

    /** A logged-in session; {@link Tunnels.Unavailable} when its agent cannot reach the database. */
    UpstreamConnection open(Map<String, String> startupParams) throws IOException {
        PostgresConnectionConfig.Upstream u = upstream;
        if (u.via().isEmpty()) return UpstreamConnection.open(u.host(), u.port(), u.database(), u.user(), u.password(), startupParams);
        return UpstreamConnection.open(() -> Tunnels.connect(tunnels, u.via().get(), u.host(), u.port(), UpstreamConnection.CONNECT_TIMEOUT),
                u.host(), u.port(), u.database(), u.user(), u.password(), startupParams);
    }

    /** Where it goes, for messages. */
    String describe() {
        return upstream.host() + ":" + upstream.port() + upstream.via().map(a -> " via agent " + a).orElse("");
    }
}
