package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.dev.ReceivedRequest;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.SessionSummary;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An agent manages Okta through the gateway with its own OIDC token, as examples/okta.yaml allows. */
class OktaAgentThroughGatewayTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path data;

    static OktaGatewayFixture f;
    static String agentToken;

    @BeforeAll
    static void start() throws Exception {
        f = new OktaGatewayFixture(data, 30, OktaGatewayFixture.holdTimeout("2s"));
        agentToken = f.token("agent-1", "agents");
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @BeforeEach
    void clearUpstreamLog() {
        f.okta.reset();
    }

    @Test
    void listingUsersIsAllowedWithEmailsAndPhonesMaskedEverywhere() throws Exception {
        HttpResponse<String> r = f.send("GET", "/api/v1/users?limit=30", agentToken, null);

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode users = JSON.readTree(r.body());
        assertThat(users).hasSize(30);
        for (JsonNode u : users) {
            assertThat(u.path("profile").path("email").asText()).isEqualTo("[masked]");
            assertThat(u.path("profile").path("mobilePhone").asText()).isEqualTo("[masked]");
            assertThat(u.path("profile").path("login").asText()).isEqualTo("[email]");
        }
        // Content detectors catch what no field rule names (free-text notes with emails and phones).
        assertThat(r.body()).doesNotContain("@example.").doesNotContainPattern("\\+\\d{6,}");
        assertThat(r.body()).contains("[email]");
        // Upstream got Okta's API token, never the agent's.
        assertThat(f.okta.received()).singleElement().satisfies(req -> {
            assertThat(req.authorization()).contains("SSWS " + OktaGatewayFixture.OKTA_API_TOKEN);
            assertThat(req.query()).contains("limit=30");
        });
        assertThat(r.body()).doesNotContain(OktaGatewayFixture.OKTA_API_TOKEN);
        assertThat(r.headers().map().toString()).doesNotContain(OktaGatewayFixture.OKTA_API_TOKEN);
    }

    @Test
    void theOktaSswsSchemeCarriesTheAgentTokenToo() throws Exception {
        var request = java.net.http.HttpRequest.newBuilder(f.uri("/api/v1/users/" + f.okta.userIds().get(3)))
                .header("Authorization", "SSWS " + agentToken).build();
        HttpResponse<String> r = f.http.send(request, HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).path("profile").path("email").asText()).isEqualTo("[masked]");
        assertThat(f.okta.received()).singleElement()
                .satisfies(req -> assertThat(req.authorization()).contains("SSWS " + OktaGatewayFixture.OKTA_API_TOKEN));
    }

    @Test
    void paginationLinksPointBackAtTheGatewayNotAtOkta() throws Exception {
        HttpResponse<String> r = f.send("GET", "/api/v1/users?limit=5", agentToken, null);

        List<String> links = r.headers().allValues("Link");
        assertThat(links).isNotEmpty().allSatisfy(l -> assertThat(l).startsWith("<http://127.0.0.1:" + f.port + "/"));
        assertThat(String.join(",", links)).doesNotContain(f.okta.orgUrl().toString());
    }

    @Test
    void everyHrefInTheBodiesPointsAtTheGatewayNotAtOkta() throws Exception {
        String gateway = "http://127.0.0.1:" + f.port + "/";
        HttpResponse<String> list = f.send("GET", "/api/v1/users?limit=12", agentToken, null);
        HttpResponse<String> one = f.send("GET", "/api/v1/users/" + f.okta.userIds().get(4), agentToken, null);

        List<String> hrefs = new ArrayList<>();
        int selves = 0;
        for (HttpResponse<String> r : List.of(list, one)) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).doesNotContain(f.okta.orgUrl().toString());
            JsonNode body = JSON.readTree(r.body());
            hrefs.addAll(body.findValuesAsText("href"));
            selves += body.findValues("self").size();
        }
        assertThat(selves).isEqualTo(13);
        assertThat(hrefs).hasSizeGreaterThanOrEqualTo(13).allSatisfy(h -> assertThat(h).startsWith(gateway + "api/v1/users/00u"));
        // Masking still applies around the links.
        assertThat(JSON.readTree(one.body()).path("profile").path("email").asText()).isEqualTo("[masked]");
    }

    @Test
    void followingSelfWithTheAgentTokenComesBackThroughTheGatewayAndIsRecorded() throws Exception {
        String token = f.token("link-follower", "agents");
        String id = f.okta.userIds().get(7);
        JsonNode listed = JSON.readTree(f.send("GET", "/api/v1/users?limit=12", token, null).body());
        String self = null;
        for (JsonNode u : listed) if (u.path("id").asText().equals(id)) self = u.path("_links").path("self").path("href").asText();
        assertThat(self).isEqualTo("http://127.0.0.1:" + f.port + "/api/v1/users/" + id);

        HttpResponse<String> followed = f.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(self))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(followed.statusCode()).as(followed.body()).isEqualTo(200);
        JsonNode read = JSON.readTree(followed.body());
        assertThat(read.path("id").asText()).isEqualTo(id);
        assertThat(read.path("profile").path("email").asText()).isEqualTo("[masked]");
        assertThat(read.path("_links").path("self").path("href").asText()).isEqualTo(self);
        // Okta heard both calls from the gateway, with its own credential.
        assertThat(f.okta.received()).hasSize(2).allSatisfy(r ->
                assertThat(r.authorization()).contains("SSWS " + OktaGatewayFixture.OKTA_API_TOKEN));
        assertThat(last()).hasValueSatisfying(r -> assertThat(r.path()).isEqualTo("/api/v1/users/" + id));

        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            List<SessionSummary> sessions = store.sessions(SessionQuery.newest().subject("link-follower"));
            assertThat(sessions).hasSize(1);
            String transcript = new Replay(store, ZoneOffset.UTC).text(sessions.getFirst().id());
            // The recording keeps what the agent received: the links as rewritten.
            assertThat(transcript)
                    .contains("GET /api/v1/users?limit=12", "GET /api/v1/users/" + id, "upstream: 200", self)
                    .doesNotContain(f.okta.orgUrl().toString())
                    .doesNotContain(token);
        }
    }

    @Test
    void creatingAUserIsAllowedAndTheAnswerIsMasked() throws Exception {
        HttpResponse<String> r = f.send("POST", "/api/v1/users?activate=true", agentToken, """
                {"profile":{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","login":"ada@example.com",
                 "mobilePhone":"+14155550123"}}""");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).path("profile").path("email").asText()).isEqualTo("[masked]");
        assertThat(f.okta.received()).singleElement().satisfies(req -> {
            assertThat(req.method()).isEqualTo("POST");
            assertThat(req.body()).contains("ada@example.com");
        });
    }

    @Test
    void deletingAUserIsRefusedByItsRuleAndNeverReachesOkta() throws Exception {
        HttpResponse<String> r = f.send("DELETE", "/api/v1/users/" + f.okta.userIds().getFirst(), agentToken, null);

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        JsonNode problem = JSON.readTree(r.body());
        assertThat(problem.path("rule").asText()).isEqualTo("no-user-deletion");
        assertThat(problem.path("detail").asText()).isEqualTo("Agents may not delete Okta users.");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void deactivatingAUserIsRefusedAndNeverReachesOkta() throws Exception {
        HttpResponse<String> r = f.send("POST", "/api/v1/users/" + f.okta.userIds().getFirst() + "/lifecycle/deactivate",
                agentToken, null);

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(r.body()).path("rule").asText()).isEqualTo("no-user-deactivation");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void grantingSuperAdminOrOrgAdminIsHeldForApprovalAndNeverReachesOktaUnapproved() throws Exception {
        for (String role : List.of("SUPER_ADMIN", "ORG_ADMIN")) {
            HttpResponse<String> r = f.send("POST", "/api/v1/users/" + f.okta.userIds().getFirst() + "/roles", agentToken,
                    "{\"type\":\"" + role + "\"}");

            assertThat(r.statusCode()).isEqualTo(403);
            JsonNode problem = JSON.readTree(r.body());
            assertThat(problem.path("type").asText()).endsWith("/approval-pending");
            assertThat(problem.path("rule").asText()).isEqualTo("admin-roles-need-approval");
            assertThat(problem.path("approverGroups").toString()).contains("okta-admins");
            assertThat(problem.path("approvalId").asText()).startsWith("apr_");
        }
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void anyOtherRoleAndAnyUnlistedEndpointIsRefusedByDefault() throws Exception {
        HttpResponse<String> role = f.send("POST", "/api/v1/users/" + f.okta.userIds().getFirst() + "/roles", agentToken,
                "{\"type\":\"USER_ADMIN\"}");
        HttpResponse<String> groups = f.send("GET", "/api/v1/groups", agentToken, null);
        HttpResponse<String> dotDot = f.send("GET", "/api/v1/users/x/../../groups", agentToken, null);

        for (HttpResponse<String> r : List.of(role, groups, dotDot)) {
            assertThat(r.statusCode()).isIn(400, 403);
        }
        assertThat(JSON.readTree(role.body()).path("rule").asText()).isEqualTo("default-deny");
        assertThat(JSON.readTree(groups.body()).path("rule").asText()).isEqualTo("default-deny");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void aTokenOutsideTheAgentsGroupIsRefusedByDefault() throws Exception {
        HttpResponse<String> r = f.send("GET", "/api/v1/users", f.token("intern-bot", "interns"), null);

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(r.body()).path("rule").asText()).isEqualTo("default-deny");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void noTokenOrABadTokenGets401WithAChallengeAndNothingReachesOkta() throws Exception {
        HttpResponse<String> none = f.send("GET", "/api/v1/users", null, null);
        HttpResponse<String> garbage = f.send("GET", "/api/v1/users", "not-a-token", null);
        String wrongAudience = f.issuer.issueToken("default", "agent-1", "someone-else",
                java.util.Map.of("groups", List.of("agents")), 3600L).serialize();
        HttpResponse<String> audience = f.send("GET", "/api/v1/users", wrongAudience, null);
        String okta = "SSWS " + OktaGatewayFixture.OKTA_API_TOKEN; // the real API key is no key here
        var apiKey = f.http.send(java.net.http.HttpRequest.newBuilder(f.uri("/api/v1/users")).header("Authorization", okta).build(),
                HttpResponse.BodyHandlers.ofString());

        for (HttpResponse<String> r : List.of(none, garbage, audience, apiKey)) {
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).startsWith("Bearer"));
            assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        }
        assertThat(JSON.readTree(none.body()).path("reason").asText()).isEqualTo("missing");
        assertThat(JSON.readTree(audience.body()).path("reason").asText()).isEqualTo("wrong-audience");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void anOversizedBodyIsRefusedWith413AndNeverForwarded() throws Exception {
        String big = "{\"profile\":{\"notes\":\"" + "x".repeat(1_100_000) + "\"}}";
        HttpResponse<String> r = f.send("POST", "/api/v1/users", agentToken, big);

        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void tenThousandUsersAreMaskedWhileStreamingAndTheJsonStaysWhole() throws Exception {
        try (OktaGatewayFixture big = new OktaGatewayFixture(data.resolve("big"), 10_000)) {
            HttpResponse<String> r = big.send("GET", "/api/v1/users?limit=10000", big.token("agent-1", "agents"), null);

            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body().length()).isGreaterThan(3_000_000);
            JsonNode users = JSON.readTree(r.body());
            assertThat(users).hasSize(10_000);
            for (JsonNode u : users) assertThat(u.path("profile").path("email").asText()).isEqualTo("[masked]");
            assertThat(r.body()).doesNotContain("@example.");
        }
    }

    @Test
    void everyCallIsRecordedUnderTheAgentsIdentityAndTheTrailVerifies() throws Exception {
        String token = f.token("recorded-agent", "agents");
        f.send("GET", "/api/v1/users?limit=1", token, null);
        f.send("DELETE", "/api/v1/users/" + f.okta.userIds().getFirst(), token, null);

        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            List<SessionSummary> sessions = store.sessions(SessionQuery.newest().subject("recorded-agent"));
            assertThat(sessions).singleElement().satisfies(s -> {
                assertThat(s.connection()).isEqualTo("okta");
                assertThat(s.refusedCount()).isEqualTo(1);
            });
            String transcript = new Replay(store, ZoneOffset.UTC).text(sessions.getFirst().id());
            assertThat(transcript)
                    .contains("GET /api/v1/users?limit=1", "verdict: mask (rule agents-read-users)", "upstream: 200")
                    .contains("verdict: deny (rule no-user-deletion)", "upstream: not forwarded")
                    .contains("[masked]")
                    .doesNotContain(token).doesNotContain(OktaGatewayFixture.OKTA_API_TOKEN).doesNotContain("@example.");
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void healthReadinessAndMetricsAreServedOnTheAdminPort() throws Exception {
        f.send("GET", "/api/v1/users?limit=1", agentToken, null);
        f.send("GET", "/api/v1/users", "garbage", null);

        assertThat(f.admin("/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = f.admin("/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"status\":\"ready\"");
        String metrics = f.admin("/metrics").body();
        assertThat(metrics).contains("portcullis_operations_total{connection=\"okta\",rule=\"agents-read-users\",verdict=\"mask\"}");
        assertThat(metrics).contains("portcullis_token_failures_total{connection=\"okta\",reason=\"malformed\"}");
        assertThat(metrics).contains("portcullis_upstream_latency_seconds_bucket");
        // The gateway's own part of the calls the upstream answered (bench/lib.sh reads its quantiles).
        assertThat(metrics).containsPattern("portcullis_gateway_added_seconds_count\\{connection=\"okta\",?\\} [1-9]");
    }

    @Test
    void theApprovalApiIsServedOnTheAdminPortAndNeedsAToken() throws Exception {
        assertThat(f.admin("/api/v1/openapi.json").body()).contains("\"openapi\"", "/api/v1/approvals");
        HttpResponse<String> anonymous = f.admin("/api/v1/approvals");
        assertThat(anonymous.statusCode()).isEqualTo(401);
        var listed = f.http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/approvals?state=pending"))
                .header("Authorization", "Bearer " + f.token("admin-1", "okta-admins")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(listed.statusCode()).isEqualTo(200);
    }

    static Optional<ReceivedRequest> last() {
        List<ReceivedRequest> all = f.okta.received();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }
}
