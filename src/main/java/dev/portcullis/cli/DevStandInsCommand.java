package dev.portcullis.cli;

import ch.qos.logback.classic.Level;
import dev.portcullis.dev.DemoOkta;
import dev.portcullis.dev.DevIssuer;
import java.net.URI;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "dev-stand-ins", mixinStandardHelpOptions = true,
        header = "Run the development issuer and the demo Okta for a container network (NOT FOR PRODUCTION).",
        description = {"The development token issuer and the demo Okta of 'portcullis dev', as a service of a Compose",
                "trial (deploy/compose): they listen on --bind and name themselves by the URLs the gateway reaches",
                "them at. The issuer signs a token for anyone who asks: never run this where it can be reached",
                "from outside the trial. Runs until killed."})
final class DevStandInsCommand implements Callable<Integer> {
    @Option(names = "--bind", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--issuer-port", defaultValue = "8082")
    int issuerPort;

    @Option(names = "--issuer-url", required = true, paramLabel = "URL",
            description = "The issuer's URL as the gateway reaches it, e.g. http://stand-ins:8082: the tokens' iss.")
    URI issuerUrl;

    @Option(names = "--audience", defaultValue = DevIssuer.DEFAULT_AUDIENCE)
    String audience;

    @Option(names = "--okta-port", defaultValue = "8090")
    int oktaPort;

    @Option(names = "--okta-url", required = true, paramLabel = "URL",
            description = "The demo Okta's URL as the gateway reaches it, e.g. http://stand-ins:8090.")
    URI oktaUrl;

    @Option(names = "--users", defaultValue = "25", description = "Users seeded in the demo Okta (default: ${DEFAULT-VALUE}).")
    int users;

    @Option(names = "--log-level", defaultValue = "info", paramLabel = "LEVEL")
    String logLevel;

    @Override
    public Integer call() throws Exception {
        Logging.configure(Logging.Format.text, Level.toLevel(logLevel, Level.INFO));
        String apiToken = System.getenv("OKTA_API_TOKEN");
        if (apiToken == null || apiToken.isBlank()) {
            System.err.println("dev-stand-ins: set OKTA_API_TOKEN (the token the gateway sends to the demo Okta)");
            return 2;
        }
        DevIssuer issuer = DevIssuer.start(bind, issuerPort, issuerUrl, audience);
        DemoOkta okta = DemoOkta.start(bind, oktaPort, oktaUrl, apiToken, users);
        System.out.printf("development issuer %s (audience %s) and demo Okta %s: NOT FOR PRODUCTION%n"
                + "a token: curl -s -d subject=agent-1 -d groups=agents %s/token%n", issuer.issuer(), audience, okta.orgUrl(), issuerUrl);
        ServeCommand.awaitShutdown(okta, issuer);
        return 0;
    }
}
