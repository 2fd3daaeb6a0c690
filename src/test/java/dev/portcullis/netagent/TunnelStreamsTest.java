package dev.portcullis.netagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.config.AgentsConfig;
import dev.portcullis.core.Tunnels;
import dev.portcullis.store.LoggedStore;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams through one agent's connection, at the tunnel's level: a stream whose reader stops holds back
 * its own target (through the agent, SSH's window per channel) while another stream on the same
 * connection goes on answering; nothing of the slow stream is lost; the bridge serves no one without a
 * ticket; a target off the allow-list is refused by the agent without being dialled.
 */
class TunnelStreamsTest {
    static final long FIREHOSE_BYTES = 48L * 1024 * 1024;

    @TempDir
    Path dir;
    LoggedStore store;
    AgentListener listener;
    NetworkAgent agent;
    ServerSocket firehose;
    ServerSocket echo;
    final AtomicLong fired = new AtomicLong();
    final List<String> refused = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        firehose = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            try (Socket s = firehose.accept(); OutputStream out = s.getOutputStream()) {
                byte[] chunk = new byte[64 * 1024];
                java.util.Arrays.fill(chunk, (byte) 'x');
                for (long sent = 0; sent < FIREHOSE_BYTES; sent += chunk.length) {
                    out.write(chunk);
                    fired.addAndGet(chunk.length);
                }
            } catch (Exception ignored) {
                // the test ended
            }
        });
        echo = echoServer();
        store = LoggedStore.open(dir.resolve("portcullis.db"), 64L * 1024 * 1024);
        AgentRegistry registry = new AgentRegistry(store.index(), Clock.systemUTC());
        listener = AgentListener.start(new AgentsConfig(new InetSocketAddress("127.0.0.1", 0), Set.of(), Duration.ofHours(24),
                dir.resolve("agents-ca"), dir.resolve("agents-host-key")), registry, (a, r, m) -> refused.add(r + ": " + m), Clock.systemUTC());
        String token = registry.createJoinToken("edge", Duration.ofMinutes(5));
        agent = NetworkAgent.start(new NetworkAgent.Settings("edge", new InetSocketAddress("127.0.0.1", listener.port()), dir.resolve("agent"),
                Set.of("127.0.0.1:" + firehose.getLocalPort(), "127.0.0.1:" + echo.getLocalPort()), Optional.of(token),
                Optional.of(listener.hostKeyFingerprint())));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (listener.connected().isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(listener.connected()).extracting(AgentListener.Status::name).containsExactly("edge");
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) agent.close();
        if (listener != null) listener.close();
        if (store != null) store.close();
        firehose.close();
        echo.close();
    }

    /** A loopback server that writes back what each connection sends. */
    static ServerSocket echoServer() throws Exception {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread.ofVirtual().start(() -> {
                        try (s) {
                            s.getInputStream().transferTo(s.getOutputStream());
                        } catch (Exception ignored) {
                            // closed
                        }
                    });
                } catch (Exception e) {
                    return;
                }
            }
        });
        return server;
    }

    static Socket connect(Tunnels.Route route) throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(8 * 1024);
        s.connect(route.address(), 5000);
        s.getOutputStream().write(route.ticket());
        s.getOutputStream().flush();
        s.setSoTimeout(10_000);
        return s;
    }

    @Test
    void aStreamThatIsNotReadHoldsBackItsTargetOnlyAndLosesNothing() throws Exception {
        try (Socket slow = connect(listener.open("edge", "127.0.0.1", firehose.getLocalPort()).get(10, TimeUnit.SECONDS))) {
            Thread.sleep(2000); // the firehose writes what the windows let through, then blocks
            long heldAt = fired.get();
            assertThat(heldAt).as("bytes the target could send while nobody read").isLessThan(FIREHOSE_BYTES / 2);

            // the same agent connection still carries another stream, promptly
            try (Socket quick = connect(listener.open("edge", "127.0.0.1", echo.getLocalPort()).get(10, TimeUnit.SECONDS))) {
                for (int i = 0; i < 20; i++) {
                    long t0 = System.nanoTime();
                    String line = "ping-" + i + "\n";
                    quick.getOutputStream().write(line.getBytes(StandardCharsets.US_ASCII));
                    quick.getOutputStream().flush();
                    byte[] back = quick.getInputStream().readNBytes(line.length());
                    assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo(line);
                    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
                }
            }
            assertThat(fired.get() - heldAt).as("still held while the other stream ran").isLessThan(FIREHOSE_BYTES / 4);

            // the slow reader reads at last: every byte arrives
            InputStream in = slow.getInputStream();
            byte[] buffer = new byte[256 * 1024];
            long received = 0;
            for (int n; received < FIREHOSE_BYTES && (n = in.read(buffer)) > 0; ) received += n;
            assertThat(received).isEqualTo(FIREHOSE_BYTES);
        }
    }

    @Test
    void anAgentCannotUseTheGatewayToReachAnythingItself() throws Exception {
        // a compromised agent, with its own key and certificate, logged in as the agent
        java.security.KeyPair key = new org.apache.sshd.common.keyprovider.FileKeyPairProvider(dir.resolve("agent").resolve("agent-key"))
                .loadKeys(null).iterator().next();
        java.security.PublicKey certificate = org.apache.sshd.common.config.keys.PublicKeyEntry.parsePublicKeyEntry(
                java.nio.file.Files.readString(dir.resolve("agent").resolve("agent-key-cert.pub")).strip()).resolvePublicKey(null, java.util.Map.of(), null);
        try (ServerSocket inside = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
             org.apache.sshd.client.SshClient client = org.apache.sshd.client.SshClient.setUpDefaultClient()) {
            inside.setSoTimeout(1000);
            client.setServerKeyVerifier(org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier.INSTANCE);
            client.start();
            try (var session = client.connect("edge", "127.0.0.1", listener.port()).verify(10, TimeUnit.SECONDS).getSession()) {
                session.addPublicKeyIdentity(new java.security.KeyPair(certificate, key.getPrivate()));
                session.auth().verify(10, TimeUnit.SECONDS);
                // a stream towards the gateway's side (a target next to the gateway): refused
                var direct = session.createDirectTcpipChannel(new org.apache.sshd.common.util.net.SshdSocketAddress("127.0.0.1", 0),
                        new org.apache.sshd.common.util.net.SshdSocketAddress("127.0.0.1", inside.getLocalPort()));
                assertThatThrownBy(() -> direct.open().verify(10, TimeUnit.SECONDS)).isInstanceOf(java.io.IOException.class);
                // a shell or command on the gateway: refused
                assertThatThrownBy(() -> session.createShellChannel().open().verify(10, TimeUnit.SECONDS)).isInstanceOf(java.io.IOException.class);
                // a port opened on the gateway for it (remote forwarding): refused
                assertThatThrownBy(() -> session.startRemotePortForwarding(new org.apache.sshd.common.util.net.SshdSocketAddress("127.0.0.1", 0),
                        new org.apache.sshd.common.util.net.SshdSocketAddress("127.0.0.1", inside.getLocalPort()))).isInstanceOf(java.io.IOException.class);
            }
            assertThatThrownBy(inside::accept).as("nothing reached the gateway's side").isInstanceOf(java.net.SocketTimeoutException.class);
        }
    }

    @Test
    void theListenersKeysAreTheGatewaysAlone() throws Exception {
        for (String key : new String[] {"agents-ca", "agents-host-key"}) {
            assertThat(java.nio.file.Files.getPosixFilePermissions(dir.resolve(key)))
                    .as(key).containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        }
    }

    @Test
    void theBridgeServesNoOneWithoutATicketAndTheAgentDialsOnlyItsAllowList() throws Exception {
        Tunnels.Route route = listener.open("edge", "127.0.0.1", echo.getLocalPort()).get(10, TimeUnit.SECONDS);
        try (Socket stranger = new Socket()) {
            stranger.connect(route.address(), 5000);
            stranger.setSoTimeout(10_000);
            stranger.getOutputStream().write(new byte[Bridge.TICKET_BYTES]); // a guess
            assertThat(stranger.getInputStream().read()).as("closed without a word").isEqualTo(-1);
        }
        // the real ticket works once, and only once
        try (Socket s = connect(route)) {
            s.getOutputStream().write("hi\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(s.getInputStream().readNBytes(3), StandardCharsets.US_ASCII)).isEqualTo("hi\n");
        }
        try (Socket again = connect(route)) {
            assertThat(again.getInputStream().read()).isEqualTo(-1);
        }
        // a port the agent was not told to allow: refused by the agent, never dialled
        try (ServerSocket other = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            other.setSoTimeout(1000);
            var attempt = listener.open("edge", "127.0.0.1", other.getLocalPort());
            assertThatThrownBy(() -> attempt.get(10, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(Tunnels.Unavailable.class).hasMessageContaining("allow-list");
            assertThatThrownBy(other::accept).isInstanceOf(java.net.SocketTimeoutException.class);
        }
        assertThatThrownBy(() -> listener.open("nobody", "127.0.0.1", echo.getLocalPort()).get(1, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasMessageContaining("network agent 'nobody': is not connected");
    }
}
