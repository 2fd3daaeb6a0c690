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
        NetworkAgent agent = NetworkAgent.start(new NetworkAgent.Settings(name, addresses, stateDir, new LinkedHashSet<>(allow), token,
                Optional.ofNullable(gatewayKey)));
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            stop.countDown();
        }));
        stop.await();
        return 0;
    }
}
