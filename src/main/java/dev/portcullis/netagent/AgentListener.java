package dev.portcullis.netagent;

import dev.portcullis.config.AgentsConfig;
import dev.portcullis.core.Tunnels;
import dev.portcullis.gate.Gate;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.ConnectionServiceRequestHandler;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listener network agents dial out to. It speaks SSH (Apache MINA SSHD): an agent enrols once with a
 * one-time join token (as user {@code join:NAME}, the token as password, its public key sent in an
 * {@code enrol@portcullis.dev} request) and gets a certificate from the agents' CA; from then on it logs
 * in with that certificate, sends heartbeats, and renews the certificate at half its life. The gateway
 * opens one {@code direct-tcpip} channel through an agent's connection per upstream connection: SSH's
 * per-channel windows keep one slow stream from stalling the others. Agents may open no channel and
 * forward nothing towards the gateway.
 */
public final class AgentListener implements Tunnels, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentListener.class);
    static final String ENROL = "enrol@portcullis.dev";
    static final String RENEW = "renew@portcullis.dev";
    static final String HEARTBEAT = "heartbeat@portcullis.dev";
    static final String JOIN_USER_PREFIX = "join:";
    private static final AttributeRepository.AttributeKey<String> JOINING = new AttributeRepository.AttributeKey<>();
    private static final AttributeRepository.AttributeKey<Connected> AGENT = new AttributeRepository.AttributeKey<>();
    private static final AttributeRepository.AttributeKey<String> REFUSED = new AttributeRepository.AttributeKey<>();

    private final SshServer server;
    private final AgentRegistry registry;
    private final AgentCa ca;
    private final Refusals refusals;
    private final Clock clock;
    private final Bridge bridge;
    private final Map<String, Connected> connected = new ConcurrentHashMap<>();
    private final ScheduledExecutorService checks;
    private final String hostKeyFingerprint;

    /** An agent's live connection on this replica. */
    static final class Connected {
        final String name;
        final ServerSession session;
        final String keyFingerprint;
        final PublicKey key;
        final Instant since;
        volatile Instant lastHeartbeat;
        final AtomicInteger openStreams = new AtomicInteger();

        Connected(String name, ServerSession session, PublicKey key, Instant since) {
            this.name = name;
            this.session = session;
            this.key = key;
            this.keyFingerprint = AgentCa.fingerprint(key);
            this.since = since;
            this.lastHeartbeat = since;
        }
    }

    /** Where refused logins and dropped agents are recorded (the gateway's trail), from where and why. */
    public interface Refusals {
        void record(String clientAddress, String reason, String message);

        /** Recorded as refused logins on the pseudo-connection {@code agents}. */
        static Refusals of(Gate gate) {
            return (address, reason, message) -> gate.recordRefusedLogin("agents", "agent", address, reason, message);
        }
    }

    /** What {@code /readyz} and the admin API show of an agent connected here. */
    public record Status(String name, Instant connectedSince, Instant lastHeartbeat, int openStreams, String from) {
    }

    private AgentListener(SshServer server, AgentRegistry registry, AgentCa ca, Refusals refusals, Clock clock, Bridge bridge,
                          ScheduledExecutorService checks, String hostKeyFingerprint) {
        this.server = server;
        this.registry = registry;
        this.ca = ca;
        this.refusals = refusals;
        this.clock = clock;
        this.bridge = bridge;
        this.checks = checks;
        this.hostKeyFingerprint = hostKeyFingerprint;
    }

    /** Starts listening; its keys (host key, agents' CA) are made on first start where the configuration says. */
    public static AgentListener start(AgentsConfig config, AgentRegistry registry, Refusals refusals, Clock clock) throws Exception {
        AgentCa ca = AgentCa.open(config.caKey(), config.certificateTtl());
        Bridge bridge = Bridge.start();
        SshServer server = SshServer.setUpDefaultServer();
        ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("agents-check").factory());
        // made on first start, mode 600 (replicas share one: agents pin it)
        KeyPair host = dev.portcullis.ssh.UserCertificates.KeyPairs.loadOrCreate(config.hostKey(), "portcullis agents listener host key");
        server.setKeyPairProvider(org.apache.sshd.common.keyprovider.KeyPairProvider.wrap(host));
        AgentListener listener = new AgentListener(server, registry, ca, refusals, clock, bridge, checks, KeyUtils.getFingerPrint(host.getPublic()));
        InetSocketAddress listen = config.listen();
        server.setHost(listen.getHostString());
        server.setPort(listen.getPort());
        CoreModuleProperties.AUTH_TIMEOUT.set(server, java.time.Duration.ofSeconds(30));
        CoreModuleProperties.HEARTBEAT_INTERVAL.set(server, java.time.Duration.ofSeconds(10));
        CoreModuleProperties.IDLE_TIMEOUT.set(server, java.time.Duration.ofSeconds(60)); // agents send heartbeats every 5 s
        server.setKeyboardInteractiveAuthenticator(null);
        server.setPasswordAuthenticator(listener::joinToken);
        server.setPublickeyAuthenticator(listener::certificate);
        server.setForwardingFilter(RejectAllForwardingFilter.INSTANCE);
        // An agent opens nothing towards the gateway (MINA wants at least one factory: one that makes none).
        server.setChannelFactories(List.of(new org.apache.sshd.common.channel.ChannelFactory() {
            @Override
            public String getName() {
                return "none@portcullis.dev";
            }

            @Override
            public org.apache.sshd.common.channel.Channel createChannel(Session session) {
                return null;
            }
        }));
        server.setShellFactory(null);
        server.setCommandFactory(null);
        server.setSubsystemFactories(List.of());
        List<RequestHandler<ConnectionService>> handlers = new ArrayList<>(server.getGlobalRequestHandlers() == null ? List.of() : server.getGlobalRequestHandlers());
        handlers.add((ConnectionServiceRequestHandler) listener::request);
        server.setGlobalRequestHandlers(handlers);
        server.addSessionListener(new SessionListener() {
            @Override
            public void sessionEvent(Session session, Event event) {
                if (event == Event.Authenticated) listener.authenticated(session);
            }

            @Override
            public void sessionClosed(Session session) {
                listener.closed(session);
            }
        });
        try {
            server.start();
        } catch (IOException e) {
            bridge.close();
            checks.shutdownNow();
            throw new IOException("agents: cannot listen on " + listen.getHostString() + ":" + listen.getPort() + ": " + e.getMessage(), e);
        }
        // Revoked (on any replica, in the shared store) or re-enrolled with another key: the tunnel is dropped.
        checks.scheduleWithFixedDelay(listener::recheck, 250, 250, TimeUnit.MILLISECONDS);
        return listener;
    }

    public int port() {
        return server.getPort();
    }

    /** {@code SHA256:...} of the listener's host key, which agents pin when they enrol. */
    public String hostKeyFingerprint() {
        return hostKeyFingerprint;
    }

    public AgentRegistry registry() {
        return registry;
    }

    private static String address(Session session) {
        return session.getIoSession().getRemoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "unknown";
    }

    private void refuse(Session session, String reason, String why) {
        log.info("agent login refused from {}: {}", address(session), why);
        refusals.record(address(session), reason, why);
    }

    /** Password login: only {@code join:NAME} with a join token that holds (it is redeemed when the key is sent). */
    private boolean joinToken(String user, String password, ServerSession session) {
        if (!user.startsWith(JOIN_USER_PREFIX)) {
            refuse(session, "agent-refused", "user " + user + ": a password login is only for enrolment (user join:NAME)");
            return false;
        }
        String name = user.substring(JOIN_USER_PREFIX.length());
        Optional<String> refusal = registry.checkJoin(name, password);
        if (refusal.isPresent()) {
            refuse(session, "join-token-refused", "agent " + name + ": " + refusal.get());
            return false;
        }
        session.setAttribute(JOINING, name);
        session.setAttribute(JOINING_TOKEN, password);
        return true;
    }

    /** Certificate login: signed by the agents' CA, for this agent, valid, and for the key it enrolled with. */
    private boolean certificate(String user, PublicKey key, ServerSession session) {
        if (!(key instanceof OpenSshCertificate certificate)) {
            session.setAttribute(REFUSED, "agent " + user + ": a key without a certificate from this gateway's agents CA");
            return false;
        }
        Optional<String> why = ca.refusal(certificate, user);
        if (why.isEmpty()) why = registry.refusal(user, AgentCa.fingerprint(certificate.getCertPubKey()));
        if (why.isPresent()) {
            session.setAttribute(REFUSED, why.get().startsWith("agent ") ? why.get() : "agent " + user + ": " + why.get());
            return false;
        }
        session.removeAttribute(REFUSED);
        session.setAttribute(AGENT, new Connected(user, session, certificate.getCertPubKey(), clock.instant()));
        return true; // a tunnel once the login is complete (authenticated, below)
    }

    /** The login is complete (its connection service runs): the agent's tunnel is open for streams. */
    private void authenticated(Session session) {
        Connected c = session.getAttribute(AGENT);
        if (c == null) return; // an enrolment login
        Connected before = connected.put(c.name, c);
        if (before != null && before.session != session) {
            log.info("agent {} connected again from {}: its previous connection is closed", c.name, address(session));
            before.session.close(true);
        }
        log.info("agent {} connected from {}", c.name, address(session));
    }

    private RequestHandler.Result request(ConnectionService service, String request, boolean wantReply, Buffer buffer) throws Exception {
        Session session = service.getSession();
        switch (request) {
            case ENROL -> {
                String name = session.getAttribute(JOINING);
                String token = session.getAttribute(JOINING_TOKEN);
                if (name == null || token == null) return RequestHandler.Result.ReplyFailure;
                session.removeAttribute(JOINING_TOKEN); // one enrolment per join login
                PublicKey key = PublicKeyEntry.parsePublicKeyEntry(buffer.getString()).resolvePublicKey(session, Map.of(), null);
                Optional<String> refusal = registry.enrol(name, token, AgentCa.fingerprint(key));
                if (refusal.isPresent()) {
                    refuse(session, "join-token-refused", "agent " + name + ": " + refusal.get());
                    return RequestHandler.Result.ReplyFailure;
                }
                log.info("agent {} enrolled from {} (key {})", name, address(session), AgentCa.fingerprint(key));
                return reply(session, ca.issue(name, key));
            }
            case RENEW -> {
                Connected c = session.getAttribute(AGENT);
                if (c == null) return RequestHandler.Result.ReplyFailure;
                return reply(session, ca.issue(c.name, c.key));
            }
            case HEARTBEAT -> {
                Connected c = session.getAttribute(AGENT);
                if (c == null) return RequestHandler.Result.ReplyFailure;
                c.lastHeartbeat = clock.instant();
                return RequestHandler.Result.ReplySuccess;
            }
            default -> {
                return RequestHandler.Result.Unsupported;
            }
        }
    }

    /** A request's success with a certificate (an OpenSSH public key line) as its data. */
    private static RequestHandler.Result reply(Session session, String certificate) throws IOException {
        Buffer reply = session.createBuffer(SshConstants.SSH_MSG_REQUEST_SUCCESS);
        reply.putString(certificate);
        session.writePacket(reply);
        return RequestHandler.Result.Replied;
    }

    /** The join token of a {@code join:NAME} login, kept in memory until the key is sent. */
    private static final AttributeRepository.AttributeKey<String> JOINING_TOKEN = new AttributeRepository.AttributeKey<>();

    private void closed(Session session) {
        Connected c = session.getAttribute(AGENT);
        if (c != null && connected.remove(c.name, c)) log.info("agent {} disconnected", c.name);
        String refused = session.getAttribute(REFUSED);
        if (refused != null && c == null) refuse(session, "agent-refused", refused);
    }

    /** Agents heartbeat every 5 s; one silent for this long is gone (a network that died without a reset). */
    static final java.time.Duration SILENT = java.time.Duration.ofSeconds(20);

    private void recheck() {
        Instant now = clock.instant();
        for (Connected c : connected.values()) {
            try {
                Optional<String> why = registry.refusal(c.name, c.keyFingerprint);
                if (why.isPresent()) drop(c, why.get());
                else if (c.lastHeartbeat.plus(SILENT).isBefore(now)) {
                    log.warn("agent {} dropped: no heartbeat for {} s", c.name, SILENT.toSeconds());
                    connected.remove(c.name, c);
                    c.session.close(true);
                }
            } catch (RuntimeException e) {
                log.warn("checking agent {} failed: {}", c.name, e.getMessage());
            }
        }
    }

    private void drop(Connected c, String why) {
        if (!connected.remove(c.name, c)) return;
        log.warn("agent {} dropped: {}", c.name, why);
        refusals.record(address(c.session), "agent-revoked", why);
        c.session.close(true);
    }

    /** Revokes an agent: in the store for every replica, and its tunnel here at once. */
    public boolean revoke(String name) {
        boolean known = registry.revoke(name);
        Connected c = connected.get(name);
        if (c != null) drop(c, "agent " + name + " was revoked");
        return known;
    }

    public List<Status> connected() {
        List<Status> out = new ArrayList<>();
        for (Connected c : connected.values()) out.add(new Status(c.name, c.since, c.lastHeartbeat, c.openStreams.get(), address(c.session)));
        out.sort(java.util.Comparator.comparing(Status::name));
        return out;
    }

    @Override
    public CompletableFuture<Route> open(String agent, String host, int port) {
        Connected c = connected.get(agent);
        if (c == null || !c.session.isOpen()) {
            return CompletableFuture.failedFuture(new Unavailable(agent, "is not connected to this gateway"));
        }
        CompletableFuture<Route> route = new CompletableFuture<>();
        try {
            ChannelDirectTcpip channel = new ChannelDirectTcpip(new SshdSocketAddress("portcullis", 0), new SshdSocketAddress(host, port));
            c.session.getService(ConnectionService.class).registerChannel(channel);
            channel.open().addListener(f -> {
                if (!f.isOpened()) {
                    Throwable t = f.getException();
                    channel.close(true);
                    route.completeExceptionally(new Unavailable(agent, "did not connect to " + host + ":" + port + ": "
                            + (t == null ? "refused" : t.getMessage()) + " (the agent's allow-list, or the target, refused)"));
                    return;
                }
                c.openStreams.incrementAndGet();
                channel.addCloseFutureListener(x -> c.openStreams.decrementAndGet());
                route.complete(bridge.register(channel));
            });
        } catch (IOException | RuntimeException e) {
            route.completeExceptionally(new Unavailable(agent, "cannot open a stream: " + e.getMessage()));
        }
        return route;
    }

    @Override
    public void close() {
        checks.shutdownNow();
        try {
            server.stop(true);
        } catch (IOException e) {
            log.warn("stopping the agent listener: {}", e.getMessage());
        }
        bridge.close();
    }
}
