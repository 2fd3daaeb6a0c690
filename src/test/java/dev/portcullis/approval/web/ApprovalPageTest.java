package dev.portcullis.approval.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.approval.ApprovalApiFixture;
import dev.portcullis.approval.ApprovalRequest;
import dev.portcullis.approval.ApprovalState;
import dev.portcullis.approval.OperationFingerprint;
import dev.portcullis.core.Identity;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.policy.Verdict.HoldForApproval;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The approval page in a real headless Chromium, driven over W3C WebDriver, against the real API and OIDC issuer. */
class ApprovalPageTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    ApprovalApiFixture gw;
    WebDriver browser;

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(WebDriver.CHROMEDRIVER), "no /usr/bin/chromedriver (bin/setup installs it)");
        gw = new ApprovalApiFixture(dir);
        browser = new WebDriver();
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) browser.close();
        if (gw != null) gw.close();
    }

    private void signIn(String path, String token) throws Exception {
        browser.navigate(gw.base + path);
        WebDriver.Element field = browser.await("#token");
        browser.type(field, token);
        browser.click(browser.await("#load"));
    }

    private JsonNode fetch(String id) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.base + "/api/v1/approvals/" + id))
                .header("Authorization", "Bearer " + gw.token("auditor", "dba")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void anApproverApprovesAPendingRequestFromTheList() throws Exception {
        ApprovalRequest r = gw.pendingRequest();
        signIn("/approvals", gw.token("alice", "dba"));

        String card = browser.awaitText("article[data-id='" + r.id() + "']", t -> t.contains("orders-db"));
        assertThat(card).contains("DELETE FROM orders WHERE id = $1", "agent-7", "prod-writes",
                "writes to production need a DBA", "0 of 1");
        browser.click(browser.await("button.approve[data-id='" + r.id() + "']"));

        assertThat(browser.awaitText("[data-message='" + r.id() + "']", t -> !t.isBlank())).contains("Approved");
        JsonNode decided = fetch(r.id());
        assertThat(decided.path("state").asText()).isEqualTo("approved");
        assertThat(decided.path("approvals").get(0).path("subject").asText()).isEqualTo("alice");
        assertThat(gw.service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.APPROVED);
        // the token stays in this tab's session storage, nowhere else
        assertThat(browser.script("return sessionStorage.getItem('portcullis.approvals.token') !== null"
                + " && localStorage.length === 0 && document.cookie === ''").asBoolean()).isTrue();
    }

    @Test
    void anApproverDeniesWithAReasonFromTheRequestPage() throws Exception {
        ApprovalRequest r = gw.pendingRequest();
        signIn("/approvals/" + r.id() + "?decision=deny", gw.token("bob", "dba"));

        WebDriver.Element reason = browser.await("input.deny-reason[data-id='" + r.id() + "']");
        browser.type(reason, "not during the freeze");
        browser.click(browser.await("button.deny[data-id='" + r.id() + "']"));

        assertThat(browser.awaitText("[data-message='" + r.id() + "']", t -> !t.isBlank())).contains("Denied");
        JsonNode decided = fetch(r.id());
        assertThat(decided.path("state").asText()).isEqualTo("denied");
        assertThat(decided.path("denial").path("reason").asText()).isEqualTo("not during the freeze");
        assertThat(decided.path("denial").path("subject").asText()).isEqualTo("bob");
    }

    @Test
    void aGrantCardShowsItsMinutesThenItsEndAndTheRunningGrantIsRevokedWithAReason() throws Exception {
        HoldForApproval jit = new HoldForApproval("jit-writes", "writes need a DBA", List.of("dba"), 1,
                Duration.ofMinutes(10), Optional.of(Duration.ofMinutes(30)));
        ApprovalRequest r = gw.service.request(ApprovalApiFixture.AGENT, "orders-db", ApprovalApiFixture.DELETE,
                OperationFingerprint.of(ApprovalApiFixture.DELETE), jit, jit.holdTimeout());
        String article = "article[data-id='" + r.id() + "']";
        String message = "[data-message='" + r.id() + "']";
        signIn("/approvals", gw.token("alice", "dba"));

        String pending = browser.awaitText(article, t -> t.contains("orders-db"));
        assertThat(pending).contains("grants 30 minutes of access to rule jit-writes once approved").doesNotContain("access until");
        assertThat(browser.find("button.revoke[data-id='" + r.id() + "']")).isEmpty();
        browser.click(browser.await("button.approve[data-id='" + r.id() + "']"));

        assertThat(browser.awaitText(message, t -> t.startsWith("Approved"))).contains("now approved");
        // to the second: the answer to the click has the clock's nanoseconds, the store keeps microseconds
        String until = fetch(r.id()).path("grant").path("until").asText().substring(0, "2026-11-23T09:30:00".length());
        assertThat(browser.awaitText(article, t -> t.contains("access until"))).contains("access until ").contains("(" + until);

        browser.click(browser.await("button.revoke[data-id='" + r.id() + "']"));
        assertThat(browser.awaitText(message, t -> t.contains("needs a reason"))).contains("A revocation needs a reason");
        assertThat(gw.service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.APPROVED);

        browser.type(browser.await("input.revoke-reason[data-id='" + r.id() + "']"), "incident closed");
        browser.click(browser.await("button.revoke[data-id='" + r.id() + "']"));

        assertThat(browser.awaitText(message, t -> t.startsWith("Revoked"))).contains("now revoked");
        assertThat(browser.awaitText(article, t -> t.contains("incident closed"))).contains("alice: incident closed");
        assertThat(browser.find("button.revoke[data-id='" + r.id() + "']")).isEmpty();
        JsonNode revoked = fetch(r.id());
        assertThat(revoked.path("state").asText()).isEqualTo("revoked");
        assertThat(revoked.path("revocation").path("subject").asText()).isEqualTo("alice");
        assertThat(revoked.path("revocation").path("reason").asText()).isEqualTo("incident closed");
        assertThat(gw.service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.REVOKED);
        assertThat(gw.service.activeGrant("agent-7", "orders-db", "jit-writes")).isEmpty();

        // the list can show revoked requests, and a link can ask for them
        browser.navigate(gw.base + "/approvals?state=revoked");
        assertThat(browser.awaitText(article, t -> t.contains("incident closed"))).contains("grants 30 minutes");
        assertThat(browser.script("return document.getElementById('state').value").asText()).isEqualTo("revoked");
        assertThat(browser.awaitText("#status", t -> !t.startsWith("Loading"))).isEqualTo("1 revoked request.");
    }

    @Test
    void theRequesterSeesTheOwnRequestRefusalAndTheRequestStaysPending() throws Exception {
        ApprovalRequest r = gw.pendingRequest();
        signIn("/approvals", gw.token("agent-7", "dba"));

        browser.click(browser.await("button.approve[data-id='" + r.id() + "']"));

        String shown = browser.awaitText("[data-message='" + r.id() + "']", t -> !t.isBlank() && !t.startsWith("Approving"));
        assertThat(shown).contains("cannot decide on it");
        assertThat(fetch(r.id()).path("state").asText()).isEqualTo("pending");
        assertThat(gw.service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.PENDING);
    }

    @Test
    void aPreselectedDecisionInTheLinkNeverActsWithoutAClick() throws Exception {
        ApprovalRequest r = gw.pendingRequest();
        signIn("/approvals/" + r.id() + "?decision=approve", gw.token("alice", "dba"));

        browser.await("article.preselected button.approve[data-id='" + r.id() + "']");
        Thread.sleep(300);
        assertThat(fetch(r.id()).path("state").asText()).isEqualTo("pending");
        // reloading with the token already in session storage does not act either
        browser.navigate(gw.base + "/approvals/" + r.id() + "?decision=approve");
        browser.await("button.approve[data-id='" + r.id() + "']");
        assertThat(fetch(r.id()).path("state").asText()).isEqualTo("pending");
    }

    @Test
    void textFromTheApiIsRenderedAsTextNeverAsMarkup() throws Exception {
        String evil = "DELETE FROM t WHERE x = '<img src=x id=pwned onerror=\"document.title=1\">'";
        SqlStatement op = SqlStatement.unparseable(evil);
        Identity agent = new Identity("<b id=bold>agent</b>", Set.of("agents"), "jti-x", "agent", "https://idp", Map.of(),
                Instant.now().plusSeconds(3600));
        ApprovalRequest r = gw.service.request(agent, "orders-db", op, evil + "\nparameters: [<i id=italic>1</i>]",
                OperationFingerprint.of(op), ApprovalApiFixture.HOLD, ApprovalApiFixture.HOLD.holdTimeout(), null);
        signIn("/approvals", gw.token("alice", "dba"));

        String card = browser.awaitText("article[data-id='" + r.id() + "']", t -> t.contains("orders-db"));
        assertThat(card).contains("<img src=x id=pwned", "<b id=bold>agent</b>", "parameters: [<i id=italic>1</i>]");
        assertThat(browser.find("#pwned")).isEmpty();
        assertThat(browser.find("#bold")).isEmpty();
        assertThat(browser.find("#italic")).isEmpty();
    }

    @Test
    void thePageIsServedWithAStrictPolicyAndOnlyOnGet() throws Exception {
        for (String path : new String[] {"/approvals", "/approvals/apr_aaaaaaaaaaaaaaaaaaaa", "/approvals/app.js"}) {
            HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(URI.create(gw.base + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).as(path).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Security-Policy")).as(path).hasValueSatisfying(csp ->
                    assertThat(csp).contains("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'")
                            .doesNotContain("unsafe-inline", "unsafe-eval"));
            assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
            assertThat(page.headers().firstValue("Cache-Control")).hasValue("no-store");
            assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        }
        HttpResponse<String> html = HTTP.send(HttpRequest.newBuilder(URI.create(gw.base + "/approvals")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(html.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(html.body()).contains("src=\"/approvals/app.js\"").doesNotContain("<script>", "style=");
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create(gw.base + "/approvals/apr_aaaaaaaaaaaaaaaaaaaa"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
    }
}
