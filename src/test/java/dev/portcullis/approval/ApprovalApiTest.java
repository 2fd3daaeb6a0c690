package dev.portcullis.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.policy.Verdict.HoldForApproval;
import dev.portcullis.recording.AuditVerifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The approvals API over real HTTP on the admin listener, with tokens from a real OIDC issuer. */
class ApprovalApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    ApprovalApiFixture gw;

    @BeforeEach
    void start() throws Exception {
        gw = new ApprovalApiFixture(dir);
    }

    @AfterEach
    void stop() throws Exception {
        gw.close();
    }

    record Answer(int status, String contentType, JsonNode body, HttpResponse<String> raw) {
    }

    Answer call(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw.base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        if (body != null) b.header("Content-Type", "application/json");
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), JSON.readTree(r.body()), r);
    }

    @Test
    void aMemberApprovesOverHttpAndTheHeldOperationIsReleasedOnce() throws Exception {
        ApprovalRequest r = gw.pendingRequest();
        String alice = gw.token("alice", "dba");

        Answer pending = call("GET", "/api/v1/approvals?state=pending", alice, null);
        assertThat(pending.status()).isEqualTo(200);
        assertThat(pending.body().path("approvals")).hasSize(1);
        JsonNode listed = pending.body().path("approvals").get(0);
        assertThat(listed.path("id").asText()).isEqualTo(r.id());
        assertThat(listed.path("summary").asText()).isEqualTo("DELETE FROM orders WHERE id = $1");
        assertThat(listed.path("requester").path("subject").asText()).isEqualTo("agent-7");
        assertThat(listed.path("state").asText()).isEqualTo("pending");

        Answer approved = call("POST", "/api/v1/approvals/" + r.id() + "/approve", alice, null);
        assertThat(approved.status()).isEqualTo(200);
        assertThat(approved.body().path("state").asText()).isEqualTo("approved");
        assertThat(approved.body().path("approvals").get(0).path("subject").asText()).isEqualTo("alice");

        assertThat(call("GET", "/api/v1/approvals/" + r.id(), alice, null).body().path("state").asText()).isEqualTo("approved");
        assertThat(call("GET", "/api/v1/approvals?state=pending", alice, null).body().path("approvals")).isEmpty();
        assertThat(gw.service.consume(r.id(), OperationFingerprint.of(ApprovalApiFixture.DELETE))).isTrue();
        assertThat(gw.service.consume(r.id(), OperationFingerprint.of(ApprovalApiFixture.DELETE))).isFalse();
        assertThat(AuditVerifier.verify(gw.store).problems()).isEmpty();
    }

    @Test
    void aDenialCarriesItsReason() throws Exception {
        ApprovalRequest r = gw.pendingRequest();

        Answer denied = call("POST", "/api/v1/approvals/" + r.id() + "/deny", gw.token("bob", "dba"),
                "{\"reason\":\"not during the freeze\"}");

        assertThat(denied.status()).isEqualTo(200);
        assertThat(denied.body().path("state").asText()).isEqualTo("denied");
        assertThat(denied.body().path("denial").path("reason").asText()).isEqualTo("not during the freeze");
        assertThat(denied.body().path("denial").path("subject").asText()).isEqualTo("bob");
    }

    @Test
    void aDenialWithoutAReasonIsABadRequest() throws Exception {
        ApprovalRequest r = gw.pendingRequest();
        String bob = gw.token("bob", "dba");

        for (String body : new String[] {null, "{}", "{\"reason\":\"  \"}", "not json"}) {
            Answer a = call("POST", "/api/v1/approvals/" + r.id() + "/deny", bob, body);
            assertThat(a.status()).as(String.valueOf(body)).isEqualTo(400);
            assertThat(a.contentType()).isEqualTo("application/problem+json");
        }
        assertThat(gw.service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.PENDING);
    }

    @Test
    void withoutATokenOrWithABadOneEveryEndpointAnswers401() throws Exception {
        ApprovalRequest r = gw.pendingRequest();
        List<String[]> endpoints = List.of(new String[] {"GET", "/api/v1/approvals"}, new String[] {"GET", "/api/v1/approvals/" + r.id()},
                new String[] {"POST", "/api/v1/approvals/" + r.id() + "/approve"});
        for (String token : new String[] {null, "not-a-jwt", gw.tokenForAnotherAudience("alice")}) {
            for (String[] e : endpoints) {
                Answer a = call(e[0], e[1], token, null);
                assertThat(a.status()).as(e[0] + " " + e[1]).isEqualTo(401);
                assertThat(a.contentType()).isEqualTo("application/problem+json");
                assertThat(a.raw().headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
                assertThat(a.body().path("detail").asText()).isNotBlank();
            }
        }
        assertThat(gw.service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.PENDING);
    }

    @Test
    void outsidersAndTheRequesterGet403() throws Exception {
        ApprovalRequest r = gw.pendingRequest();

        Answer outsider = call("POST", "/api/v1/approvals/" + r.id() + "/approve", gw.token("mallory", "marketing"), null);
        assertThat(outsider.status()).isEqualTo(403);
        assertThat(outsider.body().path("detail").asText()).contains("none of the approver groups");

        Answer own = call("POST", "/api/v1/approvals/" + r.id() + "/approve", gw.token("agent-7", "dba"), null);
        assertThat(own.status()).isEqualTo(403);
        assertThat(own.body().path("detail").asText()).contains("cannot decide on it");
    }

    @Test
    void aGrantShowsItsDurationAndEndAndIsRevokedWithAReason() throws Exception {
        HoldForApproval grant = new HoldForApproval("jit-writes", "writes need a DBA", List.of("dba"), 1,
                java.time.Duration.ofMinutes(10), java.util.Optional.of(java.time.Duration.ofMinutes(45)));
        ApprovalRequest r = gw.service.request(ApprovalApiFixture.AGENT, "orders-db", ApprovalApiFixture.DELETE,
                OperationFingerprint.of(ApprovalApiFixture.DELETE), grant, grant.holdTimeout());
        String alice = gw.token("alice", "dba");

        JsonNode pending = call("GET", "/api/v1/approvals/" + r.id(), alice, null).body();
        assertThat(pending.path("grant").path("duration").asText()).isEqualTo("PT45M");
        assertThat(pending.path("grant").path("minutes").asInt()).isEqualTo(45);
        assertThat(pending.path("grant").path("until").isNull()).isTrue();
        assertThat(call("POST", "/api/v1/approvals/" + r.id() + "/revoke", alice, "{\"reason\":\"early\"}").status())
                .as("a pending request is denied, not revoked").isEqualTo(409);

        JsonNode approved = call("POST", "/api/v1/approvals/" + r.id() + "/approve", alice, null).body();
        assertThat(java.time.Instant.parse(approved.path("grant").path("until").asText()))
                .isAfter(java.time.Instant.now().plus(java.time.Duration.ofMinutes(44)));

        assertThat(call("POST", "/api/v1/approvals/" + r.id() + "/revoke", alice, null).status()).isEqualTo(400);
        Answer outsider = call("POST", "/api/v1/approvals/" + r.id() + "/revoke", gw.token("mallory", "marketing"),
                "{\"reason\":\"mine\"}");
        assertThat(outsider.status()).isEqualTo(403);
        Answer revoked = call("POST", "/api/v1/approvals/" + r.id() + "/revoke", gw.token("bob", "dba"),
                "{\"reason\":\"incident closed\"}");
        assertThat(revoked.status()).isEqualTo(200);
        assertThat(revoked.body().path("state").asText()).isEqualTo("revoked");
        assertThat(revoked.body().path("revocation").path("subject").asText()).isEqualTo("bob");
        assertThat(revoked.body().path("revocation").path("reason").asText()).isEqualTo("incident closed");
        assertThat(revoked.body().path("denial").isNull()).isTrue();
        assertThat(gw.service.activeGrant("agent-7", "orders-db", "jit-writes")).isEmpty();
        assertThat(call("GET", "/api/v1/approvals?state=revoked", alice, null).body().path("approvals")).hasSize(1);
    }

    @Test
    void onlyApproversAndTheRequesterCanReadARequest() throws Exception {
        ApprovalRequest r = gw.pendingRequest();

        String outsider = gw.token("mallory", "marketing");
        assertThat(call("GET", "/api/v1/approvals", outsider, null).body().path("approvals")).isEmpty();
        Answer hidden = call("GET", "/api/v1/approvals/" + r.id(), outsider, null);
        assertThat(hidden.status()).as("as if it did not exist").isEqualTo(404);
        assertThat(hidden.body().path("detail").asText()).doesNotContain("DELETE");

        String requester = gw.token("agent-7", "agents");
        assertThat(call("GET", "/api/v1/approvals", requester, null).body().path("approvals")).singleElement()
                .satisfies(a -> assertThat(a.path("id").asText()).isEqualTo(r.id()));
        assertThat(call("GET", "/api/v1/approvals/" + r.id(), requester, null).status()).isEqualTo(200);
        assertThat(call("GET", "/api/v1/approvals/" + r.id(), gw.token("alice", "dba"), null).status()).isEqualTo(200);
    }

    @Test
    void unknownIdsAre404AndDecidedRequestsAre409() throws Exception {
        String alice = gw.token("alice", "dba");
        assertThat(call("GET", "/api/v1/approvals/apr_aaaaaaaaaaaaaaaaaaaa", alice, null).status()).isEqualTo(404);
        assertThat(call("POST", "/api/v1/approvals/apr_aaaaaaaaaaaaaaaaaaaa/approve", alice, null).status()).isEqualTo(404);

        ApprovalRequest r = gw.pendingRequest();
        assertThat(call("POST", "/api/v1/approvals/" + r.id() + "/approve", alice, null).status()).isEqualTo(200);

        Answer again = call("POST", "/api/v1/approvals/" + r.id() + "/deny", gw.token("bob", "dba"), "{\"reason\":\"late\"}");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.body().path("detail").asText()).contains("is approved");
        assertThat(call("GET", "/api/v1/approvals?state=bogus", alice, null).status()).isEqualTo(400);
        assertThat(call("DELETE", "/api/v1/approvals/" + r.id(), alice, null).status()).isEqualTo(405);
    }

    @Test
    void theOpenApiDocumentIsServedAndDescribesEveryRoute() throws Exception {
        Answer doc = call("GET", "/api/v1/openapi.json", null, null);

        assertThat(doc.status()).isEqualTo(200);
        assertThat(doc.body().path("openapi").asText()).startsWith("3.");
        List<String> paths = new ArrayList<>();
        doc.body().path("paths").fieldNames().forEachRemaining(paths::add);
        assertThat(paths).containsExactlyInAnyOrder("/api/v1/approvals", "/api/v1/approvals/{id}",
                "/api/v1/approvals/{id}/approve", "/api/v1/approvals/{id}/deny", "/api/v1/approvals/{id}/revoke",
                "/api/v1/openapi.json", "/api/v1/me", "/api/v1/sessions", "/api/v1/sessions/{id}", "/api/v1/sessions/{id}/casts/{seq}",
                "/api/v1/sessions/live", "/api/v1/sessions/{id}/terminate", "/api/v1/trail", "/api/v1/trail/verify", "/api/v1/policy",
                "/api/v1/policy/test", "/api/v1/agents", "/api/v1/agents/join-tokens", "/api/v1/agents/{name}/revoke",
                "/api/v1/ssh/certificates");
        // every $ref resolves inside the document
        List<String> refs = new ArrayList<>();
        collectRefs(doc.body(), refs);
        assertThat(refs).isNotEmpty();
        for (String ref : refs) {
            assertThat(doc.body().at(ref.substring(1)).isMissingNode()).as(ref).isFalse();
        }
        // the schema names every field the API writes
        ApprovalRequest r = gw.pendingRequest();
        JsonNode item = call("GET", "/api/v1/approvals/" + r.id(), gw.token("alice", "dba"), null).body();
        JsonNode schema = doc.body().at("/components/schemas/ApprovalRequest/properties");
        for (Iterator<String> it = item.fieldNames(); it.hasNext(); ) {
            assertThat(schema.has(it.next())).isTrue();
        }
    }

    private static void collectRefs(JsonNode node, List<String> refs) {
        if (node.isObject()) {
            node.properties().forEach(e -> {
                if (e.getKey().equals("$ref")) refs.add(e.getValue().asText());
                else collectRefs(e.getValue(), refs);
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectRefs(n, refs));
        }
    }

    @Test
    void theAdminEndpointsStillAnswer() throws Exception {
        HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(URI.create(gw.base + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
    }
}
