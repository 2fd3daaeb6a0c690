package dev.portcullis.cli;

import dev.portcullis.config.ConfigLoader;
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
            System.out.println(file + ": OK");
            for (ConnectionConfig c : cfg.connections()) {
                System.out.println("  connection " + c.name() + " on " + c.listen().getHostString() + ":" + c.listen().getPort()
                        + ", " + c.policy().rules().size() + " rules (then default deny)");
            }
            return 0;
        }
    }
}
