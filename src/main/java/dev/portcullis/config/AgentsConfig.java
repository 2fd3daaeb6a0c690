package dev.portcullis.config;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * The listener network agents dial out to ({@code agents:}): agents in private networks connect here and
 * carry the upstream connections of every connection whose upstream says {@code via: agent NAME}.
 *
 * @param listen          where agents connect (SSH transport; agents pin its host key)
 * @param admins          groups that may create join tokens, list agents and revoke them through the admin API
 * @param certificateTtl  how long an agent's certificate is valid; agents renew it at half its life
 * @param caKey           the agents' CA key (made on first start); replicas share one, so an agent's
 *                        certificate logs in at every replica
 * @param hostKey         the listener's host key, which agents pin; replicas share one too
 */
public record AgentsConfig(InetSocketAddress listen, Set<String> admins, Duration certificateTtl, java.nio.file.Path caKey,
                           java.nio.file.Path hostKey) {
    public static final Duration DEFAULT_CERTIFICATE_TTL = Duration.ofHours(24);

    public AgentsConfig {
        Objects.requireNonNull(listen, "listen");
        admins = Set.copyOf(admins);
        Objects.requireNonNull(certificateTtl, "certificateTtl");
        Objects.requireNonNull(caKey, "caKey");
        Objects.requireNonNull(hostKey, "hostKey");
    }
}
