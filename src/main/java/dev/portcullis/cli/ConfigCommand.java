package dev.portcullis.cli;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.ProtocolRegistry;
import java.util.ArrayList;
import java.util.List;
import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.GatewayConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "config", mixinStandardHelpOptions = true, description = "Work with configuration files.",
        subcommands = ConfigCommand.Check.class)
final class ConfigCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Validate a configuration as serve would, with the current environment; print every error with file, line and field.")
    static final class Check implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Override
        public Integer call() throws Exception {
            GatewayConfig cfg = ConfigLoader.load(file, System.getenv());
            ProtocolRegistry protocols = ProtocolRegistry.installed();
            // Valid, but can it be served here? A protocol module may lack what it needs (libpg_query).
            List<String> unavailable = new ArrayList<>();
            for (ConnectionConfig c : cfg.connections()) {
                protocols.moduleOf(c).unavailableBecause().ifPresent(why -> unavailable.add(
                        "connection " + c.name() + " (" + c.type() + ") cannot be served on this machine: " + why));
            }
            if (!unavailable.isEmpty()) {
                System.err.println(file + ": valid, but serve would refuse to start:");
                unavailable.forEach(u -> System.err.println("  " + u));
                return 1;
            }
            System.out.println(file + ": OK");
            for (ConnectionConfig c : cfg.connections()) {
                System.out.println("  connection " + c.name() + " (" + c.type() + ") on " + c.listen().getHostString() + ":"
                        + c.listen().getPort() + ", " + c.policy().rules().size() + " rules (then default deny)");
            }
            return 0;
        }
    }
}
