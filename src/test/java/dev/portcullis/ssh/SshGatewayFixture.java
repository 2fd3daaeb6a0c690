package dev.portcullis.ssh;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * SSH for real: Debian's OpenSSH server on a loopback port with its own host key and authorized_keys
 * (the upstream host), an OIDC issuer over HTTP, the gateway started from the shipped
 * {@code examples/ssh.yaml}, and the OpenSSH client as the agent.
 */
final class SshGatewayFixture implements AutoCloseable {
    static final String AUDIENCE = "portcullis";
    final MockOAuth2Server issuer = new MockOAuth2Server();
    final Path dir;
    final Path sshdLog;
    final Process sshd;
    final Gateway gateway;
    final int sshPort;
    final int gatewayPort;
    final int adminPort;

    SshGatewayFixture(Path dir) throws Exception {
        this(dir, java.util.function.UnaryOperator.identity());
    }

    /** @param configEdit applied to the text of {@code examples/ssh.yaml} before it is loaded */
    SshGatewayFixture(Path dir, java.util.function.UnaryOperator<String> configEdit) throws Exception {
        this.dir = dir;
        issuer.start(InetAddress.getByName("127.0.0.1"), 0);
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("host_key").toString());
        run("ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", "", "-f", dir.resolve("gateway_key").toString());
        Files.copy(dir.resolve("gateway_key.pub"), dir.resolve("authorized_keys"));
        sshPort = freePort();
        try {
            Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation directory, as root
        } catch (IOException notRoot) {
            // a non-root sshd does without it
        }
        Path config = Files.writeString(dir.resolve("sshd_config"), """
                Port %d
                ListenAddress 127.0.0.1
                HostKey %s
                AuthorizedKeysFile %s
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PubkeyAuthentication yes
                PermitRootLogin prohibit-password
                StrictModes no
                UsePAM no
                Subsystem sftp internal-sftp
                PidFile %s
                LogLevel VERBOSE
                """.formatted(sshPort, dir.resolve("host_key"), dir.resolve("authorized_keys"), dir.resolve("sshd.pid")));
        sshdLog = dir.resolve("sshd.log");
        sshd = new ProcessBuilder("/usr/sbin/sshd", "-D", "-e", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(sshdLog.toFile()).start();
        waitForPort(sshPort);
        Files.writeString(dir.resolve("known_hosts"), "[127.0.0.1]:" + sshPort + " " + Files.readString(dir.resolve("host_key.pub")));

        gatewayPort = freePort();
        adminPort = freePort();
        Map<String, String> env = new HashMap<>();
        env.put("PORTCULLIS_OIDC_ISSUER", issuer.issuerUrl("default").toString());
        env.put("PORTCULLIS_OIDC_AUDIENCE", AUDIENCE);
        env.put("PORTCULLIS_DATA", dir.resolve("data").toString());
        env.put("PORTCULLIS_ADMIN_LISTEN", "127.0.0.1:" + adminPort);
        env.put("PORTCULLIS_CONSOLE_URL", "http://127.0.0.1:" + adminPort);
        env.put("PORTCULLIS_SSH_LISTEN", "127.0.0.1:" + gatewayPort);
        env.put("SSH_HOST", "127.0.0.1");
        env.put("SSH_PORT", Integer.toString(sshPort));
        env.put("SSH_USER", System.getProperty("user.name"));
        env.put("SSH_KEY_FILE", dir.resolve("gateway_key").toString());
        env.put("SSH_KNOWN_HOSTS", dir.resolve("known_hosts").toString());
        try {
            Path configFile = Path.of("examples/ssh.yaml");
            String original = Files.readString(configFile);
            String edited = configEdit.apply(original);
            if (!edited.equals(original)) configFile = Files.writeString(dir.resolve("ssh.yaml"), edited);
            GatewayConfig gc = ConfigLoader.load(configFile, env);
            gateway = Gateway.start(gc, Clock.systemUTC());
        } catch (Exception | Error e) {
            sshd.destroyForcibly();
            issuer.shutdown();
            throw e;
        }
    }

    String token(String subject, String... groups) {
        return issuer.issueToken("default", subject, AUDIENCE, Map.of("groups", List.of(groups)), 3600L).serialize();
    }

    /**
     * Logs an agent in as {@code portcullis ssh-login} does (a certificate for its token, in {@code agentDir});
     * answers the ssh_config snippet it wrote.
     */
    Path sshLogin(Path agentDir, String subject, String... groups) throws Exception {
        var main = Class.forName("dev.portcullis.cli.Main").getDeclaredMethod("commandLine");
        main.setAccessible(true);
        var cli = (picocli.CommandLine) main.invoke(null);
        Path token = Files.writeString(dir.resolve("token-" + subject), token(subject, groups));
        int exit = cli.execute("ssh-login", "--connection", "web", "--server", "http://127.0.0.1:" + adminPort,
                "--token-file", token.toString(), "--dir", agentDir.toString());
        if (exit != 0) throw new AssertionError("ssh-login exited " + exit);
        return agentDir.resolve("ssh_config");
    }

    /** A token that expires after {@code seconds}. */
    String shortToken(long seconds, String subject, String... groups) {
        return issuer.issueToken("default", subject, AUDIENCE, Map.of("groups", List.of(groups)), seconds).serialize();
    }

    /** What sshd logged so far: every login the gateway made shows as "Accepted publickey". */
    long upstreamLogins() throws IOException {
        return Files.readAllLines(sshdLog).stream().filter(l -> l.contains("Accepted publickey")).count();
    }

    record Run(int exit, String out, String err) {
    }

    /** ssh with the snippet ssh-login wrote, in batch mode (no prompt can hang a test). */
    Run ssh(Path sshConfig, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ssh", "-F", sshConfig.toString(), "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("ssh did not finish: " + err);
        }
        return new Run(p.exitValue(), out, err);
    }

    static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(String.join(" ", command) + ": " + out);
    }

    static int freePort() throws IOException {
        return dev.portcullis.testing.Ports.free(); // never the same port twice in this JVM
    }

    private void waitForPort(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (var s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!sshd.isAlive()) throw new IllegalStateException("sshd did not start: " + Files.readString(sshdLog));
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("sshd did not listen: " + Files.readString(sshdLog));
    }

    @Override
    public void close() {
        gateway.close();
        sshd.destroy();
        issuer.shutdown();
    }
}
