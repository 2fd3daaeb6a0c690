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
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Okta's {@code search}, {@code filter} and {@code q} cannot be used to read a masked email one
 * character at a time, nor {@code sortBy} to read it by position: examples/okta.yaml (filter-params:
 * [search, filter, q], sort-params: [sortBy]) masks profile.email for group agents with the default
 * predicates mode, equality; three more groups try the other modes and no mask.
 */
class SearchingAMaskedFieldIsRefusedAndNeverReachesOktaTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path data;

    static OktaGatewayFixture f;
    static String agent;

    /** Rules ahead of the example's own: the same read, masked with predicates refuse / allow, and unmasked. */
    static final UnaryOperator<String> MORE_RULES = yaml -> {
        String anchor = "      rules:\n";
        if (!yaml.contains(anchor)) throw new IllegalStateException("examples/okta.yaml has no rules");
        return yaml.replace(anchor, anchor + rule("strict-read", "strict-agents", "predicates: refuse")
                + rule("loose-read", "loose-agents", "predicates: allow")
                + """
                        - id: auditors-read
                          when:
                            groups: [auditors]
                            http:
                              methods: [GET]
                              paths: [/api/v1/users]
                          action: allow
                """);
    };

    private static String rule(String id, String group, String predicates) {
        return """
                        - id: %s
                          when:
                            groups: [%s]
                            http:
                              methods: [GET]
                              paths: [/api/v1/users]
                          action: allow
                          mask:
                            fields: [profile.email, profile.mobilePhone]
                            %s
                """.formatted(id, group, predicates);
    }

    @BeforeAll
    static void start() throws Exception {
        f = new OktaGatewayFixture(data, 20, MORE_RULES);
        agent = f.token("agent-1", "agents");
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @BeforeEach
    void clearUpstreamLog() {
        f.okta.reset();
    }

    static HttpResponse<String> users(String token, String param, String value) throws Exception {
        return f.send("GET", "/api/v1/users?limit=20&" + param + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8), token, null);
    }

    @Test
    void equalityOnAMaskedFieldIsAllowed() throws Exception {
        HttpResponse<String> r = users(agent, "filter", "profile.email eq \"x@example.com\"");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(f.okta.received()).singleElement().satisfies(req -> assertThat(req.query()).contains("filter="));
    }

    @Test
    void aPrefixSearchOnAMaskedFieldIsRefusedAndNothingReachesOkta() throws Exception {
        HttpResponse<String> r = users(agent, "search", "profile.email sw \"a\"");

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        JsonNode problem = JSON.readTree(r.body());
        assertThat(problem.path("type").asText()).isEqualTo(HttpProblem.BASE + "masked-field-search");
        assertThat(problem.path("rule").asText()).isEqualTo("agents-read-users");
        assertThat(problem.path("field").asText()).isEqualTo("profile.email");
        assertThat(problem.path("operator").asText()).isEqualTo("sw");
        assertThat(problem.path("predicates").asText()).isEqualTo("equality");
        assertThat(problem.path("detail").asText()).isEqualTo("rule agents-read-users: search profile.email sw … searches"
                + " masked field profile.email; rule allows only equality (eq, ne, pr) on masked fields (predicates: equality)");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void noSpellingOfTheParameterOrTheAttributeSlipsPast() throws Exception {
        for (String query : List.of(
                "SEARCH=" + URLEncoder.encode("profile.EMAIL SW \"a\"", StandardCharsets.UTF_8),
                "filter=" + URLEncoder.encode("status eq \"ACTIVE\" and (not (profile.email co \"a\"))", StandardCharsets.UTF_8),
                // every occurrence is read, not only the first
                "filter=" + URLEncoder.encode("status eq \"ACTIVE\"", StandardCharsets.UTF_8)
                        + "&filter=" + URLEncoder.encode("profile.mobilePhone gt \"+1\"", StandardCharsets.UTF_8))) {
            HttpResponse<String> r = f.send("GET", "/api/v1/users?" + query, agent, null);
            assertThat(r.statusCode()).as(query).isEqualTo(403);
        }
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void freeTextQIsRefusedUnderMaskingBecauseItSearchesEveryField() throws Exception {
        HttpResponse<String> r = users(agent, "q", "ali");

        assertThat(r.statusCode()).isEqualTo(403);
        JsonNode problem = JSON.readTree(r.body());
        assertThat(problem.path("operator").asText()).isEqualTo("search");
        assertThat(problem.path("detail").asText())
                .startsWith("rule agents-read-users: q is not a filter expression the gateway can read (")
                .endsWith("so it is taken as a search over every field, masked profile.email, profile.mobilePhone included;"
                        + " refused (predicates: equality)");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void aSearchOnAnUnmaskedFieldIsAllowed() throws Exception {
        HttpResponse<String> r = users(agent, "search", "status eq \"ACTIVE\"");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body())).isNotEmpty()
                .allSatisfy(u -> assertThat(u.path("profile").path("email").asText()).isEqualTo("[masked]"));
        assertThat(f.okta.received()).hasSize(1);
    }

    @Test
    void predicatesRefuseRefusesEvenEquality() throws Exception {
        HttpResponse<String> r = users(f.token("strict-1", "strict-agents"), "filter", "profile.email eq \"x@example.com\"");

        assertThat(r.statusCode()).isEqualTo(403);
        JsonNode problem = JSON.readTree(r.body());
        assertThat(problem.path("rule").asText()).isEqualTo("strict-read");
        assertThat(problem.path("predicates").asText()).isEqualTo("refuse");
        assertThat(problem.path("detail").asText()).endsWith("rule allows no search on masked fields (predicates: refuse)");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void predicatesAllowLetsAPrefixSearchThroughStillMasked() throws Exception {
        HttpResponse<String> r = users(f.token("loose-1", "loose-agents"), "search", "profile.email sw \"\"");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body())).isNotEmpty()
                .allSatisfy(u -> assertThat(u.path("profile").path("email").asText()).isEqualTo("[masked]"));
        assertThat(f.okta.received()).hasSize(1);
    }

    @Test
    void aCallerWhoseRuleMasksNothingIsUnaffected() throws Exception {
        String auditor = f.token("auditor-1", "auditors");

        assertThat(users(auditor, "search", "profile.email sw \"a\"").statusCode()).isEqualTo(200);
        assertThat(users(auditor, "q", "a").statusCode()).isEqualTo(200);
        assertThat(f.okta.received()).hasSize(2);
    }

    @Test
    void sortingByAMaskedFieldIsRefusedEvenUnderEqualityAndNothingReachesOkta() throws Exception {
        HttpResponse<String> r = f.send("GET", "/api/v1/users?limit=20&sortBy=profile.email&sortOrder=asc", agent, null);

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        JsonNode problem = JSON.readTree(r.body());
        assertThat(problem.path("type").asText()).isEqualTo(HttpProblem.BASE + "masked-field-search");
        assertThat(problem.path("rule").asText()).isEqualTo("agents-read-users");
        assertThat(problem.path("parameter").asText()).isEqualTo("sortBy");
        assertThat(problem.path("field").asText()).isEqualTo("profile.email");
        assertThat(problem.path("operator").asText()).isEqualTo("sort");
        assertThat(problem.path("predicates").asText()).isEqualTo("equality");
        assertThat(problem.path("detail").asText()).isEqualTo("rule agents-read-users: sortBy profile.email sorts by masked"
                + " field profile.email, which orders the results by the value it hides; rule allows only equality"
                + " (eq, ne, pr) on masked fields, and an order is not one (predicates: equality)");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void noSpellingOfASortByAMaskedFieldSlipsPast() throws Exception {
        for (String query : List.of(
                "SORTBY=PROFILE.Email",
                "sortBy=" + URLEncoder.encode("status,-profile.mobilePhone", StandardCharsets.UTF_8),
                "sortBy=" + URLEncoder.encode("profile.email desc", StandardCharsets.UTF_8),
                "sortBy=status&sortBy=profile.email",
                // unreadable: taken as a sort by every field
                "sortBy=" + URLEncoder.encode("profile.email:desc", StandardCharsets.UTF_8))) {
            HttpResponse<String> r = f.send("GET", "/api/v1/users?" + query, agent, null);
            assertThat(r.statusCode()).as(query).isEqualTo(403);
            assertThat(JSON.readTree(r.body()).path("operator").asText()).as(query).isEqualTo("sort");
        }
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void sortingByAnUnmaskedFieldIsAllowed() throws Exception {
        HttpResponse<String> r = f.send("GET", "/api/v1/users?limit=20&sortBy=status&sortOrder=desc", agent, null);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body())).isNotEmpty()
                .allSatisfy(u -> assertThat(u.path("profile").path("email").asText()).isEqualTo("[masked]"));
        assertThat(f.okta.received()).singleElement()
                .satisfies(req -> assertThat(req.query()).contains("sortBy=status", "sortOrder=desc"));
    }

    @Test
    void predicatesRefuseRefusesASortAndAllowLetsItThroughStillMasked() throws Exception {
        HttpResponse<String> strict = users(f.token("strict-2", "strict-agents"), "sortBy", "profile.email");
        assertThat(strict.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(strict.body()).path("detail").asText())
                .endsWith("rule allows no search on masked fields (predicates: refuse)");
        assertThat(f.okta.received()).isEmpty();

        HttpResponse<String> loose = users(f.token("loose-2", "loose-agents"), "sortBy", "profile.email");
        assertThat(loose.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(loose.body())).isNotEmpty()
                .allSatisfy(u -> assertThat(u.path("profile").path("email").asText()).isEqualTo("[masked]"));
        assertThat(f.okta.received()).singleElement()
                .satisfies(req -> assertThat(req.query()).contains("sortBy=profile.email"));
    }

    @Test
    void aRefusedSortIsRecordedAsADenyOfTheMaskRuleLikeASearch() throws Exception {
        String token = f.token("sorting-agent", "agents");
        users(token, "sortBy", "profile.email");

        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            List<SessionSummary> sessions = store.sessions(SessionQuery.newest().subject("sorting-agent"));
            assertThat(sessions).singleElement().satisfies(s -> assertThat(s.refusedCount()).isEqualTo(1));
            assertThat(new Replay(store, ZoneOffset.UTC).text(sessions.getFirst().id()))
                    .contains("verdict: deny (rule agents-read-users)", "sorts by masked field profile.email", "upstream: not forwarded");
        }
    }

    @Test
    void theRefusalIsRecordedAsADenyOfTheMaskRule() throws Exception {
        String token = f.token("probing-agent", "agents");
        users(token, "search", "profile.email sw \"b\"");

        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            List<SessionSummary> sessions = store.sessions(SessionQuery.newest().subject("probing-agent"));
            assertThat(sessions).singleElement().satisfies(s -> assertThat(s.refusedCount()).isEqualTo(1));
            String transcript = new Replay(store, ZoneOffset.UTC).text(sessions.getFirst().id());
            assertThat(transcript)
                    .contains("verdict: deny (rule agents-read-users)", "searches masked field profile.email", "upstream: not forwarded")
                    .doesNotContain(token);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }
}
