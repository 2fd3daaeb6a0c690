package dev.portcullis.cli;

import ch.qos.logback.classic.Level;
import dev.portcullis.dev.DevIssuer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * What every {@code portcullis dev} tour shares: its admin listener, its development issuer's port, its log
 * level, its data directory, and the environment the shipped example is read with (the issuer, the data
 * directory, the admin listener and the console's address on it).
 */
final class DevTourOptions {
    @Option(names = "--admin", defaultValue = "127.0.0.1:8080", description = "Admin listener (default: ${DEFAULT-VALUE}).")
    String admin;

    @Option(names = "--issuer-port", defaultValue = "8082", description = "Port of the development token issuer (default: ${DEFAULT-VALUE}).")
    int issuerPort;

    @Option(names = "--log-level", defaultValue = "info", paramLabel = "LEVEL")
    String logLevel;

    Level level() {
        return Level.toLevel(logLevel, Level.INFO);
    }

    /** {@code PORTCULLIS_DATA}, or {@code ./data}, made absolute. */
    static Path dataDirectory() {
        return Path.of(System.getenv().getOrDefault("PORTCULLIS_DATA", "./data")).toAbsolutePath().normalize();
    }

    /** This process's environment, plus what every example reads: the issuer, the data directory, the admin listener, the console. */
    Map<String, String> environment(DevIssuer issuer, Path data) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("PORTCULLIS_OIDC_ISSUER", issuer.issuer().toString());
        env.put("PORTCULLIS_OIDC_AUDIENCE", issuer.audience());
        env.put("PORTCULLIS_DATA", data.toString());
        env.put("PORTCULLIS_ADMIN_LISTEN", admin);
        env.put("PORTCULLIS_CONSOLE_URL", "http://" + admin);
        return env;
    }
}
