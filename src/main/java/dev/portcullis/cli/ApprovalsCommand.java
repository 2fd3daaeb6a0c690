package dev.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

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
                description = "pending, approved, denied, expired, released, revoked or all (default: ${DEFAULT-VALUE}).")
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
            String format = "%-24s  %-8s  %-9s  %-16s  %-14s  %-16s  %-19s  %-6s  %-19s  %s%n";
            System.out.printf(format, "ID", "STATE", "APPROVALS", "REQUESTER", "CONNECTION", "RULE", "EXPIRES", "GRANT",
                    "GRANT UNTIL", "OPERATION");
            for (JsonNode a : approvals) {
                JsonNode grant = a.path("grant");
                System.out.printf(format, a.path("id").asText(), a.path("state").asText(),
                        a.path("approvals").size() + "/" + a.path("approvalsRequired").asInt(),
                        a.path("requester").path("subject").asText(), a.path("connection").asText(),
                        a.path("ruleId").asText(), time(a.path("expiresAt")),
                        grant.isObject() ? grantLength(grant) : "-",
                        grant.path("until").isTextual() ? time(grant.path("until")) : "-",
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

    /** An instant from the API, in this machine's time zone: {@code 2026-11-23 10:34:00}. */
    static String time(JsonNode instant) {
        return TIME.format(Instant.parse(instant.asText()));
    }

    /** A grant's length as a rule's {@code grant:} would say it: {@code 30m}, {@code 1h30m}, {@code 24h}. */
    static String grantLength(JsonNode grant) {
        Duration d = Duration.parse(grant.path("duration").asText());
        String text = (d.toHours() > 0 ? d.toHours() + "h" : "") + (d.toMinutesPart() > 0 ? d.toMinutesPart() + "m" : "")
                + (d.toSecondsPart() > 0 ? d.toSecondsPart() + "s" : "");
        return text.isEmpty() ? d.toString() : text;
    }

    static List<String> approvers(JsonNode request) {
        List<String> names = new ArrayList<>();
        request.path("approvals").forEach(a -> names.add(a.path("subject").asText()));
        return names;
    }
}
