package dev.portcullis.http;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Points the upstream's own URLs back at the gateway, so a client that follows a link (a {@code Link}
 * or {@code Location} header, an href in a JSON body) comes back through the gateway, its policy and
 * its recording, instead of going around it with its token.
 *
 * <p>One rule for headers and bodies: a URL is the upstream's when it begins with the upstream's
 * origin ({@code scheme://host[:port]}; scheme and host in any ASCII case, the scheme's default port
 * written or not) and the origin ends there: the next character is {@code /}, {@code ?}, {@code #}
 * or nothing. Only then is that origin replaced by the gateway's, the rest kept as is. So
 * {@code https://example.okta.com.evil.com/}, {@code https://example.okta.com@evil.com/},
 * {@code https://user@example.okta.com/}, another scheme or another port stay untouched: a partial
 * rewrite would turn a look-alike of the upstream into a look-alike of the gateway.
 *
 * <p>An upstream URL with a base path ({@code https://api.example.com/v2}) is the gateway's root:
 * {@code https://api.example.com/v2/users} becomes {@code <gateway>/users}, as the gateway forwards
 * {@code /users} there. A URL of the same origin outside the base path cannot be reached through the
 * gateway and is left as it is.
 */
final class UpstreamLinks {
    private final List<String> upstreamOrigins;
    private final String basePath;
    private final String gatewayOrigin;

    /**
     * @param upstream      the connection's upstream URL
     * @param gatewayOrigin {@code scheme://authority} of the gateway as the client addressed it
     */
    UpstreamLinks(URI upstream, String gatewayOrigin) {
        String scheme = upstream.getScheme().toLowerCase(Locale.ROOT);
        String schemeAndHost = scheme + "://" + upstream.getHost().toLowerCase(Locale.ROOT);
        int port = upstream.getPort();
        int defaultPort = scheme.equals("https") ? 443 : scheme.equals("http") ? 80 : -1;
        // https://h and https://h:443 are one origin, however the upstream or its config spells it.
        this.upstreamOrigins = port == -1 || port == defaultPort
                ? List.of(schemeAndHost, schemeAndHost + ":" + defaultPort)
                : List.of(schemeAndHost + ":" + port);
        String path = upstream.getRawPath() == null ? "" : upstream.getRawPath();
        this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.gatewayOrigin = gatewayOrigin;
    }

    /** Whether a response header carries URLs that {@link #header} rewrites. */
    static boolean carriesUrls(String headerName) {
        return headerName.equalsIgnoreCase("link") || headerName.equalsIgnoreCase("location")
                || headerName.equalsIgnoreCase("content-location");
    }

    /**
     * A {@code Location} or {@code Content-Location} value is one URL; a {@code Link} value is a list of
     * {@code <URI-reference>; params} (RFC 8288), and each reference between angle brackets is one URL
     * (brackets inside quoted parameter values are text, not references).
     */
    String header(String name, String value) {
        if (!name.equalsIgnoreCase("link")) return url(value);
        StringBuilder out = new StringBuilder(value.length() + 16);
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (quoted) {
                out.append(c);
                if (c == '\\' && i + 1 < value.length()) out.append(value.charAt(++i));
                else if (c == '"') quoted = false;
            } else if (c == '"') {
                quoted = true;
                out.append(c);
            } else if (c == '<' && value.indexOf('>', i + 1) > i) {
                int end = value.indexOf('>', i + 1);
                out.append('<').append(url(value.substring(i + 1, end))).append('>');
                i = end;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** {@code value} pointing at the gateway if it is one of the upstream's URLs; otherwise {@code value} itself. */
    String url(String value) {
        for (String origin : upstreamOrigins) {
            if (startsWithIgnoringAsciiCase(value, origin) && value.startsWith(basePath, origin.length())) {
                int end = origin.length() + basePath.length();
                if (end == value.length() || "/?#".indexOf(value.charAt(end)) >= 0) {
                    return gatewayOrigin + value.substring(end);
                }
            }
        }
        return value;
    }

    /** ASCII only: Unicode case folding would let {@code K} (Kelvin sign) stand for {@code k}. */
    private static boolean startsWithIgnoringAsciiCase(String value, String lowerPrefix) {
        if (value.length() < lowerPrefix.length()) return false;
        for (int i = 0; i < lowerPrefix.length(); i++) {
            char c = value.charAt(i);
            if (c >= 'A' && c <= 'Z') c = (char) (c + ('a' - 'A'));
            if (c != lowerPrefix.charAt(i)) return false;
        }
        return true;
    }
}
