package dev.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "agents", mixinStandardHelpOptions = true,
        description = {"Network agents: one-time join tokens, the list of agents and their connections, revocation.",
                "Through the admin API, for members of agents.admins (token from $" + ApprovalServer.TOKEN_ENV + ")."},
        subcommands = {AgentsCommand.JoinToken.class, AgentsCommand.ListAgents.class, AgentsCommand.Revoke.class})
final class AgentsCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "join-token", mixinStandardHelpOptions = true,
            description = {"Make a one-time join token for an agent, and print the command that enrols it.",
                    "The token is shown once; the gateway keeps only its hash."})
    static final class JoinToken implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        ApprovalServer server;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--name", required = true, description = "The agent's name (a-z, 0-9, -), as connections name it in via: agent NAME.")
        String name;

        @Option(names = "--ttl", defaultValue = "1h", description = "How long the token may be used (default: ${DEFAULT-VALUE}; at most 7d).")
        String ttl;

        @Override
        public Integer call() throws Exception {
            String body = dev.portcullis.core.Json.mapper().createObjectNode().put("name", name).put("ttl", ttl).toString();
            ApprovalServer.Answer answer = server.post("/api/v1/agents/join-tokens", body);
            if (!answer.ok()) return ApprovalsCommand.refused(spec, answer);
            JsonNode a = answer.body();
            System.out.println("join token for agent " + name + " (one use, until " + a.path("expiresAt").asText() + "):");
            System.out.println();
            System.out.println("  " + a.path("token").asText());
            System.out.println();
            System.out.println("Run the agent beside its targets with:");
            System.out.println("  PORTCULLIS_JOIN_TOKEN=<the token> bin/portcullis agent --gateway " + a.path("gateway").asText()
                    + " --name " + name + " --allow HOST:PORT ...");
            System.out.println("(the token carries the gateway's host key, " + a.path("gatewayKey").asText() + ", which the agent pins)");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List agents: state, and their connection to the replica asked.")
    static final class ListAgents implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        ApprovalServer server;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--json", description = "Machine-readable output.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ApprovalServer.Answer answer = server.get("/api/v1/agents");
            if (!answer.ok()) return ApprovalsCommand.refused(spec, answer);
            if (json) {
                System.out.println(answer.body().toPrettyString());
                return 0;
            }
            System.out.printf("%-24s %-20s %-10s %s%n", "AGENT", "STATE", "CONNECTED", "LAST HEARTBEAT / STREAMS");
            for (JsonNode a : answer.body().path("agents")) {
                boolean up = a.path("connected").asBoolean();
                System.out.printf("%-24s %-20s %-10s %s%n", a.path("name").asText(), a.path("state").asText(), up ? "yes" : "no",
                        up ? a.path("lastHeartbeat").asText() + " / " + a.path("openStreams").asInt() : "");
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke an agent: its tunnel is dropped at once, and its certificate no longer logs in anywhere.")
    static final class Revoke implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        ApprovalServer server;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "The agent's name.")
        String name;

        @Override
        public Integer call() throws Exception {
            ApprovalServer.Answer answer = server.post("/api/v1/agents/" + name + "/revoke", "{}");
            if (!answer.ok()) return ApprovalsCommand.refused(spec, answer);
            System.out.println("revoked agent " + name);
            return 0;
        }
    }
}
