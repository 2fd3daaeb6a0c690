package dev.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "approvals", mixinStandardHelpOptions = true, description = "Operations held for approval.",
        subcommands = ApprovalsCommand.ListApprovals.class)
final class ApprovalsCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List approval requests, oldest first (token from $" + ApprovalServer.TOKEN_ENV + ").")
    static final class ListApprovals implements Callable<Integer> {
        @Mixin
        ApprovalServer server;

        @Spec
        CommandSpec spec;

        @Option(names = "--state", defaultValue = "pending",
                description = "pending, approved, denied, expired, released or all (default: ${DEFAULT-VALUE}).")
        String state;

        @Option(names = "--json", description = "Machine-readable output: the API's JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ApprovalServer.Answer answer = server.get("/api/v1/approvals?state=" + URLEncoder.encode(state, StandardCharsets.UTF_8));
            if (!answer.ok()) return refused(spec, answer);
            JsonNode approvals = answer.body().path("approvals");
            if (json) {
                System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(approvals));
                return 0;
            }
            if (approvals.isEmpty()) {
                System.out.println("no " + (state.equals("all") ? "" : state + " ") + "approval requests");
                return 0;
            }
            DateTimeFormatter time = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());
            String format = "%-24s  %-8s  %-9s  %-16s  %-14s  %-16s  %-19s  %s%n";
            System.out.printf(format, "ID", "STATE", "APPROVALS", "REQUESTER", "CONNECTION", "RULE", "EXPIRES", "OPERATION");
            for (JsonNode a : approvals) {
                System.out.printf(format, a.path("id").asText(), a.path("state").asText(),
                        a.path("approvals").size() + "/" + a.path("approvalsRequired").asInt(),
                        a.path("requester").path("subject").asText(), a.path("connection").asText(),
                        a.path("ruleId").asText(), time.format(Instant.parse(a.path("expiresAt").asText())),
                        a.path("summary").asText());
            }
            return 0;
        }
    }

    /** Prints the server's problem detail to stderr; a refusal exits 1. */
    static int refused(CommandSpec spec, ApprovalServer.Answer answer) {
        spec.commandLine().getErr().println("portcullis: refused: " + answer.problem());
        return 1;
    }

    static List<String> approvers(JsonNode request) {
        List<String> names = new ArrayList<>();
        request.path("approvals").forEach(a -> names.add(a.path("subject").asText()));
        return names;
    }
}
