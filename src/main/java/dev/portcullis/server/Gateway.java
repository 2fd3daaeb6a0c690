package dev.portcullis.server;

import dev.portcullis.approval.SqlApprovalStore;
import dev.portcullis.approval.ApprovalApi;
import dev.portcullis.approval.ApprovalService;
import dev.portcullis.approval.notify.Notifier;
import dev.portcullis.config.AdminConfig;
import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.console.ConsoleSessions;
import dev.portcullis.console.OidcSignIn;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.config.ProtocolModule;
import dev.portcullis.config.ProtocolRegistry;
import dev.portcullis.config.StoreConfig;
import dev.portcullis.core.Tunnels;
import dev.portcullis.gate.Gate;
import dev.portcullis.netagent.AgentListener;
import dev.portcullis.netagent.AgentRegistry;
import dev.portcullis.identity.TokenVerifier;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.PostgresStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: store, recorder, token verifier, one listener per connection, admin listener.
 * Started from a validated {@link GatewayConfig}; closed in reverse order.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    private final List<AutoCloseable> resources;
    private final Map<String, Integer> connectionPorts;
    private final AdminServer admin;

    private Gateway(List<AutoCloseable> resources, Map<String, Integer> connectionPorts, AdminServer admin) {
        this.resources = resources;
        this.connectionPorts = connectionPorts;
        this.admin = admin;
    }

    public static Gateway start(GatewayConfig config, Clock clock) throws Exception {
        return start(config, clock, ProtocolRegistry.installed());
    }

    /**
     * Starts with the given protocol modules. A connection whose module cannot serve here (a native
     * library missing, say) stops the start before anything listens, saying why: a gateway that
     * reported ready and then refused every operation would hide the fault.
     */
    public static Gateway start(GatewayConfig config, Clock clock, ProtocolRegistry protocols) throws Exception {
        for (ConnectionConfig connection : config.connections()) {
            Optional<String> missing = protocols.moduleOf(connection).unavailableBecause();
            if (missing.isPresent()) {
                throw new IllegalStateException("connection '" + connection.name() + "' (" + connection.type()
                        + ") cannot be served: " + missing.get());
            }
        }
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            GatewayMetrics metrics = new GatewayMetrics();
            LoggedStore store = switch (config.store()) {
                case StoreConfig.Embedded embedded -> LoggedStore.open(embedded.path(), embedded.segmentBytes());
                case StoreConfig.Postgres pg -> LoggedStore.open(pg.trail().toAbsolutePath(), pg.segmentBytes(),
                        () -> PostgresStore.open(pg.url(), pg.user(), pg.password(), pg.schema(), pg.replica(), pg.poolSize()));
            };
            opened.add(store);
            DurableRecorder recorder = new DurableRecorder(store, clock,
                    DurableRecorder.Settings.defaults().withFsyncAlways(config.recording().fsyncAlways()));
            opened.add(recorder);
            TokenVerifier verifier = TokenVerifier.create(config.identity(), clock);

            // Approval requests survive restarts: those that expired meanwhile are closed now, the rest
            // on a schedule.
            ApprovalService approvals = new ApprovalService(new SqlApprovalStore(store.index()), recorder, clock);
            approvals.expireDue();

            ScheduledExecutorService expiry = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("approval-expiry").factory());
            expiry.scheduleWithFixedDelay(() -> {
                try {
                    approvals.expireDue();
                } catch (RuntimeException e) {
                    log.warn("closing expired approval requests failed: {}", e.getMessage());
                }
            }, 5, 5, TimeUnit.SECONDS);
            opened.add(expiry::shutdownNow);
            InetSocketAddress adminListen = config.admin().listen();
            String adminBase = config.approvals().publicUrl().map(u -> u.toString().replaceAll("/+$", ""))
                    .orElse(config.admin().scheme() + "://" + adminListen.getHostString() + ":" + adminListen.getPort());
            Notifier notifier = ApprovalNotifications.start(config.approvals(), metrics, approvals);
            opened.add(notifier);
            approvals.subscribe(request -> notifier.send(ApprovalNotifications.of(request, adminBase)));
            Gate gate = new Gate(verifier, recorder, metrics, approvals, adminBase + "/console/approvals/");
            PostgresStore shared = store.index() instanceof PostgresStore p ? p : null;
            ReplicaSessions replicaSessions = new ReplicaSessions(gate.live(), shared);
            if (shared != null) {
                // An approval given through another replica releases what this one holds at once (polling stays the
                // fallback); an admin's terminate that reached another replica ends a session held here.
                opened.add(shared.listen(id -> approvals.changedElsewhere(), replicaSessions::onMessage));
                log.info("store: {} as replica '{}', trail {}", shared.describe(), shared.replica(), store.trailDirectory());
            }

            // Network agents dial out to their own listener; connections whose upstream goes via an agent reach
            // it through their tunnels.
            AgentListener agents = null;
            if (config.agents().isPresent()) {
                agents = AgentListener.start(config.agents().get(), new AgentRegistry(store.index(), clock), AgentListener.Refusals.of(gate), clock);
                opened.add(agents);
                log.info("network agents: listening on {}:{} (host key {})", config.agents().get().listen().getHostString(),
                        agents.port(), agents.hostKeyFingerprint());
            }
            Map<String, Integer> ports = new LinkedHashMap<>();
            ProtocolModule.ListenerContext context = new ProtocolModule.ListenerContext(gate, config.recording().maxResponseBytes(),
                    agents == null ? Tunnels.NONE : agents);
            for (ConnectionConfig connection : config.connections()) {
                ProtocolModule.Listener listener = protocols.moduleOf(connection).start(connection, context);
                opened.add(listener);
                ports.put(connection.name(), listener.port());
                log.info("connection '{}' ({}) listening on {}", connection.name(), connection.type(), listener.describe());
            }
            List<AdminServer.ReadinessCheck> checks = new ArrayList<>(List.of(
                    new AdminServer.ReadinessCheck("identity", () -> verifier.ready() ? Optional.empty()
                            : Optional.of("OIDC discovery/JWKS from " + config.identity().issuer() + " not loaded yet")),
                    new AdminServer.ReadinessCheck("store", () -> recorder.notHealthyBecause().or(store::indexBehindBecause))));
            Optional<AgentsApi> agentsApi = Optional.empty();
            if (agents != null) {
                AgentListener listener = agents;
                java.util.Set<String> used = config.agentsUsed();
                checks.add(AdminServer.ReadinessCheck.info("agents", () -> describeAgents(used, listener)));
                metrics.agents(used, listener::connected);
                InetSocketAddress at = config.agents().get().listen();
                agentsApi = Optional.of(new AgentsApi(agents, config.agents().get(), at.getHostString() + ":" + agents.port()));
            }

            // The trail is verified at start-up (in the background) and every 15 minutes; /readyz shows the last result.
            String storeType = config.store() instanceof StoreConfig.Postgres ? "postgres" : "embedded";
            TrailHealth trail = new TrailHealth(store, storeType, store.index().describe(),
                    () -> recorder.notHealthyBecause().or(store::indexBehindBecause), clock);
            ScheduledExecutorService trailChecks = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("trail-verify").factory());
            trailChecks.scheduleWithFixedDelay(trail::verifyNow, 0, 15, TimeUnit.MINUTES);
            opened.add(trailChecks::shutdownNow);
            checks.add(AdminServer.ReadinessCheck.info("trail", trail::readiness));

            // The console: people sign in with the identity provider; the API then takes their session cookie too.
            Optional<AdminCallers.Console> console = config.admin().console().map(c ->
                    new AdminCallers.Console(new ConsoleSessions(store.index(), c, clock), c));
            AdminCallers callers = new AdminCallers(verifier, console, ConsoleAudit.of(gate));
            Optional<OidcSignIn> signIn = console.map(c -> new OidcSignIn(config.identity(), c.config(), c.sessions()));
            AdminConfig adminConfig = config.admin();
            Auditors auditors = new Auditors(adminConfig);
            AdminServer admin = AdminServer.start(adminConfig, checks, metrics, new AdminServer.Services(callers,
                    Optional.of(new ApprovalApi(approvals)),
                    Optional.of(new SessionsApi(gate.live(), replicaSessions, adminConfig.sessionAdmins())),
                    agentsApi,
                    Optional.of(new RecordedSessionsApi(store, gate.live(), auditors)),
                    Optional.of(new PolicyApi(config, protocols, auditors)),
                    Optional.of(trail),
                    Optional.of(new ConsolePages(callers, signIn)),
                    auditors));
            opened.add(admin);
            log.info("admin listening on {}://{}:{} (/healthz, /readyz, /metrics, /api/v1{})", config.admin().scheme(),
                    adminListen.getHostString(), admin.port(), console.isPresent() ? ", console at /console/" : "; no console: admin.console is not set");
            return new Gateway(List.copyOf(opened), ports, admin);
        } catch (Exception | Error e) {
            closeAll(opened);
            throw e;
        }
    }

    /** For /readyz: each agent a connection goes through, connected here or not, its last heartbeat and open streams. */
    private static String describeAgents(java.util.Set<String> used, AgentListener listener) {
        java.util.Set<String> needed = new java.util.TreeSet<>(used);
        Map<String, AgentListener.Status> here = new LinkedHashMap<>();
        for (AgentListener.Status s : listener.connected()) here.put(s.name(), s);
        needed.addAll(here.keySet());
        if (needed.isEmpty()) return "no agent connected";
        List<String> parts = new ArrayList<>();
        java.time.Instant now = java.time.Instant.now();
        for (String name : needed) {
            AgentListener.Status s = here.get(name);
            parts.add(s == null ? name + ": offline" : name + ": connected from " + s.from() + ", last heartbeat "
                    + java.time.Duration.between(s.lastHeartbeat(), now).toSeconds() + "s ago, " + s.openStreams() + " open streams");
        }
        return String.join("; ", parts);
    }

    public int port(String connection) {
        Integer port = connectionPorts.get(connection);
        if (port == null) throw new IllegalArgumentException("no connection named " + connection);
        return port;
    }

    public int adminPort() {
        return admin.port();
    }

    @Override
    public void close() {
        closeAll(resources);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                log.warn("while closing {}: {}", resources.get(i).getClass().getSimpleName(), e.toString());
            }
        }
    }
}
