package dev.portcullis.cli;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.dev.DevIssuer;
import dev.portcullis.server.Gateway;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code portcullis dev ssh}: the OpenSSH client through the gateway in a minute, to a throwaway sshd. */
@Command(name = "ssh", mixinStandardHelpOptions = true,
        header = "Try ssh through the gateway: a development issuer and a throwaway sshd on loopback, nothing to configure.",
        description = {"The gateway running examples/ssh.yaml, a development token issuer (NOT FOR PRODUCTION), a throwaway",
                "OpenSSH server on 127.0.0.1 (Debian's openssh-server must be installed) with its own keys, and an agent",
                "already logged in: an SSH certificate and an ssh_config snippet to use with ssh -F."})
final class DevSshCommand implements Callable<Integer> {
    @Mixin
    DevTourOptions tour;

    @Option(names = "--listen", defaultValue = "127.0.0.1:12222", description = "Where agents ssh to (default: ${DEFAULT-VALUE}).")
    String listen;

    @Override
    public Integer call() throws Exception {
        Logging.configure(Logging.Format.text, tour.level());
        Path sshdBinary = Path.of("/usr/sbin/sshd");
        if (!Files.isExecutable(sshdBinary)) {
            System.err.println("portcullis dev ssh: needs Debian's openssh-server (apt-get install openssh-server)");
            return 2;
        }
        Path data = DevTourOptions.dataDirectory();
        Path work = Files.createDirectories(data.resolve("dev-ssh"));
        List<AutoCloseable> running = new ArrayList<>();

        // The throwaway host: its own host key, the gateway's key as the only authorized one.
        for (String name : List.of("host_key", "host_key.pub", "gateway_key", "gateway_key.pub")) Files.deleteIfExists(work.resolve(name));
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", work.resolve("host_key").toString());
        run("ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", "", "-f", work.resolve("gateway_key").toString());
        Files.copy(work.resolve("gateway_key.pub"), work.resolve("authorized_keys"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        int sshdPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            sshdPort = s.getLocalPort();
        }
        try {
            Files.createDirectories(Path.of("/run/sshd"));
        } catch (IOException notRoot) {
            // a non-root sshd does without its privilege separation directory
        }
        Path config = Files.writeString(work.resolve("sshd_config"), """
                Port %d
                ListenAddress 127.0.0.1
                HostKey %s
                AuthorizedKeysFile %s
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                StrictModes no
                UsePAM no
                Subsystem sftp internal-sftp
                PidFile %s
                """.formatted(sshdPort, work.resolve("host_key"), work.resolve("authorized_keys"), work.resolve("sshd.pid")));
        Process sshd = new ProcessBuilder(sshdBinary.toString(), "-D", "-e", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(work.resolve("sshd.log").toFile()).start();
        running.add(sshd::destroy);
        awaitPort(sshdPort, sshd, work.resolve("sshd.log"));
        Files.writeString(work.resolve("known_hosts"), "[127.0.0.1]:" + sshdPort + " " + Files.readString(work.resolve("host_key.pub")));

        DevIssuer issuer = DevIssuer.start(tour.issuerPort, DevIssuer.DEFAULT_AUDIENCE);
        running.add(issuer);
        Path gatewayConfig = data.resolve("dev-ssh.yaml");
        try (InputStream example = DevSshCommand.class.getResourceAsStream("/examples/ssh.yaml")) {
            if (example == null) throw new IllegalStateException("examples/ssh.yaml is missing from the build");
            Files.write(gatewayConfig, example.readAllBytes());
        }
        Map<String, String> env = tour.environment(issuer, data);
        env.put("PORTCULLIS_SSH_LISTEN", listen);
        env.put("SSH_HOST", "127.0.0.1");
        env.put("SSH_PORT", Integer.toString(sshdPort));
        env.put("SSH_USER", System.getProperty("user.name"));
        env.put("SSH_KEY_FILE", work.resolve("gateway_key").toString());
        env.put("SSH_KNOWN_HOSTS", work.resolve("known_hosts").toString());
        GatewayConfig cfg = ConfigLoader.load(gatewayConfig, env);
        Gateway gateway = Gateway.start(cfg, Clock.systemUTC());
        running.add(gateway);

        Path token = Files.writeString(data.resolve("dev-agent-token"), issuer.mint("agent-1", List.of("agents"), Duration.ofHours(1)));
        Path agent = data.resolve("dev-ssh-agent");
        int login = Main.commandLine().execute("ssh-login", "--connection", "web", "--server", "http://" + tour.admin, "--token-file", token.toString(),
                "--dir", agent.toString());
        if (login != 0) throw new IllegalStateException("ssh-login failed");
        Path snippet = agent.resolve("ssh_config");
        System.out.println("""

                Portcullis dev mode, SSH: NOT FOR PRODUCTION (built-in token issuer, a throwaway sshd, data in %s)
                  gateway, connection 'web'   ssh://%s   (policy: examples/ssh.yaml)
                  admin                       http://%s
                  development token issuer    %s
                  host (throwaway sshd)       127.0.0.1:%d as %s

                agent-1 (group agents) is logged in: a 10-minute certificate and an ssh_config in %s.
                A new one: PORTCULLIS_AGENT_TOKEN=<token> bin/portcullis ssh-login --connection web --server http://%s --dir %s

                ssh -F %s web 'uptime; df -h'                   # allowed
                ssh -F %s web 'uptime; rm -rf /tmp/x'           # refused: rm, exit 126; the host never sees the line
                ssh -F %s web 'echo cmVib290 | base64 -d | sh'  # refused: what sh runs cannot be read
                ssh -F %s web 'systemctl restart nginx'         # waits for an sre's approval
                ssh -F %s web                                   # a shell: waits for an sre, then recorded

                PORTCULLIS_DATA=%s bin/portcullis replay latest --cast shell.cast
                """.formatted(data, listen, tour.admin, issuer.issuer(), sshdPort, System.getProperty("user.name"), agent, tour.admin, agent,
                snippet, snippet, snippet, snippet, snippet, data));
        System.out.flush();
        ServeCommand.awaitShutdown(running.reversed().toArray(AutoCloseable[]::new));
        return 0;
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(String.join(" ", command) + ": " + out);
    }

    private static void awaitPort(int port, Process sshd, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                if (!sshd.isAlive()) throw new IOException("sshd did not start: " + Files.readString(log));
                Thread.sleep(50);
            }
        }
        throw new IOException("sshd did not listen: " + Files.readString(log));
    }
}
