package dev.portcullis.cli;

import ch.qos.logback.classic.Level;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.server.Gateway;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the gateway from a configuration file (see examples/).")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "Gateway configuration (YAML).")
    Path config;

    @Option(names = "--log-format", defaultValue = "text", paramLabel = "text|json",
            description = "Log lines as text or as one JSON object per line (default: ${DEFAULT-VALUE}).")
    Logging.Format logFormat;

    @Option(names = "--log-level", defaultValue = "info", paramLabel = "LEVEL", description = "trace, debug, info, warn or error.")
    String logLevel;

    @Override
    public Integer call() throws Exception {
        Logging.configure(logFormat, Level.toLevel(logLevel, Level.INFO));
        GatewayConfig cfg = ConfigLoader.load(config, System.getenv());
        Gateway gateway = Gateway.start(cfg, Clock.systemUTC());
        awaitShutdown(gateway);
        return 0;
    }

    /** Blocks until SIGTERM/SIGINT, then closes the gateway (listeners first, store last). */
    static void awaitShutdown(AutoCloseable... closeables) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (AutoCloseable c : closeables) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // shutting down: nothing more to do with it
                }
            }
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
    }
}
