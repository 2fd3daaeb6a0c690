package dev.portcullis.netagent;

import dev.portcullis.http.AgentCredentials;
import dev.portcullis.postgres.AgentLogin;
import dev.portcullis.ssh.UserCertificates;
import java.net.ServerSocket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.forward.DirectTcpipFactory;
import org.apache.sshd.server.forward.TcpForwardingFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network agent: runs beside targets the gateway cannot reach, dials out to the gateway's agent
 * listener and stays connected (heartbeats every 5 s, reconnects with exponential backoff and full
 * jitter, up to 30 s), and opens the connections the gateway asks for, only to targets on its own
 * allow-list, so a compromised gateway cannot use it to scan the private network.
 *
 * <p>State (its key, certificate and the gateway's pinned host key) lives in {@code stateDir}. Without a
 * certificate it enrols first with a one-time join token, checking the gateway's host key against the
 * fingerprint given with the token.
 *
 * <p>For a database whose credentials it holds ({@code postgresLogins}, keyed {@code host:port}), a stream
 * to it goes to a local {@link AgentLogin} instead, which logs in with them and hands the gateway an
 * authenticated session.
 */
public final class NetworkAgent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NetworkAgent.class);
    static final Duration HEARTBEAT = Duration.ofSeconds(5);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /**
     * @param gateways        the agent listener of each replica, host:port: the agent keeps a connection to every one,
     *                        so whichever replica serves a session can reach the target
     * @param allow           targets it may connect to, as {@code host:port} (exact; {@code host:*} for any port)
     * @param joinToken       for the first start (no certificate in stateDir yet)
     * @param gatewayKey      {@code SHA256:...} of the gateway's agent listener host key, checked at enrolment
     */
    public record Settings(String name, List<InetSocketAddress> gateways, Path stateDir, Set<String> allow, Optional<String> joinToken,
                           Optional<String> gatewayKey, Map<String, AgentLogin.Target> postgresLogins,
                           Map<String, AgentCredentials.Target> httpCredentials) {
        public Settings {
            gateways = List.copyOf(gateways);
            if (gateways.isEmpty()) throw new IllegalArgumentException("no gateway to connect to");
            postgresLogins = Map.copyOf(postgresLogins);
            httpCredentials = Map.copyOf(httpCredentials);
        }

        public Settings(String name, List<InetSocketAddress> gateways, Path stateDir, Set<String> allow, Optional<String> joinToken,
                        Optional<String> gatewayKey, Map<String, AgentLogin.Target> postgresLogins) {
            this(name, gateways, stateDir, allow, joinToken, gatewayKey, postgresLogins, Map.of());
        }

        public Settings(String name, List<InetSocketAddress> gateways, Path stateDir, Set<String> allow, Optional<String> joinToken,
                        Optional<String> gatewayKey) {
            this(name, gateways, stateDir, allow, joinToken, gatewayKey, Map.of(), Map.of());
        }

        /** One gateway. */
        public Settings(String name, InetSocketAddress gateway, Path stateDir, Set<String> allow, Optional<String> joinToken, Optional<String> gatewayKey) {
            this(name, List.of(gateway), stateDir, allow, joinToken, gatewayKey, Map.of(), Map.of());
        }
    }

    /** What the agent is doing, for logs and tests. */
    public enum State { STARTING, CONNECTED, RECONNECTING, STOPPED }

    private final Settings settings;
    private final SshClient client;
    private volatile boolean closed;
    private final Map<InetSocketAddress, State> states = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<InetSocketAddress, ClientSession> sessions = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Thread> loops;

    private final List<ServerSocket> logins = new java.util.ArrayList<>();

    private NetworkAgent(Settings settings) throws IOException {
        this.settings = settings;
        this.client = SshClient.setUpDefaultClient();
        // Targets whose credentials the agent holds (databases, HTTP APIs): a local end for each, where their
        // streams go, which adds the credentials on the way.
        Map<String, InetSocketAddress> redirects = new java.util.HashMap<>();
        for (var login : settings.postgresLogins().entrySet()) {
            AgentLogin.Target target = login.getValue();
            redirects.put(login.getKey(), localEnd(login.getKey(), s -> AgentLogin.serve(s, target)));
        }
        for (var credential : settings.httpCredentials().entrySet()) {
            AgentCredentials.Target target = credential.getValue();
            redirects.put(credential.getKey(), localEnd(credential.getKey(), s -> AgentCredentials.serve(s, target)));
        }
        AllowList allowList = new AllowList(settings.allow(), redirects.values());
        // the gateway's streams (direct-tcpip), nothing else
        client.setChannelFactories(List.of(new org.apache.sshd.common.channel.ChannelFactory() {
            @Override
            public String getName() {
                return DirectTcpipFactory.INSTANCE.getName();
            }

            @Override
            public org.apache.sshd.common.channel.Channel createChannel(Session session) {
                return new Redirecting(allowList, redirects);
            }
        }));
        client.setForwardingFilter(org.apache.sshd.server.forward.ForwardingFilter.asForwardingFilter(
                org.apache.sshd.server.forward.AgentForwardingFilter.of(false), org.apache.sshd.server.forward.X11ForwardingFilter.of(false),
                allowList));
        CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, HEARTBEAT);
        client.start();
        this.loops = settings.gateways().stream()
                .map(g -> Thread.ofPlatform().name("agent-" + settings.name() + "-" + g.getHostString() + ":" + g.getPort()).daemon(false)
                        .unstarted(() -> run(g)))
                .toList();
        settings.gateways().forEach(g -> states.put(g, State.STARTING));
    }

    /** Starts the agent; enrols first when it has no certificate. Returns once the loop runs. */
    public static NetworkAgent start(Settings settings) throws Exception {
        Files.createDirectories(settings.stateDir());
        NetworkAgent agent = new NetworkAgent(settings);
        try {
            if (!Files.exists(agent.certificateFile())) agent.enrol();
        } catch (Exception | Error e) {
            agent.close(); // its client and local ends, before saying why
            throw e;
        }
        agent.loops.forEach(Thread::start);
        return agent;
    }

    /** Waits until the agent is connected to every gateway (each has answered a heartbeat); false after {@code timeout}. */
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (state() != State.CONNECTED) {
            if (System.nanoTime() >= deadline) return false;
            Thread.sleep(20);
        }
        return true;
    }

    /** CONNECTED when connected to every gateway; else the first other state. */
    /** A join token as printed: {@code secret} with the gateway's host key fingerprint the agent will pin. */
    public static String joinToken(String secret, String gatewayKey) {
        return JoinToken.format(secret, gatewayKey);
    }

    public State state() {
        for (State st : states.values()) if (st != State.CONNECTED) return st;
        return State.CONNECTED;
    }

    private Path keyFile() {
        return settings.stateDir().resolve("agent-key");
    }

    private Path certificateFile() {
        return settings.stateDir().resolve("agent-key-cert.pub");
    }

    private Path gatewayKeyFile() {
        return settings.stateDir().resolve("gateway-host-key.pub");
    }

    /** Presents the join token once and keeps the certificate it gets, pinning the gateway's host key. */
    private void enrol() throws Exception {
        String given = settings.joinToken().orElseThrow(() -> new IllegalStateException(
                "agent " + settings.name() + " has no certificate in " + settings.stateDir() + ": give it a join token (portcullis agents join-token)"));
        JoinToken join = JoinToken.parse(given);
        if (join.gatewayKey().isPresent() && settings.gatewayKey().isPresent() && !join.gatewayKey().equals(settings.gatewayKey())) {
            throw new IllegalStateException("the join token pins gateway key " + join.gatewayKey().get() + ", and --gateway-key says "
                    + settings.gatewayKey().get() + ": refusing to enrol");
        }
        String token = join.secret();
        String pinned = settings.gatewayKey().or(join::gatewayKey).orElseThrow(() -> new IllegalStateException(
                "enrolling needs the gateway's host key fingerprint: use the whole join token as printed, or --gateway-key SHA256:..."));
        KeyPair key = UserCertificates.KeyPairs.loadOrCreate(keyFile(), "portcullis network agent " + settings.name());
        PublicKey[] seen = new PublicKey[1];
        client.setServerKeyVerifier((s, remote, serverKey) -> {
            seen[0] = serverKey;
            return KeyUtils.getFingerPrint(serverKey).equals(pinned);
        });
        try (ClientSession s = client.connect(AgentListener.JOIN_USER_PREFIX + settings.name(),
                new InetSocketAddress(settings.gateways().getFirst().getHostString(), settings.gateways().getFirst().getPort())).verify(10, TimeUnit.SECONDS).getSession()) {
            s.addPasswordIdentity(token);
            try {
                s.auth().verify(10, TimeUnit.SECONDS);
            } catch (IOException e) {
                throw new IOException("the gateway refused the join token for agent " + settings.name()
                        + " (wrong, used already or expired: the gateway records which)", e);
            }
            Buffer request = s.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST);
            request.putString(AgentListener.ENROL);
            request.putBoolean(true);
            request.putString(PublicKeyEntry.toString(key.getPublic()));
            Buffer reply = s.request(AgentListener.ENROL, request, 10, TimeUnit.SECONDS);
            if (reply == null) throw new IOException("the gateway refused to enrol agent " + settings.name() + " (see its log)");
            Files.writeString(certificateFile(), reply.getString() + "\n");
            Files.writeString(gatewayKeyFile(), PublicKeyEntry.toString(seen[0]) + "\n");
            log.info("agent {} enrolled at {}; its certificate is in {}", settings.name(), settings.gateways().getFirst(), certificateFile());
        } catch (IOException e) {
            if (seen[0] != null && !KeyUtils.getFingerPrint(seen[0]).equals(pinned)) {
                throw new IOException("the gateway's host key " + KeyUtils.getFingerPrint(seen[0]) + " is not the one given (" + pinned + "): refusing to enrol", e);
            }
            throw e;
        }
    }

    private void run(InetSocketAddress gateway) {
        Duration backoff = Duration.ofSeconds(1);
        while (!closed) {
            Instant started = Instant.now();
            try {
                connectOnce(gateway);
            } catch (Exception e) {
                if (closed) break;
                log.warn("agent {}: {}", settings.name(), e.getMessage());
            }
            if (closed) break;
            states.put(gateway, State.RECONNECTING);
            if (Duration.between(started, Instant.now()).compareTo(MAX_BACKOFF) > 0) backoff = Duration.ofSeconds(1);
            long sleep = ThreadLocalRandom.current().nextLong(backoff.toMillis() / 2, backoff.toMillis() + 1); // jitter
            log.info("agent {}: reconnecting to {} in {} ms", settings.name(), gateway, sleep);
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                break;
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
        states.put(gateway, State.STOPPED);
    }

    /** One connection: log in with the certificate, heartbeat and renew until it ends. */
    private void connectOnce(InetSocketAddress gateway) throws Exception {
        PublicKey gatewayKey = PublicKeyEntry.parsePublicKeyEntry(Files.readString(gatewayKeyFile()).strip()).resolvePublicKey(null, Map.of(), null);
        client.setServerKeyVerifier((s, remote, serverKey) -> KeyUtils.compareKeys(serverKey, gatewayKey));
        KeyPair key = UserCertificates.KeyPairs.loadOrCreate(keyFile(), "portcullis network agent " + settings.name());
        OpenSshCertificate certificate = (OpenSshCertificate) PublicKeyEntry.parsePublicKeyEntry(Files.readString(certificateFile()).strip())
                .resolvePublicKey(null, Map.of(), null);
        // Resolved at each attempt: a replica that moved (a new pod IP behind its name) is found again.
        InetSocketAddress resolved = new InetSocketAddress(gateway.getHostString(), gateway.getPort());
        try (ClientSession s = client.connect(settings.name(), resolved).verify(10, TimeUnit.SECONDS).getSession()) {
            s.addPublicKeyIdentity(new KeyPair(certificate, key.getPrivate()));
            s.auth().verify(10, TimeUnit.SECONDS);
            sessions.put(gateway, s);
            heartbeat(s); // answered once the gateway has the tunnel open for streams: connected from then on
            states.put(gateway, State.CONNECTED);
            log.info("agent {} connected to {}", settings.name(), gateway);
            while (!closed && s.isOpen()) {
                Thread.sleep(HEARTBEAT.toMillis());
                heartbeat(s);
                certificate = renewIfHalfwayThrough(s, certificate);
            }
            if (!closed) log.warn("agent {}: the gateway {} closed the connection", settings.name(), gateway);
        } finally {
            sessions.remove(gateway);
        }
    }

    private static void heartbeat(ClientSession s) throws IOException {
        Buffer beat = s.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST);
        beat.putString(AgentListener.HEARTBEAT);
        beat.putBoolean(true);
        if (s.request(AgentListener.HEARTBEAT, beat, HEARTBEAT.toMillis() * 2, TimeUnit.MILLISECONDS) == null) {
            throw new IOException("the gateway did not answer a heartbeat");
        }
    }

    private OpenSshCertificate renewIfHalfwayThrough(ClientSession s, OpenSshCertificate current) throws IOException {
        long after = current.getValidAfter();
        long before = current.getValidBefore();
        long now = Instant.now().getEpochSecond();
        if (now < after + (before - after) / 2) return current;
        Buffer request = s.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST);
        request.putString(AgentListener.RENEW);
        request.putBoolean(true);
        Buffer reply = s.request(AgentListener.RENEW, request, 10, TimeUnit.SECONDS);
        if (reply == null) throw new IOException("the gateway refused to renew the certificate");
        String line = reply.getString();
        Files.writeString(certificateFile(), line + "\n");
        log.info("agent {}: certificate renewed", settings.name());
        try {
            return (OpenSshCertificate) PublicKeyEntry.parsePublicKeyEntry(line).resolvePublicKey(null, Map.of(), null);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("the renewed certificate cannot be read: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
        sessions.values().forEach(s -> s.close(true));
        loops.forEach(Thread::interrupt);
        for (Thread t : loops) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        client.stop();
        for (ServerSocket login : logins) {
            try {
                login.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        states.replaceAll((g, st) -> State.STOPPED);
    }

    /** A loopback listener whose connections {@code serve} handles, each on a virtual thread; closed with the agent. */
    private InetSocketAddress localEnd(String target, java.util.function.Consumer<java.net.Socket> serve) throws IOException {
        ServerSocket local = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        logins.add(local);
        Thread.ofVirtual().name("agent-credentials-" + target).start(() -> {
            while (!local.isClosed()) {
                try {
                    java.net.Socket s = local.accept();
                    Thread.ofVirtual().start(() -> serve.accept(s));
                } catch (IOException e) {
                    return; // closed
                }
            }
        });
        return new InetSocketAddress("127.0.0.1", local.getLocalPort());
    }

    /**
     * A stream the gateway opens: to its target, or, for a database whose credentials the agent holds, to
     * the local login end for it (the allow-list is checked against the target the gateway named).
     */
    static final class Redirecting extends org.apache.sshd.server.forward.TcpipServerChannel {
        private final AllowList allowList;
        private final Map<String, InetSocketAddress> redirects;

        Redirecting(AllowList allowList, Map<String, InetSocketAddress> redirects) {
            super(TcpForwardingFilter.Type.Direct, null);
            this.allowList = allowList;
            this.redirects = redirects;
        }

        @Override
        protected org.apache.sshd.client.future.OpenFuture doInit(Buffer buffer) {
            int start = buffer.rpos();
            String host = buffer.getString();
            int port = buffer.getInt();
            String originator = buffer.getString();
            int originatorPort = buffer.getInt();
            buffer.rpos(start);
            InetSocketAddress local = redirects.get(host + ":" + port);
            if (local == null || !allowList.allows(host, port)) return super.doInit(buffer);
            Buffer rewritten = new org.apache.sshd.common.util.buffer.ByteArrayBuffer();
            rewritten.putString(local.getHostString());
            rewritten.putInt(local.getPort());
            rewritten.putString(originator);
            rewritten.putInt(originatorPort);
            return super.doInit(rewritten);
        }
    }

    /**
     * A join token as {@code portcullis agents join-token} prints it: the secret, then (after a dot) the
     * gateway's host key fingerprint, base64url, which the agent pins when it enrols (as kubeadm's
     * discovery hash does). A bare secret needs {@code --gateway-key}.
     */
    record JoinToken(String secret, Optional<String> gatewayKey) {
        static JoinToken parse(String text) {
            String t = text.strip();
            int dot = t.indexOf('.');
            if (dot < 0) return new JoinToken(t, Optional.empty());
            try {
                String key = new String(java.util.Base64.getUrlDecoder().decode(t.substring(dot + 1)), java.nio.charset.StandardCharsets.UTF_8);
                if (!key.startsWith("SHA256:")) throw new IllegalArgumentException("not a key fingerprint");
                return new JoinToken(t.substring(0, dot), Optional.of(key));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("the join token is damaged (its gateway key part cannot be read): copy it whole", e);
            }
        }

        /** The printed form: the secret and the pinned key. */
        static String format(String secret, String gatewayKey) {
            return secret + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(gatewayKey.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** The targets this agent connects to, and nothing else (its own local login ends aside). */
    static final class AllowList implements TcpForwardingFilter {
        private final Set<String> allowed;
        private final Set<String> local;

        AllowList(Set<String> allowed, java.util.Collection<InetSocketAddress> localLogins) {
            this.allowed = Set.copyOf(allowed);
            this.local = localLogins.stream().map(a -> a.getHostString() + ":" + a.getPort()).collect(java.util.stream.Collectors.toUnmodifiableSet());
        }

        boolean allows(String host, int port) {
            return allowed.contains(host + ":" + port) || allowed.contains(host + ":*") || local.contains(host + ":" + port);
        }

        @Override
        public boolean canListen(SshdSocketAddress address, Session session) {
            return false;
        }

        @Override
        public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
            boolean ok = type == Type.Direct && allows(address.getHostName(), address.getPort());
            if (!ok) log.warn("refused a connection to {}:{}: not on this agent's allow-list", address.getHostName(), address.getPort());
            return ok;
        }
    }
}
