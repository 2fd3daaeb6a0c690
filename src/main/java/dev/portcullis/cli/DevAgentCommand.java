package dev.portcullis.cli;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.core.Json;
import dev.portcullis.dev.DemoOkta;
import dev.portcullis.dev.DevIssuer;
import dev.portcullis.http.AgentCredentials;
import dev.portcullis.netagent.NetworkAgent;
import dev.portcullis.server.Gateway;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "agent", mixinStandardHelpOptions = true,
        header = "Try a network agent in a minute: the Okta tour with Okta reached through an agent that holds its token.",
        description = {"The gateway running examples/okta.yaml with its upstream through a network agent (upstream.via) that",
                "holds Okta's API token (credentials: agent), a development token issuer (NOT FOR PRODUCTION), a demo",
                "Okta, and the agent itself, enrolled with a join token, all in this process; plus commands to paste."})
final class DevAgentCommand implements Callable<Integer> {
    @Mixin
    DevTourOptions tour;

    @Option(names = "--listen", defaultValue = "127.0.0.1:8081", description = "Where agents call the Okta connection (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--agents", defaultValue = "127.0.0.1:8443", description = "The agent listener (default: ${DEFAULT-VALUE}).")
    String agents;

    @Override
    public Integer call() throws Exception {
        Logging.configure(Logging.Format.text, tour.level());
        Path data = DevTourOptions.dataDirectory();
        Files.createDirectories(data);
        DevIssuer issuer = DevIssuer.start(tour.issuerPort, DevIssuer.DEFAULT_AUDIENCE);
        String apiToken = "dev-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
        DemoOkta okta = DemoOkta.start(0, apiToken, 25);
        URI oktaUrl = okta.orgUrl();

        // The shipped example, its upstream through the agent, Okta's token the agent's alone.
        Path config = data.resolve("dev-agent.yaml");
        try (InputStream example = DevAgentCommand.class.getResourceAsStream("/examples/okta.yaml")) {
            if (example == null) throw new IllegalStateException("examples/okta.yaml is missing from the build");
            String yaml = new String(example.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                    .replace("\nconnections:\n", "\nagents:\n  listen: ${PORTCULLIS_AGENTS_LISTEN}\n  admins: [platform]\n\nconnections:\n")
                    .replace("      connect-timeout: 5s\n", "      connect-timeout: 5s\n      via: agent okta-edge\n")
                    .replace("    credentials:\n      header: Authorization\n      value: SSWS ${OKTA_API_TOKEN}\n", "    credentials: agent\n");
            if (!yaml.contains("credentials: agent") || !yaml.contains("via: agent okta-edge")) {
                throw new IllegalStateException("examples/okta.yaml changed shape: cannot route it through an agent here");
            }
            Files.writeString(config, yaml);
        }
        Map<String, String> env = tour.environment(issuer, data);
        env.put("OKTA_URL", oktaUrl.toString());
        env.put("PORTCULLIS_OKTA_LISTEN", listen);
        env.put("PORTCULLIS_AGENTS_LISTEN", agents);
        GatewayConfig cfg = ConfigLoader.load(config, env);
        Gateway gateway = Gateway.start(cfg, Clock.systemUTC());

        // A platform member makes the join token through the admin API, as in production.
        String platform = issuer.mint("ops-1", List.of("platform"), Duration.ofHours(1));
        HttpResponse<String> join = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + tour.admin + "/api/v1/agents/join-tokens"))
                .header("Authorization", "Bearer " + platform).POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"okta-edge\",\"ttl\":\"10m\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (join.statusCode() != 201) throw new IllegalStateException("no join token: " + join.body());
        var j = Json.mapper().readTree(join.body());
        int colon = agents.lastIndexOf(':');
        String oktaTarget = oktaUrl.getHost() + ":" + oktaUrl.getPort();
        NetworkAgent agent = NetworkAgent.start(new NetworkAgent.Settings("okta-edge",
                List.of(new InetSocketAddress(agents.substring(0, colon), Integer.parseInt(agents.substring(colon + 1)))),
                data.resolve("dev-agent-state-" + System.nanoTime()), Set.of(oktaTarget), Optional.of(j.path("token").asText()),
                Optional.of(j.path("gatewayKey").asText()), Map.of(),
                Map.of(oktaTarget, new AgentCredentials.Target(oktaUrl.getHost(), oktaUrl.getPort(), false, "Authorization", "SSWS " + apiToken))));

        // The tour is printed once the agent is connected, so its first command works at once.
        if (!agent.awaitConnected(Duration.ofSeconds(30))) throw new IllegalStateException("the dev agent did not connect within 30 s");

        String token = issuer.mint("agent-1", List.of("agents"), Duration.ofHours(1));
        String base = "http://" + listen;
        System.out.println("""

                Portcullis dev mode with a network agent: NOT FOR PRODUCTION (data in %s)
                  gateway, connection 'okta'   %s   (examples/okta.yaml, upstream via agent okta-edge)
                  agent listener               %s   (host key %s)
                  network agent okta-edge      in this process; holds Okta's API token (the gateway has none)
                  demo Okta                    %s

                export TOKEN=%s
                export PORTCULLIS_TOKEN=%s    # ops-1, group platform: manages agents

                # through the agent; emails masked by the gateway as ever
                curl -s -H "Authorization: Bearer $TOKEN" "%s/api/v1/users?limit=2"

                # the agent, its last heartbeat and open streams; then revoke it: the next call is a 502 naming it
                bin/portcullis agents list --server http://%s
                bin/portcullis agents revoke okta-edge --server http://%s
                curl -s -H "Authorization: Bearer $TOKEN" "%s/api/v1/users?limit=2"
                """.formatted(data, base, agents, j.path("gatewayKey").asText(), oktaUrl, token, platform, base, tour.admin, tour.admin, base));
        System.out.flush();
        ServeCommand.awaitShutdown(agent, gateway, okta, issuer);
        return 0;
    }
}
