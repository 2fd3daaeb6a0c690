package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.SessionSummary;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the agent sends is its own action, not data it reads: the trail and approvers see a request
 * as sent (whose login, which email), minus its secrets; the response stays masked as the agent saw it.
 */
class OktaRequestsRecordedAsSentTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PASSWORD = "tlpWENT2m-the-trail-must-never-hold";
    private static final String ANSWER = "Annie Oakley";

    @TempDir
    static Path data;

    static OktaGatewayFixture f;

    /** The example plus a rule that holds updates of a user (login, password) for okta-admins. */
    static final UnaryOperator<String> HOLD_USER_UPDATES = yaml -> {
        String anchor = "        - id: admin-roles-need-approval\n";
        if (!yaml.contains(anchor)) throw new IllegalStateException("examples/okta.yaml has no rule admin-roles-need-approval");
        return yaml.replace(anchor, """
                        - id: user-updates-need-approval
                          when:
                            groups: [agents]
                            http:
                              methods: [POST]
                              paths: ["/api/v1/users/{id}"]
                          action: require-approval
                          approvers: [okta-admins]
                          hold-timeout: 2s
                """ + anchor);
    };

    @BeforeAll
    static void start() throws Exception {
        f = new OktaGatewayFixture(data, 10, HOLD_USER_UPDATES);
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @Test
    void aCreatedUserIsRecordedWithItsLoginAsSentAndItsPasswordRedacted() throws Exception {
        String token = f.token("creating-agent", "agents");
        HttpResponse<String> r = f.send("POST", "/api/v1/users?activate=true", token, """
                {"profile":{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","login":"ada@example.com",
                            "mobilePhone":"+14155550123"},
                 "credentials":{"password":{"value":"%s"},
                                "recovery_question":{"question":"Who's a major player in the cowboy scene?","answer":"%s"}}}"""
                .formatted(PASSWORD, ANSWER));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        // Okta got the request whole; the agent's answer is masked by its rule, as before.
        assertThat(f.okta.received()).anySatisfy(req -> assertThat(req.body()).contains(PASSWORD, "ada@example.com"));
        assertThat(JSON.readTree(r.body()).path("profile").path("email").asText()).isEqualTo("[masked]");

        String transcript = transcriptOf("creating-agent");
        String request = between(transcript, "request", "response");
        assertThat(request).contains("\"login\":\"ada@example.com\"", "\"email\":\"ada@example.com\"",
                "\"mobilePhone\":\"+14155550123\"", "\"password\":\"[redacted]\"", "\"answer\":\"[redacted]\"", "cowboy scene");
        assertThat(transcript).doesNotContain(PASSWORD).doesNotContain(ANSWER).doesNotContain(token);
        // The response is recorded as the agent saw it: masked.
        assertThat(transcript.substring(transcript.indexOf("response"))).contains("[masked]").doesNotContain("ada@example.com");
    }

    @Test
    void approversSeeWhoseAccountChangesButNeverTheNewPassword() throws Exception {
        String token = f.token("updating-agent", "agents");
        String user = f.okta.userIds().get(2);
        String body = """
                {"profile":{"login":"mallory@example.com","email":"mallory@example.com"},
                 "credentials":{"password":{"value":"%s"}}}""".formatted(PASSWORD);
        HttpResponse<String> held = f.send("POST", "/api/v1/users/" + user, token, body);

        assertThat(held.statusCode()).as(held.body()).isEqualTo(403);
        String id = JSON.readTree(held.body()).path("approvalId").asText();
        assertThat(id).startsWith("apr_");
        JsonNode request = JSON.readTree(f.approvals("GET", "/" + id, f.token("admin-1", "okta-admins"), null).body());
        assertThat(request.path("summary").asText()).isEqualTo("POST /api/v1/users/" + user);
        assertThat(request.path("detail").asText())
                .contains("\"login\":\"mallory@example.com\"", "\"password\":\"[redacted]\"")
                .doesNotContain(PASSWORD);
        assertThat(f.okta.received()).noneSatisfy(req -> assertThat(req.path()).isEqualTo("/api/v1/users/" + user));

        String transcript = transcriptOf("updating-agent");
        assertThat(transcript).contains("approval " + id + " requested", "mallory@example.com").doesNotContain(PASSWORD);
    }

    private static String transcriptOf(String subject) throws Exception {
        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            List<SessionSummary> sessions = store.sessions(SessionQuery.newest().subject(subject));
            assertThat(sessions).isNotEmpty();
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
            return String.join("\n", sessions.stream().map(s -> new Replay(store, ZoneOffset.UTC).text(s.id())).toList());
        }
    }

    private static String between(String text, String from, String to) {
        int start = text.indexOf(from);
        int end = text.indexOf(to, start);
        assertThat(start).as("'" + from + "' in " + text).isNotNegative();
        return end < 0 ? text.substring(start) : text.substring(start, end);
    }
}
