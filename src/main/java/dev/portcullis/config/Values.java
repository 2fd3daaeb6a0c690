package dev.portcullis.config;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/** Parsers for the value formats config files use; each throws IllegalArgumentException with a detail. */
public final class Values {
    private Values() {}

    /** {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}. */
    public static Duration duration(String text) {
        int unitAt = 0;
        while (unitAt < text.length() && Character.isDigit(text.charAt(unitAt))) unitAt++;
        if (unitAt == 0 || unitAt > 12) throw new IllegalArgumentException("");
        long n = Long.parseLong(text.substring(0, unitAt));
        return switch (text.substring(unitAt)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException("");
        };
    }

    public static Duration positiveDuration(String text) {
        Duration d = duration(text);
        if (d.isZero()) throw new IllegalArgumentException("must be more than zero");
        return d;
    }

    public static long size(String text) {
        if (!text.matches("[0-9]{1,18}")) throw new IllegalArgumentException("");
        return Long.parseLong(text);
    }

    public static int intSize(String text) {
        long n = size(text);
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("at most " + Integer.MAX_VALUE);
        return (int) n;
    }

    public static boolean bool(String text) {
        return switch (text) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("");
        };
    }

    /** {@code host:port} or {@code [v6]:port}; unresolved, so loading does no DNS. */
    public static InetSocketAddress listen(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("no port");
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (host.isEmpty()) throw new IllegalArgumentException("host is required; 0.0.0.0 listens on all interfaces");
        if (host.contains(":") && !text.startsWith("[")) throw new IllegalArgumentException("write IPv6 hosts as [::1]:port");
        String port = text.substring(colon + 1);
        if (!port.matches("[0-9]{1,5}")) throw new IllegalArgumentException("port is not a number");
        int p = Integer.parseInt(port);
        if (p < 1 || p > 65535) throw new IllegalArgumentException("port out of range 1-65535");
        return InetSocketAddress.createUnresolved(host, p);
    }

    /** An absolute http or https URL with a host. */
    public static URI httpUrl(String text) {
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme();
            if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
                throw new IllegalArgumentException("scheme must be http or https");
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) throw new IllegalArgumentException("no host");
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e.getReason());
        }
    }

    public static String nonBlank(String text) {
        if (text.isBlank()) throw new IllegalArgumentException("");
        return text;
    }

    private static final java.util.regex.Pattern AGENT_NAME = java.util.regex.Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    /** A network agent's name: lower-case letters, digits and dashes, as a DNS label (at most 63). */
    public static String agentName(String text) {
        if (!AGENT_NAME.matcher(text).matches()) throw new IllegalArgumentException("not an agent name (a-z, 0-9, -; at most 63)");
        return text;
    }

    /** {@code agent NAME}: the network agent an upstream is reached through. */
    public static String viaAgent(String text) {
        String[] words = text.strip().split("\\s+");
        if (words.length != 2 || !words[0].equals("agent")) throw new IllegalArgumentException("expected: agent NAME");
        return agentName(words[1]);
    }
}
