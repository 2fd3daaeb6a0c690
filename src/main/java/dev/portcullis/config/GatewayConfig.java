package dev.portcullis.config;

import dev.portcullis.identity.IdentityConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole gateway configuration, validated.
 *
 * @param source the file it was loaded from
 * @param agents  the listener network agents dial out to, when configured
 */
public record GatewayConfig(IdentityConfig identity, StoreConfig store, RecordingConfig recording, AdminConfig admin,
                            ApprovalsConfig approvals, List<ConnectionConfig> connections, Path source,
                            Optional<AgentsConfig> agents) {
    public GatewayConfig {
        Objects.requireNonNull(approvals, "approvals");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(recording, "recording");
        Objects.requireNonNull(admin, "admin");
        connections = List.copyOf(connections);
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(agents, "agents");
    }

    /** The network agents the connections go through ({@code upstream.via}), by name. */
    public java.util.SortedSet<String> agentsUsed() {
        java.util.SortedSet<String> used = new java.util.TreeSet<>();
        for (ConnectionConfig c : connections) c.viaAgent().ifPresent(used::add);
        return java.util.Collections.unmodifiableSortedSet(used);
    }

    public Optional<ConnectionConfig> connection(String name) {
        return connections.stream().filter(c -> c.name().equals(name)).findFirst();
    }
}
