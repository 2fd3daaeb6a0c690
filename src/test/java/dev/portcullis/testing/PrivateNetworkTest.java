package dev.portcullis.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The topology an agent end-to-end test relies on, proved with real processes: the private network's
 * PostgreSQL answers (with a password) only from inside the private namespace, the gateway namespace gets
 * connection refused even at the veth address, the private namespace can dial out to the gateway, and
 * closing leaves no namespace or process behind.
 */
@Timeout(60)
class PrivateNetworkTest {
    static final String PSQL = "/usr/lib/postgresql/15/bin/psql";

    static PrivateNetwork network;
    static PrivateNetwork.Postgres postgres;

    record Outcome(int exit, String output) {
    }

    @BeforeAll
    static void start() {
        network = PrivateNetwork.create();
        postgres = network.startPostgres();
        postgres.psqlAsSuperuser("CREATE TABLE secrets (id int PRIMARY KEY, value text);"
                + " INSERT INTO secrets VALUES (1, 'alpha'), (2, 'beta')");
    }

    @AfterAll
    static void stop() {
        if (network != null) network.close();
    }

    @Test
    void insideThePrivateNetworkTheAppUserLogsInWithItsPasswordAndSeesTheSeededRows() throws Exception {
        assertThat(run(network.inPrivate(psql(postgres.host(), "app-secret", "select 1"))))
                .isEqualTo(new Outcome(0, "1\n"));
        assertThat(run(network.inPrivate(psql(postgres.host(), "app-secret",
                "select string_agg(value, ',' order by id) from secrets")))).isEqualTo(new Outcome(0, "alpha,beta\n"));

        Outcome wrongPassword = run(network.inPrivate(psql(postgres.host(), "not-the-secret", "select 1")));
        assertThat(wrongPassword.exit()).isNotZero();
        assertThat(wrongPassword.output()).contains("password authentication failed for user \"app\"");
    }

    @Test
    void fromTheGatewayNamespaceTheDatabaseRefusesBothOnLoopbackAndOnTheVeth() throws Exception {
        for (String host : List.of("127.0.0.1", network.privateAddress())) {
            Outcome outcome = run(network.inGateway(psql(host, "app-secret", "select 1")));
            assertThat(outcome.exit()).as(host).isNotZero();
            // Refused, not timed out: the veth carries the packets, nothing listens there.
            assertThat(outcome.output()).as(host).contains("\"" + host + "\", port 5432 failed: Connection refused");
        }
    }

    @Test
    void fromThePrivateNamespaceAListenerInTheGatewayNamespaceIsReachable() throws Exception {
        Process server = network.start(network.inGateway("python3", "-c", """
                import socket, sys
                s = socket.socket()
                s.bind((sys.argv[1], 0))
                s.listen(1)
                print(s.getsockname()[1], flush=True)
                c, _ = s.accept()
                c.sendall(b'hello from the gateway\\n')
                c.close()
                """, network.gatewayAddress()));
        BufferedReader lines = server.inputReader(StandardCharsets.UTF_8);
        String port = CompletableFuture.supplyAsync(() -> {
            try {
                return lines.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).get(10, TimeUnit.SECONDS);

        Outcome dialled = run(network.inPrivate("bash", "-c", "exec 3<>/dev/tcp/$0/$1 && cat <&3",
                network.gatewayAddress(), port));

        assertThat(dialled).isEqualTo(new Outcome(0, "hello from the gateway\n"));
        assertThat(server.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).isZero();
    }

    @Test
    void theNamespacesOnlyShareTheSlash30AndNeitherForwards() throws Exception {
        for (String namespace : List.of(network.gatewayNamespace(), network.privateNamespace())) {
            assertThat(run(new ProcessBuilder("/usr/sbin/ip", "-n", namespace, "route")).output())
                    .as(namespace).doesNotContain("default").contains("/30 dev pc-");
            assertThat(run(new ProcessBuilder("/usr/sbin/ip", "netns", "exec", namespace, "cat",
                    "/proc/sys/net/ipv4/ip_forward")).output()).as(namespace).isEqualTo("0\n");
        }
        assertThat(run(new ProcessBuilder("/usr/sbin/ip", "-o", "link")).output()).doesNotContain("pc-gw", "pc-priv");
    }

    @Test
    void closeStopsEverythingAndDeletesBothNamespaces() throws Exception {
        PrivateNetwork other = PrivateNetwork.create();
        Process sleeper;
        List<ProcessHandle> inPrivate = new ArrayList<>();
        try {
            other.startPostgres();
            sleeper = other.start(other.inGateway("sleep", "60"));
            run(new ProcessBuilder("/usr/sbin/ip", "netns", "pids", other.privateNamespace())).output().lines()
                    .forEach(pid -> ProcessHandle.of(Long.parseLong(pid)).ifPresent(inPrivate::add));
            assertThat(inPrivate).as("the postmaster and its workers").isNotEmpty();
        } finally {
            other.close();
        }
        other.close(); // idempotent

        assertThat(run(new ProcessBuilder("/usr/sbin/ip", "netns", "list")).output())
                .doesNotContain(other.gatewayNamespace(), other.privateNamespace());
        assertThat(sleeper.isAlive()).isFalse();
        assertThat(inPrivate).noneMatch(process -> PrivateNetwork.running(process.pid()));
    }

    static String[] psql(String host, String password, String sql) {
        return new String[] {"env", "PGPASSWORD=" + password, "PGCONNECT_TIMEOUT=3", PSQL, "-X", "-At", "-h", host,
                "-p", "5432", "-U", "app", "-d", "app", "-c", sql};
    }

    static Outcome run(ProcessBuilder builder) throws Exception {
        Process process = builder.redirectErrorStream(true).start();
        process.getOutputStream().close();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as(String.join(" ", builder.command())).isTrue();
        return new Outcome(process.exitValue(),
                new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
