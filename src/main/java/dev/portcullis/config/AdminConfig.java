package dev.portcullis.config;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * The admin listener: /healthz, /readyz, /metrics, the REST API (approvals, sessions, trail, policy) and,
 * with {@code console}, the console people sign in to with the identity provider.
 *
 * @param listen         where it listens (unresolved)
 * @param tls            its certificate; present: it speaks HTTPS only
 * @param allowPlaintext without tls, whether it may listen on an address other than loopback (where
 *                       TLS is terminated in front of the gateway, or the network is trusted);
 *                       {@link ConfigLoader} refuses plaintext beyond loopback without it
 * @param sessionAdmins  groups whose members may end a live session
 * @param auditors       groups whose members may read recorded sessions, the trail's health and the policies
 * @param console        the console's sign-in; absent: no console, the API takes bearer tokens only
 */
public record AdminConfig(InetSocketAddress listen, Optional<TlsConfig> tls, boolean allowPlaintext, java.util.Set<String> sessionAdmins,
                          java.util.Set<String> auditors, Optional<ConsoleConfig> console) {
    /** Plain HTTP on 127.0.0.1:8080, where approvers' tokens do not leave the machine. */
    public static final AdminConfig DEFAULT =
            new AdminConfig(InetSocketAddress.createUnresolved("127.0.0.1", 8080), Optional.empty(), false, java.util.Set.of());

    /** Without session admins: nobody may end a live session through the API. */
    public AdminConfig(InetSocketAddress listen, Optional<TlsConfig> tls, boolean allowPlaintext) {
        this(listen, tls, allowPlaintext, java.util.Set.of());
    }

    /** Without auditors or a console. */
    public AdminConfig(InetSocketAddress listen, Optional<TlsConfig> tls, boolean allowPlaintext, java.util.Set<String> sessionAdmins) {
        this(listen, tls, allowPlaintext, sessionAdmins, java.util.Set.of(), Optional.empty());
    }

    /**
     * Whether {@code groups} may read what was recorded (sessions, the trail's health, the policies): auditors
     * and session admins.
     */
    public boolean mayAudit(java.util.Set<String> groups) {
        return groups.stream().anyMatch(g -> auditors.contains(g) || sessionAdmins.contains(g));
    }

    public AdminConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(tls, "tls");
        if (tls.isPresent() && allowPlaintext) {
            throw new IllegalArgumentException("admin has tls, which accepts TLS only, and allows plaintext");
        }
        sessionAdmins = java.util.Set.copyOf(sessionAdmins);
        auditors = java.util.Set.copyOf(auditors);
        Objects.requireNonNull(console, "console");
    }

    /** {@code https} with tls, else {@code http}. */
    public String scheme() {
        return tls.isPresent() ? "https" : "http";
    }
}
