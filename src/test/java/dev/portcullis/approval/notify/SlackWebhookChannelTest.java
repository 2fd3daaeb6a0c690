package dev.portcullis.approval.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The message a Slack incoming webhook receives. */
class SlackWebhookChannelTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode sendOne(Notification n) throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver(); HttpClient http = HttpClient.newHttpClient()) {
            var channel = new SlackWebhookChannel(receiver.url());
            assertThat(channel.name()).isEqualTo("slack:127.0.0.1");
            http.send(channel.request(n), HttpResponse.BodyHandlers.discarding());
            WebhookReceiver.Received got = receiver.next();
            assertThat(got.header("Content-Type")).startsWith("application/json");
            return JSON.readTree(got.body());
        }
    }

    private static List<JsonNode> blocks(JsonNode message, String type) {
        List<JsonNode> found = new ArrayList<>();
        message.path("blocks").forEach(b -> {
            if (b.path("type").asText().equals(type)) {
                found.add(b);
            }
        });
        return found;
    }

    @Test
    void theMessageHasFallbackTextAndBlocksWithTheOperationInACodeBlock() throws Exception {
        JsonNode message = sendOne(Notifications.sample("apr-9"));

        assertThat(message.path("text").asText()).contains("agent-7", "okta", "okta-user-delete",
                "https://gw.example.com/approvals/apr-9");
        assertThat(blocks(message, "header")).singleElement()
                .satisfies(h -> assertThat(h.path("text").path("text").asText()).isEqualTo("Approval needed on okta"));
        String operation = blocks(message, "section").getFirst().path("text").path("text").asText();
        assertThat(operation).startsWith("```DELETE /api/v1/users/00u1").endsWith("```");
        String fields = blocks(message, "section").get(1).path("fields").toString();
        assertThat(fields).contains("*Requester*\\nagent-7", "*Rule*\\nokta-user-delete",
                "*Reason*\\ndeleting a user needs a human", "*Approvals*\\n2 from sre, iam-admins",
                "*Expires*\\n<!date^" + Notifications.sample("x").expiresAt().getEpochSecond());
        assertThat(blocks(message, "context").getFirst().toString())
                .contains("apr-9", "https://gw.example.com/api/v1/approvals/apr-9");
    }

    @Test
    void aGrantSaysRightAfterTheOperationThatApprovingOpensTheRuleForAWhile() throws Exception {
        JsonNode message = sendOne(Notifications.grant("apr-9", Duration.ofMinutes(30)));

        String line = "Approving grants 30 minutes of access under rule okta-user-delete";
        assertThat(message.path("text").asText()).contains("https://gw.example.com/approvals/apr-9", line);
        List<JsonNode> sections = blocks(message, "section");
        assertThat(sections.getFirst().path("text").path("text").asText()).startsWith("```DELETE");
        assertThat(sections.get(1).path("text").path("text").asText()).contains(line,
                "agent-7 may then run every operation it matches on okta without asking again");
        assertThat(sections.get(2).path("fields").toString()).contains("*Rule*\\nokta-user-delete");

        JsonNode single = sendOne(Notifications.sample("apr-9"));
        assertThat(single.toString()).doesNotContain("Approving grants");
        assertThat(blocks(single, "section")).hasSize(2);
    }

    @Test
    void approveAndDenyAreUrlButtonsToTheApprovalPage() throws Exception {
        JsonNode actions = blocks(sendOne(Notifications.sample("apr-9")), "actions").getFirst();

        JsonNode approve = actions.path("elements").get(0);
        JsonNode deny = actions.path("elements").get(1);
        assertThat(actions.path("elements").size()).isEqualTo(2);
        assertThat(approve.path("type").asText()).isEqualTo("button");
        assertThat(approve.path("text").path("text").asText()).isEqualTo("Approve");
        assertThat(approve.path("style").asText()).isEqualTo("primary");
        assertThat(approve.path("url").asText()).isEqualTo("https://gw.example.com/approvals/apr-9?decision=approve");
        assertThat(deny.path("text").path("text").asText()).isEqualTo("Deny");
        assertThat(deny.path("style").asText()).isEqualTo("danger");
        assertThat(deny.path("url").asText()).isEqualTo("https://gw.example.com/approvals/apr-9?decision=deny");
        assertThat(approve.path("action_id").asText()).isNotEqualTo(deny.path("action_id").asText());
    }

    @Test
    void textFromTheRequestCannotPingTheChannelOrBreakOutOfTheCodeBlock() throws Exception {
        JsonNode message = sendOne(Notifications.sample("apr-9"));
        String operation = blocks(message, "section").getFirst().path("text").path("text").asText();

        assertThat(operation).contains("&lt;@channel&gt; &amp;").doesNotContain("<@channel>");
        assertThat(operation.substring(3, operation.length() - 3)).doesNotContain("```");
    }

    @Test
    void aLongOperationIsCutToFitSlacksLimits() throws Exception {
        Notification n = Notifications.sample("apr-9");
        Notification huge = new Notification(n.requestId(), n.connection(), n.requesterSubject(), "x".repeat(10_000),
                "y".repeat(10_000), n.ruleId(), "r".repeat(5_000), n.approverGroups(), n.approvalsRequired(), n.grant(), n.createdAt(), n.expiresAt(),
                n.approvePageUrl(), n.apiUrl());
        JsonNode message = sendOne(huge);

        assertThat(blocks(message, "section").getFirst().path("text").path("text").asText().length()).isLessThanOrEqualTo(3000);
        blocks(message, "section").get(1).path("fields")
                .forEach(f -> assertThat(f.path("text").asText().length()).isLessThanOrEqualTo(2000));
    }
}
