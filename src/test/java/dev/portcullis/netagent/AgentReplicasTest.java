package dev.portcullis.netagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.AgentsConfig;
import dev.portcullis.store.LoggedStore;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas' agent listeners on one store, with the same CA and host key (as the Helm chart mounts
 * them): one agent, enrolled once, keeps a connection to both, so either can reach the target; revoked
 * through one, it is dropped by the other within a second; killed and started again, it reconnects to
 * both with the certificate it kept.
 */
class AgentReplicasTest {
    @TempDir
    Path dir;
    LoggedStore store;
    AgentListener a;
    AgentListener b;
    NetworkAgent agent;
    ServerSocket echo;
    final List<String> refused = new CopyOnWriteArrayList<>();

    AgentListener replica() throws Exception {
        return replica(0);
    }

    AgentListener replica(int port) throws Exception {
        return AgentListener.start(new AgentsConfig(new InetSocketAddress("127.0.0.1", port), Set.of(), Duration.ofHours(24),
                dir.resolve("agents-ca"), dir.resolve("agents-host-key")), new AgentRegistry(store.index(), Clock.systemUTC()),
                (addr, r, m) -> refused.add(r + ": " + m), Clock.systemUTC());
    }

    @BeforeEach
    void start() throws Exception {
        echo = TunnelStreamsTest.echoServer();
        store = LoggedStore.open(dir.resolve("portcullis.db"), 64L * 1024 * 1024);
        a = replica();
        b = replica();
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) agent.close();
        a.close();
        b.close();
        store.close();
        echo.close();
    }

    NetworkAgent startAgent(Optional<String> token) throws Exception {
        return NetworkAgent.start(new NetworkAgent.Settings("edge", List.of(new InetSocketAddress("127.0.0.1", a.port()),
                new InetSocketAddress("127.0.0.1", b.port())), dir.resolve("agent"), Set.of("127.0.0.1:" + echo.getLocalPort()), token,
                Optional.of(a.hostKeyFingerprint())));
    }

    static void await(AgentListener replica, boolean connected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while ((replica.connected().isEmpty() == connected) && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(replica.connected().isEmpty()).as("connected: " + connected).isEqualTo(!connected);
    }

    void echoesThrough(AgentListener replica) throws Exception {
        try (Socket s = TunnelStreamsTest.connect(replica.open("edge", "127.0.0.1", echo.getLocalPort()).get(10, TimeUnit.SECONDS))) {
            s.getOutputStream().write("through\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(s.getInputStream().readNBytes(8), StandardCharsets.US_ASCII)).isEqualTo("through\n");
        }
    }

    @Test
    void theAgentComesBackOnItsOwnAfterAGatewayRestarts() throws Exception {
        agent = startAgent(Optional.of(a.registry().createJoinToken("edge", Duration.ofMinutes(5))));
        await(a, true);
        int port = a.port();
        a.close(); // the replica goes away (a restart, a rolling update)
        long down = System.nanoTime();
        Thread.sleep(1500);
        a = replica(port);
        await(a, true); // backoff from 1 s, with jitter: back within a few seconds
        assertThat(Duration.ofNanos(System.nanoTime() - down)).isLessThan(Duration.ofSeconds(10));
        echoesThrough(a);
        await(b, true); // the other replica's connection was never disturbed
    }

    @Test
    void oneAgentServesEveryReplicaAndARevocationAnywhereDropsItEverywhere() throws Exception {
        assertThat(a.hostKeyFingerprint()).isEqualTo(b.hostKeyFingerprint());
        agent = startAgent(Optional.of(a.registry().createJoinToken("edge", Duration.ofMinutes(5))));
        await(a, true);
        await(b, true);
        echoesThrough(a);
        echoesThrough(b);

        // killed and started again (its state kept): back on both, without a new join token
        agent.close();
        await(a, false);
        await(b, false);
        agent = startAgent(Optional.empty());
        await(a, true);
        await(b, true);
        echoesThrough(b);

        long t0 = System.nanoTime();
        assertThat(a.revoke("edge")).isTrue();
        await(b, false);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("the other replica drops it within a second").isLessThan(Duration.ofSeconds(1));
        assertThat(a.connected()).isEmpty();
        assertThat(refused).anySatisfy(r -> assertThat(r).startsWith("agent-revoked"));
        Thread.sleep(3000); // it keeps trying, and is refused each time
        assertThat(a.connected()).isEmpty();
        assertThat(b.connected()).isEmpty();
        assertThat(refused).anySatisfy(r -> assertThat(r).contains("agent edge was revoked"));
    }
}
