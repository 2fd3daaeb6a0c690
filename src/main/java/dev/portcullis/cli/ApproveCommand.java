package dev.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "approve", mixinStandardHelpOptions = true,
        header = "Approve a held operation as yourself.",
        description = "Approve a held operation as yourself (token from $" + ApprovalServer.TOKEN_ENV + ").")
final class ApproveCommand implements Callable<Integer> {
    @Mixin
    ApprovalServer server;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "The approval request, e.g. apr_k3v7q2m9x4t6b8n5r2wa.")
    String id;

    @Override
    public Integer call() throws Exception {
        ApprovalServer.Answer answer = server.post("/api/v1/approvals/" + URLEncoder.encode(id, StandardCharsets.UTF_8) + "/approve", "");
        if (!answer.ok()) return ApprovalsCommand.refused(spec, answer);
        JsonNode r = answer.body();
        int have = r.path("approvals").size();
        int need = r.path("approvalsRequired").asInt();
        JsonNode grant = r.path("grant");
        if (r.path("state").asText().equals("approved") && grant.path("until").isTextual()) {
            System.out.println("approved " + id + ": " + r.path("summary").asText() + " (by " + String.join(", ",
                    ApprovalsCommand.approvers(r)) + "); " + r.path("requester").path("subject").asText()
                    + " may run every operation of rule " + r.path("ruleId").asText() + " on " + r.path("connection").asText()
                    + " for " + ApprovalsCommand.grantLength(grant) + ", until " + ApprovalsCommand.time(grant.path("until"))
                    + "; portcullis revoke " + id + " --reason TEXT ends it early");
        } else if (r.path("state").asText().equals("approved")) {
            System.out.println("approved " + id + ": " + r.path("summary").asText() + " (by " + String.join(", ",
                    ApprovalsCommand.approvers(r)) + "); the operation may now run once");
        } else {
            System.out.println("approval recorded for " + id + ": " + have + " of " + need + " approvals; waiting for "
                    + (need - have) + " more");
        }
        return 0;
    }
}
