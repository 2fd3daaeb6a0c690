package dev.portcullis.cli;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.dev.DemoOkta;
import dev.portcullis.dev.DevIssuer;
import dev.portcullis.server.Gateway;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "dev", mixinStandardHelpOptions = true, subcommands = {DevKubernetesCommand.class, DevSshCommand.class, DevAgentCommand.class},
        header = "Try it in a minute: the gateway, a development issuer and a demo Okta, nothing to configure.",
        description = {"The first minute: the gateway running examples/okta.yaml with an embedded store, a built-in",
                "development token issuer (NOT FOR PRODUCTION) and a demo Okta, plus commands to paste."})
final class DevCommand implements Callable<Integer> {
    @Mixin
    DevTourOptions tour;

    @Option(names = "--listen", defaultValue = "127.0.0.1:8081", description = "Where agents call the Okta connection (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--upstream", paramLabel = "URL", description = "Use this API as the upstream instead of the demo Okta.")
    URI upstream;

    @Option(names = "--users", defaultValue = "25", description = "Users seeded in the demo Okta (default: ${DEFAULT-VALUE}).")
    int users;

    @Option(names = "--token-file", paramLabel = "FILE", description = "Also write the agent token to this file.")
    Path tokenFile;

    @Option(names = "--log-format", defaultValue = "text", paramLabel = "text|json")
    Logging.Format logFormat;

    @Override
    public Integer call() throws Exception {
        Logging.configure(logFormat, tour.level());
        Path data = DevTourOptions.dataDirectory();
        Files.createDirectories(data);
        List<AutoCloseable> running = new ArrayList<>();

        DevIssuer issuer = DevIssuer.start(tour.issuerPort, DevIssuer.DEFAULT_AUDIENCE);
        running.add(issuer);
        String apiToken = "dev-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
        URI upstreamUrl = upstream;
        DemoOkta demo = null;
        if (upstreamUrl == null) {
            demo = DemoOkta.start(0, apiToken, users);
            running.add(demo);
            upstreamUrl = demo.orgUrl();
        }

        // The shipped example itself, so what the tour shows is what a user deploys.
        Path config = data.resolve("dev-okta.yaml");
        try (InputStream example = DevCommand.class.getResourceAsStream("/examples/okta.yaml")) {
            if (example == null) throw new IllegalStateException("examples/okta.yaml is missing from the build");
            Files.write(config, example.readAllBytes());
        }
        Map<String, String> env = tour.environment(issuer, data);
        env.put("OKTA_URL", upstreamUrl.toString());
        env.put("OKTA_API_TOKEN", apiToken);
        env.put("PORTCULLIS_OKTA_LISTEN", listen);
        GatewayConfig cfg = ConfigLoader.load(config, env);
        Gateway gateway = Gateway.start(cfg, Clock.systemUTC());
        running.add(gateway);

        String token = issuer.mint("agent-1", List.of("agents"), Duration.ofHours(1));
        if (tokenFile != null) Files.writeString(tokenFile, token);
        String base = "http://" + listen;
        String someUser = demo == null ? "00u0000000000000001" : demo.userIds().getFirst();
        System.out.println("""

                Portcullis dev mode: NOT FOR PRODUCTION (built-in token issuer, demo upstream, data in %s)
                  gateway, connection 'okta'   %s   (policy: examples/okta.yaml)
                  admin                        http://%s   (/healthz /readyz /metrics)
                  console                      http://%s/console/   (sign in as approver-1: approves, audits)
                  development token issuer     %s
                  upstream                     %s%s

                An agent token (subject agent-1, group agents, valid 1 hour); new ones from the issuer:
                  curl -s -d subject=agent-2 -d groups=agents %s

                export TOKEN=%s

                # allowed; profile.email and profile.mobilePhone masked, and any email/phone elsewhere
                curl -s -H "Authorization: Bearer $TOKEN" "%s/api/v1/users?limit=2"

                # refused by rule no-user-deletion; the upstream never sees it
                curl -s -X DELETE -H "Authorization: Bearer $TOKEN" %s/api/v1/users/%s

                # needs approval by okta-admins: held up to 25 s, then 403 approval-pending with an id
                curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
                     -d '{"type":"SUPER_ADMIN"}' %s/api/v1/users/%s/roles
                # approve it in the console (http://%s/console/approvals), or as an okta-admin here,
                # then repeat the call with -H "Portcullis-Approval: <id>"
                PORTCULLIS_TOKEN=$(curl -s -d subject=admin-1 -d groups=okta-admins %s | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/') \\
                  bin/portcullis approve <id> --server http://%s

                # a bad token: 401, recorded, never forwarded
                curl -s -H "Authorization: Bearer not-a-token" %s/api/v1/users

                # what happened
                PORTCULLIS_DATA=%s bin/portcullis sessions list
                PORTCULLIS_DATA=%s bin/portcullis replay latest
                PORTCULLIS_DATA=%s bin/portcullis audit verify
                """.formatted(data, base, tour.admin, tour.admin, issuer.issuer(), upstreamUrl, demo == null ? "" : "   (demo Okta)",
                issuer.tokenEndpoint(), token, base, base, someUser, base, someUser, tour.admin, issuer.tokenEndpoint(), tour.admin, base, data,
                data, data));
        System.out.flush();
        ServeCommand.awaitShutdown(running.reversed().toArray(AutoCloseable[]::new));
        return 0;
    }
}
