package dev.portcullis.ssh;

import dev.portcullis.core.Identity;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.recording.ConnectionSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.RejectAllServerKeyVerifier;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SSH connection's listener (Apache MINA SSHD): agents log in with a certificate the gateway issued
 * ({@link UserCertificates}); each exec is judged ({@link ExecCommand}) and, when allowed, run on the host
 * over the gateway's own SSH connection with the gateway's key, the host's key pinned. Port, agent and
 * X11 forwarding are refused; so are shells and subsystems (SFTP) for now.
 */
public final class SshListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SshListener.class);
    static final AttributeRepository.AttributeKey<Identity> IDENTITY = new AttributeRepository.AttributeKey<>();
    static final AttributeRepository.AttributeKey<ConnectionSession> RECORDING = new AttributeRepository.AttributeKey<>();
    /** Why the last key a connection offered was refused, until one logs it in. */
    static final AttributeRepository.AttributeKey<String> REFUSED = new AttributeRepository.AttributeKey<>();

    private final SshServer server;
    private final SshClient client;
    private final UserCertificates certificates;
    private final ExecutorService threads;

    private SshListener(SshServer server, SshClient client, UserCertificates certificates, ExecutorService threads) {
        this.server = server;
        this.client = client;
        this.certificates = certificates;
        this.threads = threads;
    }

    public static SshListener start(SshConnectionConfig config, Gate gate) throws Exception {
        UserCertificates certificates = UserCertificates.open(config.name(), config.userCaKey(), config.certificateTtl());
        KeyPair upstreamKey;
        try {
            upstreamKey = new FileKeyPairProvider(config.upstreamKey()).loadKeys(null).iterator().next();
        } catch (RuntimeException e) {
            certificates.close();
            throw new IOException("connection '" + config.name() + "': cannot read the upstream key " + config.upstreamKey() + ": " + e.getMessage(), e);
        }
        ExecutorService threads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("ssh-" + config.name() + "-", 0).factory());

        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(new KnownHostsServerKeyVerifier(RejectAllServerKeyVerifier.INSTANCE, config.knownHosts()));
        client.start();
        Upstream upstream = new Upstream(client, config, upstreamKey);

        SshServer server = SshServer.setUpDefaultServer();
        InetSocketAddress listen = config.listen();
        server.setHost(listen.getHostString());
        server.setPort(listen.getPort());
        SimpleGeneratorHostKeyProvider hostKey = new SimpleGeneratorHostKeyProvider(config.hostKey());
        hostKey.setAlgorithm(UserCertificates.KeyPairs.EC_TYPE);
        hostKey.setKeySize(256);
        server.setKeyPairProvider(hostKey);
        // A connection gets 30 s to log in (OpenSSH's LoginGraceTime is 120 s): a client that stalls in the
        // key exchange or sends a bad packet and goes quiet does not hold a slot for longer.
        org.apache.sshd.core.CoreModuleProperties.AUTH_TIMEOUT.set(server, java.time.Duration.ofSeconds(30));
        server.setPasswordAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
        server.setPublickeyAuthenticator((user, key, session) -> {
            if (!(key instanceof OpenSshCertificate certificate)) {
                // OpenSSH offers the plain key after its certificate: a certificate's refusal says more, and is kept
                if (session.getAttribute(REFUSED) == null) session.setAttribute(REFUSED, "user " + user + ": a key without a certificate from this gateway");
                return false;
            }
            UserCertificates.Checked checked = certificates.check(certificate, user);
            if (checked.holder() == null) {
                log.info("ssh login refused on {} for {}: {}", config.name(), user, checked.refusal());
                session.setAttribute(REFUSED, "user " + user + ": " + checked.refusal());
                return false;
            }
            // The token the certificate was given for is checked again: expired or revoked (introspection), no login.
            // A refused token is recorded by the gate.
            try {
                Identity identity = gate.authenticate(config.name(), "ssh", address(session), java.util.Optional.of(checked.holder().token()));
                session.setAttribute(IDENTITY, identity);
                session.removeAttribute(REFUSED);
                return true;
            } catch (dev.portcullis.identity.TokenRejectedException | GateUnavailableException e) {
                log.info("ssh login refused on {} for {}: the token behind the certificate no longer holds: {}", config.name(), user, e.getMessage());
                session.removeAttribute(REFUSED); // recorded already, with the token's reason
                return false;
            }
        });
        server.setForwardingFilter(RejectAllForwardingFilter.INSTANCE);
        server.setCommandFactory((channel, command) -> new ExecCommand(config, gate, upstream, threads, command));
        server.setShellFactory(channel -> new ExecCommand(config, gate, upstream, threads, null));
        org.apache.sshd.sftp.server.SftpSubsystemFactory sftp = new org.apache.sshd.sftp.server.SftpSubsystemFactory.Builder().build();
        sftp.addSftpEventListener(new SftpGate(config, gate));
        server.setSubsystemFactories(List.of(sftp));
        server.setFileSystemFactory(SftpGate.files(upstream));
        server.addSessionListener(new SessionListener() {
            @Override
            public void sessionClosed(Session session) {
                ConnectionSession recording = session.getAttribute(RECORDING);
                if (recording != null) recording.end("client disconnected");
                // A connection that offered keys and never logged in: one record, with why the last one was refused
                // (clients offer several keys in turn; each offer is not an event).
                String refused = session.getAttribute(REFUSED);
                if (refused != null && session.getAttribute(IDENTITY) == null) {
                    gate.recordRefusedLogin(config.name(), "ssh", address(session), "certificate-refused", refused);
                }
            }
        });
        try {
            server.start();
        } catch (IOException e) {
            client.stop();
            certificates.close();
            throw new IOException("connection '" + config.name() + "': cannot listen on " + listen.getHostString() + ":" + listen.getPort()
                    + ": " + e.getMessage(), e);
        }
        KeyPair gatewayHostKey = hostKey.loadKeys(null).iterator().next();
        certificates.listening(new UserCertificates.Endpoint(listen.getHostString(), server.getPort(),
                org.apache.sshd.common.config.keys.PublicKeyEntry.toString(gatewayHostKey.getPublic())));
        return new SshListener(server, client, certificates, threads);
    }

    static String address(Session session) {
        return session.getIoSession().getRemoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "unknown";
    }

    /** The recorded session of an SSH connection, opened at its first command. */
    static ConnectionSession recording(ServerSession session, Gate gate, SshConnectionConfig config, Identity identity)
            throws GateUnavailableException {
        synchronized (session) {
            ConnectionSession recording = session.getAttribute(RECORDING);
            if (recording == null) {
                recording = gate.openSession(identity, config.name(), "ssh", address(session));
                session.setAttribute(RECORDING, recording);
            }
            return recording;
        }
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() throws Exception {
        server.stop(true);
        client.stop();
        certificates.close();
        threads.shutdownNow();
    }

    /** How the gateway reaches the host: its own key, the host's key pinned. */
    record Upstream(SshClient client, SshConnectionConfig config, KeyPair key) {
        org.apache.sshd.client.session.ClientSession open() throws IOException {
            Duration timeout = config.connectTimeout();
            var session = client.connect(config.upstreamUser(), config.upstreamHost(), config.upstreamPort()).verify(timeout).getSession();
            session.addPublicKeyIdentity(key);
            session.auth().verify(timeout);
            return session;
        }
    }
}
