package dev.portcullis.cli;

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

@Command(name = "deny", mixinStandardHelpOptions = true,
        header = "Deny a held operation as yourself, with a reason the requester sees.",
        description = "Deny a held operation as yourself, with a reason the requester sees (token from $" + ApprovalServer.TOKEN_ENV + ").")
final class DenyCommand implements Callable<Integer> {
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
        ApprovalServer.Answer answer = server.post("/api/v1/approvals/" + URLEncoder.encode(id, StandardCharsets.UTF_8) + "/deny", body);
        if (!answer.ok()) return ApprovalsCommand.refused(spec, answer);
        System.out.println("denied " + id + ": " + answer.body().path("summary").asText() + " (reason: "
                + answer.body().path("denial").path("reason").asText() + ")");
        return 0;
    }
}
