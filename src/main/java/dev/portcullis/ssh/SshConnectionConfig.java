package dev.portcullis.ssh;

import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.policy.Policy;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * A host reached over SSH with the gateway's own key.
 *
 * @param hostKey        the gateway's host key for this listener (created on first start), pinned by agents
 * @param userCaKey      the key that signs the agents' short-lived certificates (created on first start)
 * @param certificateTtl how long a certificate from {@code ssh-login} is valid
 * @param upstreamUser   the login on the host
 * @param upstreamKey    the private key of that login (OpenSSH or PEM format)
 * @param knownHosts     the host's key, pinned: an unknown or changed key refuses the connection
 */
public record SshConnectionConfig(String name, InetSocketAddress listen, Policy policy, Path hostKey, Path userCaKey,
                                  Duration certificateTtl, String upstreamHost, int upstreamPort, String upstreamUser,
                                  Path upstreamKey, Path knownHosts, Duration connectTimeout) implements ConnectionConfig {

    public static final Duration DEFAULT_CERTIFICATE_TTL = Duration.ofMinutes(10);

    public SshConnectionConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(upstreamHost, "upstreamHost");
        if (certificateTtl.isNegative() || certificateTtl.isZero() || certificateTtl.compareTo(Duration.ofHours(24)) > 0) {
            throw new IllegalArgumentException("certificate-ttl must be positive and at most 24h");
        }
    }

    @Override
    public String type() {
        return "ssh";
    }
}
