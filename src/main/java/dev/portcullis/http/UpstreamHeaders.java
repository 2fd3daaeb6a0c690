package dev.portcullis.http;

import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Which headers cross the gateway, in each direction. The URLs in {@code Link} and {@code Location}
 * headers that cross are pointed back at the gateway by {@link UpstreamLinks}.
 */
final class UpstreamHeaders {
    /** Hop-by-hop headers (RFC 9110 section 7.6.1) plus those the gateway owns. */
    private static final Set<String> NOT_FORWARDED_UPSTREAM = Set.of(
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
            "transfer-encoding", "upgrade", "host", "content-length", "expect",
            // the agent's own credential never goes upstream; Portcullis injects the target's
            "authorization", "portcullis-approval",
            // the body must arrive uncompressed so it can be masked
            "accept-encoding");

    private static final Set<String> NOT_FORWARDED_DOWNSTREAM = Set.of(
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
            "transfer-encoding", "upgrade", "content-length", "server", "date");

    private UpstreamHeaders() {
    }

    static boolean forwardUpstream(String name, String injectedHeader) {
        String lower = name.toLowerCase(Locale.ROOT);
        return !NOT_FORWARDED_UPSTREAM.contains(lower) && !lower.equalsIgnoreCase(injectedHeader);
    }

    static boolean forwardDownstream(String name) {
        return !NOT_FORWARDED_DOWNSTREAM.contains(name.toLowerCase(Locale.ROOT));
    }

    static String origin(URI uri) {
        int port = uri.getPort();
        return uri.getScheme() + "://" + uri.getHost() + (port == -1 ? "" : ":" + port);
    }
}
