package dev.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "revoke", mixinStandardHelpOptions = true,
        header = "End an approval or a running time-boxed grant early, with a recorded reason.",
        description = "Revoke an approved request or a running time-boxed grant as yourself (an approver, or the requester"
                + " giving access back early), with a reason that is recorded (token from $" + ApprovalServer.TOKEN_ENV + ").")
final class RevokeCommand implements Callable<Integer> {
    @Mixin
    ApprovalServer server;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "The approval request, e.g. apr_k3v7q2m9x4t6b8n5r2wa.")
    String id;

    @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why; shown to the requester and recorded.")
    String reason;

    @Override
    public Integer call() throws Exception {
        String body = new ObjectMapper().createObjectNode().put("reason", reason).toString();
        ApprovalServer.Answer answer = server.post("/api/v1/approvals/" + URLEncoder.encode(id, StandardCharsets.UTF_8) + "/revoke", body);
        if (!answer.ok()) return ApprovalsCommand.refused(spec, answer);
        JsonNode r = answer.body();
        String ended = r.path("grant").isObject()
                ? "; the grant of rule " + r.path("ruleId").asText() + " to " + r.path("requester").path("subject").asText() + " has ended"
                : "; it will not be released";
        System.out.println("revoked " + id + ": " + r.path("summary").asText() + " (reason: "
                + r.path("revocation").path("reason").asText() + ")" + ended);
        return 0;
    }
}
