package dev.portcullis.cli;

import dev.portcullis.netagent.NetworkAgent;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Run a network agent beside targets the gateway cannot reach.",
                "It dials out to the gateway's agent listener, stays connected, and opens the connections the gateway",
                "asks for, to the targets on its allow-list only. On first start it enrols with a one-time join token",
                "(portcullis agents join-token)."})
final class AgentCommand implements Callable<Integer> {
    static final String JOIN_TOKEN_ENV = "PORTCULLIS_JOIN_TOKEN";

    @Option(names = "--gateway", required = true, paramLabel = "HOST:PORT", split = ",",
            description = "The gateway's agent listener (agents.listen); with replicas, each replica's (repeat, or comma-separate): the agent stays connected to all.")
    List<String> gateways;

    @Option(names = "--name", required = true, description = "This agent's name, as the join token and connections' via: agent NAME say.")
    String name;

    @Option(names = "--allow", paramLabel = "HOST:PORT", split = ",",
            description = "A target this agent may connect to (repeat, or comma-separate; HOST:* for any port). Nothing else is reachable through it.")
    List<String> allow = List.of();

    @Option(names = "--state-dir", defaultValue = "./agent-state", description = "Where its key, certificate and the gateway's pinned key live (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--join-token-file", description = "The join token, for the first start (or $" + JOIN_TOKEN_ENV + ").")
    Path joinTokenFile;

    @Option(names = "--gateway-key", paramLabel = "SHA256:...", description = "The gateway's agent host key fingerprint, printed with the join token; checked at enrolment.")
    String gatewayKey;

    @Option(names = "--postgres-login", paramLabel = "HOST:PORT=USER:ENV", split = ",",
            description = {"A database whose credentials this agent holds (the gateway's connection says credentials: agent):",
                    "the agent logs in as USER with the password in environment variable ENV, and the gateway never sees either."})
    List<String> postgresLogins = List.of();

    @Option(names = "--http-credential", paramLabel = "URL=HEADER:ENV", split = ",",
            description = {"An HTTP API whose credential this agent holds (the gateway's connection says credentials: agent), e.g.",
                    "https://example.okta.com=Authorization:OKTA_AUTH: the agent sets HEADER to the value of environment variable ENV",
                    "on every request, and speaks TLS to an https target itself; the gateway never sees the value."})
    List<String> httpCredentials = List.of();

    @Option(names = "--log-level", paramLabel = "LEVEL", description = "info (default), debug, warn.")
    String logLevel;

    @Override
    public Integer call() throws Exception {
        Logging.configure(Logging.Format.text, ch.qos.logback.classic.Level.toLevel(logLevel, ch.qos.logback.classic.Level.INFO));
        List<InetSocketAddress> addresses = new java.util.ArrayList<>();
        for (String gateway : gateways) {
            int colon = gateway.lastIndexOf(':');
            if (colon <= 0 || !gateway.substring(colon + 1).matches("\\d{1,5}")) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--gateway must be HOST:PORT, not " + gateway);
            }
            addresses.add(InetSocketAddress.createUnresolved(gateway.substring(0, colon), Integer.parseInt(gateway.substring(colon + 1))));
        }
        Optional<String> token = Optional.ofNullable(System.getenv(JOIN_TOKEN_ENV)).filter(t -> !t.isBlank());
        if (joinTokenFile != null) token = Optional.of(Files.readString(joinTokenFile).strip());
        if (allow.isEmpty()) System.err.println("agent " + name + ": no --allow given, so no target is reachable through it");
        java.util.Map<String, dev.portcullis.postgres.AgentLogin.Target> logins = new java.util.LinkedHashMap<>();
        for (String login : postgresLogins) {
            var m = java.util.regex.Pattern.compile("([^=:\\s]+):(\\d{1,5})=([^:\\s]+):([A-Za-z_][A-Za-z0-9_]*)").matcher(login);
            if (!m.matches()) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--postgres-login must be HOST:PORT=USER:ENV, not " + login);
            }
            String password = System.getenv(m.group(4));
            if (password == null || password.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--postgres-login " + m.group(1) + ":" + m.group(2) + ": environment variable " + m.group(4) + " (the password) is not set");
            }
            logins.put(m.group(1) + ":" + m.group(2), new dev.portcullis.postgres.AgentLogin.Target(m.group(1), Integer.parseInt(m.group(2)), m.group(3), password));
        }
        java.util.Map<String, dev.portcullis.http.AgentCredentials.Target> credentials = new java.util.LinkedHashMap<>();
        for (String credential : httpCredentials) {
            var m = java.util.regex.Pattern.compile("(https?)://([^/:=\\s]+)(?::(\\d{1,5}))?/?=([!#$%&'*+.^_`|~0-9A-Za-z-]+):([A-Za-z_][A-Za-z0-9_]*)").matcher(credential);
            if (!m.matches()) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--http-credential must be URL=HEADER:ENV, not " + credential);
            }
            String value = System.getenv(m.group(5));
            if (value == null || value.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--http-credential " + m.group(1) + "://" + m.group(2) + ": environment variable " + m.group(5) + " (the value) is not set");
            }
            boolean tls = m.group(1).equals("https");
            int port = m.group(3) != null ? Integer.parseInt(m.group(3)) : tls ? 443 : 80;
            credentials.put(m.group(2) + ":" + port, new dev.portcullis.http.AgentCredentials.Target(m.group(2), port, tls, m.group(4), value));
        }
        NetworkAgent agent = NetworkAgent.start(new NetworkAgent.Settings(name, addresses, stateDir, new LinkedHashSet<>(allow), token,
                Optional.ofNullable(gatewayKey), logins, credentials));
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            stop.countDown();
        }));
        stop.await();
        return 0;
    }
}
