package dev.portcullis.approval.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Optional;

/**
 * POSTs a Block Kit message to a Slack (or Slack-compatible: Mattermost, Rocket.Chat) incoming webhook.
 * The Approve and Deny buttons are plain {@code url} buttons to the approval page, so no interactive
 * Slack app is needed; they add {@code decision=approve|deny} to the page's query, which the page may
 * use to preselect. The page must still ask for a confirming POST: chat clients and link scanners
 * fetch URLs on their own.
 */
public final class SlackWebhookChannel implements NotificationChannel {
    // Block Kit limits: header text 150 chars, section text 3000, field text 2000.
    static final int MAX_HEADER_CHARS = 150;
    static final int MAX_OPERATION_CHARS = 2800;
    static final int MAX_FIELD_CHARS = 1900;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI webhookUrl;

    public SlackWebhookChannel(URI webhookUrl) {
        this.webhookUrl = WebhookUrls.requireHttp(webhookUrl, "slack");
    }

    @Override
    public String name() {
        return "slack:" + webhookUrl.getHost();
    }

    @Override
    public HttpRequest request(Notification n) {
        try {
            return HttpRequest.newBuilder(webhookUrl)
                    .header("Content-Type", "application/json; charset=utf-8")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(message(n))))
                    .build();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write a Slack message as JSON", e);
        }
    }

    static ObjectNode message(Notification n) {
        ObjectNode message = JSON.createObjectNode();
        // The fallback for notifications and clients that cannot show blocks.
        message.put("text", "Approval needed: " + escape(n.requesterSubject()) + " on " + escape(n.connection())
                + " (rule " + escape(n.ruleId()) + "): " + n.approvePageUrl()
                + grantLine(n).map(line -> ". " + line).orElse(""));
        ArrayNode blocks = message.putArray("blocks");

        blocks.addObject().put("type", "header").putObject("text")
                .put("type", "plain_text")
                .put("text", truncate("Approval needed on " + n.connection(), MAX_HEADER_CHARS));

        blocks.addObject().put("type", "section").putObject("text")
                .put("type", "mrkdwn")
                .put("text", "```" + codeBlock(n.operationDetail().isBlank() ? n.operationSummary() : n.operationDetail()) + "```");

        grantLine(n).ifPresent(line -> blocks.addObject().put("type", "section").putObject("text")
                .put("type", "mrkdwn").put("text", ":hourglass_flowing_sand: " + line));

        ArrayNode fields = blocks.addObject().put("type", "section").putArray("fields");
        field(fields, "Requester", escape(n.requesterSubject()));
        field(fields, "Rule", escape(n.ruleId()));
        field(fields, "Reason", escape(n.reason()));
        // Slack shows <!date^…> in each reader's own time zone; the text after | is the fallback.
        field(fields, "Expires", "<!date^" + n.expiresAt().getEpochSecond() + "^{date_short_pretty} {time}|"
                + n.expiresAt() + ">");
        field(fields, "Approvals", n.approvalsRequired() + (n.approverGroups().isEmpty() ? ""
                : " from " + escape(String.join(", ", n.approverGroups()))));

        ArrayNode buttons = blocks.addObject().put("type", "actions").put("block_id", "portcullis-decision")
                .putArray("elements");
        button(buttons, "approve", "Approve", "primary", WebhookUrls.withQuery(n.approvePageUrl(), "decision", "approve"));
        button(buttons, "deny", "Deny", "danger", WebhookUrls.withQuery(n.approvePageUrl(), "decision", "deny"));

        blocks.addObject().put("type", "context").putArray("elements").addObject()
                .put("type", "mrkdwn")
                .put("text", "Request `" + escape(n.requestId()) + "` · API: " + n.apiUrl());
        return message;
    }

    /**
     * For a time-boxed grant: approvers approve access for a while, not just the operation shown, and
     * must read that before they click.
     */
    static Optional<String> grantLine(Notification n) {
        return n.grant().map(g -> "Approving grants " + g.toMinutes() + (g.toMinutes() == 1 ? " minute" : " minutes")
                + " of access under rule " + escape(n.ruleId()) + ": " + escape(n.requesterSubject())
                + " may then run every operation it matches on " + escape(n.connection()) + " without asking again.");
    }

    private static void field(ArrayNode fields, String label, String mrkdwn) {
        fields.addObject().put("type", "mrkdwn").put("text", "*" + label + "*\n" + truncate(mrkdwn, MAX_FIELD_CHARS));
    }

    private static void button(ArrayNode elements, String actionId, String label, String style, URI url) {
        ObjectNode button = elements.addObject().put("type", "button").put("action_id", actionId);
        button.putObject("text").put("type", "plain_text").put("text", label);
        button.put("style", style).put("url", url.toString());
    }

    /** Slack's three control characters; escaping {@code <} also stops {@code <!channel>} pings. */
    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** Escaped, cut to fit, and with no backtick run that could close the code block early. */
    static String codeBlock(String text) {
        String s = truncate(escape(text), MAX_OPERATION_CHARS);
        while (s.contains("```")) {
            s = s.replace("```", "``\u200B`");
        }
        if (s.startsWith("`")) {
            s = "\u200B" + s;
        }
        if (s.endsWith("`")) {
            s = s + "\u200B";
        }
        return s;
    }

    static String truncate(String text, int maxChars) {
        return text.length() <= maxChars ? text : text.substring(0, maxChars - 1) + "…";
    }
}
