package dev.portcullis.cli;

import ch.qos.logback.classic.Level;
import dev.portcullis.dev.DevIssuer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "dev-issuer", mixinStandardHelpOptions = true,
        header = "Run only the development token issuer (NOT FOR PRODUCTION) and print an agent token.",
        description = {"Only the development OIDC issuer (NOT FOR PRODUCTION) and one agent token, for trying a",
                "connection (e.g. examples/postgres.yaml) or benchmarking without a real identity provider.",
                "Runs until killed."})
final class DevIssuerCommand implements Callable<Integer> {
    static final Duration TOKEN_TTL = Duration.ofHours(1);

    @Option(names = "--port", defaultValue = "8082", description = "Port on 127.0.0.1; 0 for any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--audience", defaultValue = DevIssuer.DEFAULT_AUDIENCE, description = "aud of the tokens (default: ${DEFAULT-VALUE}).")
    String audience;

    @Option(names = "--subject", defaultValue = "agent-1", description = "sub of the printed token (default: ${DEFAULT-VALUE}).")
    String subject;

    @Option(names = "--groups", defaultValue = "agents", split = ",", paramLabel = "GROUP[,GROUP...]",
            description = "groups of the printed token (default: ${DEFAULT-VALUE}).")
    List<String> groups;

    @Option(names = "--token-file", paramLabel = "FILE", description = "Also write the token to this file.")
    Path tokenFile;

    @Option(names = "--log-level", defaultValue = "info", paramLabel = "LEVEL")
    String logLevel;

    @Override
    public Integer call() throws Exception {
        Logging.configure(Logging.Format.text, Level.toLevel(logLevel, Level.INFO));
        DevIssuer issuer = start(System.out);
        ServeCommand.awaitShutdown(issuer);
        return 0;
    }

    /**
     * Starts the issuer, mints the token, writes the token file (last, so a script that waits for the file knows the
     * issuer is already listening) and prints what to paste. The caller owns the returned issuer.
     */
    DevIssuer start(PrintStream out) throws IOException {
        DevIssuer issuer = DevIssuer.start(port, audience);
        try {
            String token = issuer.mint(subject, groups, TOKEN_TTL);
            if (tokenFile != null) {
                Path partial = tokenFile.resolveSibling(tokenFile.getFileName() + ".partial");
                Files.writeString(partial, token);
                Files.move(partial, tokenFile, StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            }
            out.println("""

                    Portcullis development token issuer: NOT FOR PRODUCTION (it signs a token for anyone who asks)
                      issuer      %s   (audience %s)
                      discovery   %s

                    For a gateway configuration such as examples/postgres.yaml:
                    export PORTCULLIS_OIDC_ISSUER=%s PORTCULLIS_OIDC_AUDIENCE=%s

                    A token for subject %s, groups %s, valid %d minutes%s; new ones from the issuer:
                      curl -s -d subject=agent-2 -d groups=agents %s

                    export TOKEN=%s
                    """.formatted(issuer.issuer(), issuer.audience(), issuer.discoveryUri(), issuer.issuer(),
                    issuer.audience(), subject, String.join(",", groups), TOKEN_TTL.toMinutes(),
                    tokenFile == null ? "" : " (also in " + tokenFile + ")", issuer.tokenEndpoint(), token));
            out.flush();
            return issuer;
        } catch (IOException | RuntimeException e) {
            issuer.close();
            throw e;
        }
    }
}
