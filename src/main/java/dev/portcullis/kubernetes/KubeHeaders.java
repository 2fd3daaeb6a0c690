package dev.portcullis.kubernetes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** What the gateway does to a Kubernetes request's headers before it forwards it. */
public final class KubeHeaders {
    private KubeHeaders() {
    }

    /**
     * The first header by which the agent asks to act as someone else ({@code Impersonate-User},
     * {@code -Group}, {@code -Uid}, {@code -Extra-*}): refused, since upstream every request carries the
     * gateway's own credential, which may be allowed to impersonate.
     */
    public static Optional<String> impersonation(Iterable<String> headerNames) {
        for (String name : headerNames) {
            if (name.toLowerCase(Locale.ROOT).startsWith("impersonate-")) return Optional.of(name);
        }
        return Optional.empty();
    }

    /**
     * The {@code Accept} header to send upstream: the agent's, without the protobuf media types (the
     * gateway masks JSON and cannot read protobuf), and {@code application/json} when nothing is left.
     * Parameters such as {@code as=Table;g=meta.k8s.io;v=v1} stay on the JSON entries.
     */
    public static String jsonAccept(String accept) {
        if (accept == null || accept.isBlank()) return "application/json";
        List<String> kept = new ArrayList<>();
        for (String entry : accept.split(",")) {
            String e = entry.strip();
            String type = e.contains(";") ? e.substring(0, e.indexOf(';')).strip() : e;
            String t = type.toLowerCase(Locale.ROOT);
            if (t.equals("application/json") || t.equals("application/json-seq") || t.equals("*/*") || t.equals("application/*")) {
                kept.add(t.equals("*/*") || t.equals("application/*") ? "application/json" + e.substring(type.length()) : e);
            }
            // protobuf, yaml, cbor and anything else the gateway cannot mask are dropped
        }
        return kept.isEmpty() ? "application/json" : String.join(",", kept);
    }
}
