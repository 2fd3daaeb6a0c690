package dev.portcullis.config;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * The admin listener: /healthz, /readyz, /metrics, the approvals API and the approval page, where
 * approvers send their own tokens.
 *
 * @param listen         where it listens (unresolved)
 * @param tls            its certificate; present: it speaks HTTPS only
 * @param allowPlaintext without tls, whether it may listen on an address other than loopback (where
 *                       TLS is terminated in front of the gateway, or the network is trusted);
 *                       {@link ConfigLoader} refuses plaintext beyond loopback without it
 */
public record AdminConfig(InetSocketAddress listen, Optional<TlsConfig> tls, boolean allowPlaintext, java.util.Set<String> sessionAdmins) {
    /** Plain HTTP on 127.0.0.1:8080, where approvers' tokens do not leave the machine. */
    public static final AdminConfig DEFAULT =
            new AdminConfig(InetSocketAddress.createUnresolved("127.0.0.1", 8080), Optional.empty(), false, java.util.Set.of());

    /** Without session admins: nobody may end a live session through the API. */
    public AdminConfig(InetSocketAddress listen, Optional<TlsConfig> tls, boolean allowPlaintext) {
        this(listen, tls, allowPlaintext, java.util.Set.of());
    }

    public AdminConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(tls, "tls");
        if (tls.isPresent() && allowPlaintext) {
            throw new IllegalArgumentException("admin has tls, which accepts TLS only, and allows plaintext");
        }
        sessionAdmins = java.util.Set.copyOf(sessionAdmins);
    }

    /** {@code https} with tls, else {@code http}. */
    public String scheme() {
        return tls.isPresent() ? "https" : "http";
    }
}
