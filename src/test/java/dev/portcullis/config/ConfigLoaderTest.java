package dev.portcullis.config;

import dev.portcullis.http.HttpConnectionConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.masking.Detector;
import dev.portcullis.masking.Redactor;
import dev.portcullis.policy.Verdict;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    static final Map<String, String> ENV = Map.of(
            "PORTCULLIS_OIDC_ISSUER", "https://idp.example.com/oauth2/default",
            "PORTCULLIS_OIDC_AUDIENCE", "api://portcullis",
            "OKTA_URL", "https://example.okta.com",
            "OKTA_API_TOKEN", "00s3cr3t-token");

    @TempDir
    Path dir;

    /** A valid config, in the example's shape, that tests break one line at a time. */
    static final String VALID = """
            identity:
              issuer: https://idp.example.com
              audience: portcullis
            connections:
              - name: okta
                type: http
                listen: 127.0.0.1:8081
                upstream:
                  url: https://example.okta.com
                credentials:
                  header: Authorization
                  value: SSWS ${OKTA_API_TOKEN}
                policy:
                  rules:
                    - id: read
                      when:
                        groups: [agents]
                        http:
                          methods: [GET]
                          paths: [/api/v1/users]
                      action: allow
            """;

    Path write(String yaml) throws IOException {
        Path f = dir.resolve("gw.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    String errorsOf(String yaml) throws IOException {
        return errorsOf(write(yaml), ENV);
    }

    /** The problems loading {@code f} reports, with its path shown as {@code gw.yaml}. */
    static String errorsOf(Path f, Map<String, String> env) {
        try {
            ConfigLoader.load(f, env);
        } catch (ConfigException e) {
            return e.getMessage().replace(f.toString(), "gw.yaml");
        }
        throw new AssertionError("expected a ConfigException");
    }

    static HttpCall call(String method, String path, String json) throws IOException {
        return new HttpCall(method, path, "", Map.of(), "",
                json == null ? Optional.empty() : Optional.of(new ObjectMapper().readTree(json)), 0);
    }

    @Test
    void exampleOktaConfigLoadsAndDecidesAsDocumented() throws Exception {
        GatewayConfig c = ConfigLoader.load(Path.of("examples/okta.yaml"), ENV);
        assertThat(c.identity().issuer()).isEqualTo(URI.create("https://idp.example.com/oauth2/default"));
        assertThat(c.identity().algorithms()).containsExactlyInAnyOrder("RS256", "ES256");
        assertThat(c.identity().clockSkew()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.store()).isEqualTo(new StoreConfig.Embedded(Path.of("./data/portcullis.db")));
        assertThat(c.recording().maxResponseBytes()).isEqualTo(65536);
        assertThat(c.admin().listen().getPort()).isEqualTo(8080);
        HttpConnectionConfig okta = (HttpConnectionConfig) c.connection("okta").orElseThrow();
        assertThat(okta.upstreamUrl()).isEqualTo(URI.create("https://example.okta.com"));
        assertThat(okta.credentials().value()).isEqualTo("SSWS 00s3cr3t-token");
        assertThat(okta.maxRequestBytes()).isEqualTo(1048576);
        assertThat(okta.approvalPendingStatus()).isEqualTo(403);
        assertThat(okta.filterParams()).containsExactly("search", "filter", "q");
        assertThat(okta.sortParams()).containsExactly("sortBy");
        assertThat(okta.redactor().fields()).containsExactly("profile.answer");

        Identity agent = new Identity("agent-1", Set.of("agents"), "j", "", "i", Map.of(), Instant.MAX);
        var policy = okta.policy();
        assertThat(policy.decide(agent, call("GET", "/api/v1/users/00u1", null)).verdict())
                .isInstanceOfSatisfying(Verdict.Mask.class, m -> {
                    assertThat(m.ruleId()).isEqualTo("agents-read-users");
                    assertThat(m.plan().detectors()).containsExactlyInAnyOrder(Detector.EMAIL, Detector.PHONE);
                });
        assertThat(policy.decide(agent, call("DELETE", "/api/v1/users/00u1", null)).verdict().ruleId()).isEqualTo("no-user-deletion");
        assertThat(policy.decide(agent, call("POST", "/api/v1/users/00u1/roles", "{\"type\":\"SUPER_ADMIN\"}")).verdict())
                .isEqualTo(new Verdict.HoldForApproval("admin-roles-need-approval",
                        "Assigning SUPER_ADMIN or ORG_ADMIN needs approval by okta-admins.", List.of("okta-admins"), 1,
                        Duration.ofMinutes(15)));
        assertThat(policy.decide(agent, call("POST", "/api/v1/users/00u1/roles", "{\"type\":\"READ_ONLY_ADMIN\"}")).verdict().ruleId())
                .isEqualTo("default-deny");
    }

    @Test
    void defaultsApplyWhenSectionsAreLeftOut() throws Exception {
        GatewayConfig c = ConfigLoader.load(write(VALID), ENV);
        assertThat(c.identity().groupsClaim()).isEqualTo("groups");
        assertThat(c.identity().maxTokenBytes()).isEqualTo(8192);
        assertThat(c.identity().jwksMinRefresh()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.admin().listen().getHostString()).isEqualTo("127.0.0.1");
        HttpConnectionConfig h = (HttpConnectionConfig) c.connections().getFirst();
        assertThat(h.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(h.responseTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(h.maxRequestBytes()).isEqualTo(1024 * 1024);
        assertThat(h.approvalPendingStatus()).isEqualTo(403);
    }

    @Test
    void approvalPendingStatusIs403Or202() throws Exception {
        String with202 = VALID.replace("    policy:\n", "    approval-pending-status: 202\n    policy:\n");
        GatewayConfig c = ConfigLoader.load(write(with202), ENV);
        assertThat(((HttpConnectionConfig) c.connections().getFirst()).approvalPendingStatus()).isEqualTo(202);
        GatewayConfig explicit403 = ConfigLoader.load(write(with202.replace(": 202", ": 403")), ENV);
        assertThat(((HttpConnectionConfig) explicit403.connections().getFirst()).approvalPendingStatus()).isEqualTo(403);

        assertThat(errorsOf(with202.replace(": 202", ": 200")))
                .isEqualTo("gw.yaml:13:30: connections[0].approval-pending-status: expected 403 or 202, got '200'");
        assertThat(errorsOf(with202.replace(": 202", ": accepted")))
                .isEqualTo("gw.yaml:13:30: connections[0].approval-pending-status: expected 403 or 202, got 'accepted'");
    }

    @Test
    void filterParamsAreQueryParameterNamesEachOnceAndNoneByDefault() throws Exception {
        assertThat(((HttpConnectionConfig) ConfigLoader.load(write(VALID), ENV).connections().getFirst()).filterParams()).isEmpty();
        String with = VALID.replace("    policy:\n", "    filter-params: [search, filter, q]\n    policy:\n");
        assertThat(((HttpConnectionConfig) ConfigLoader.load(write(with), ENV).connections().getFirst()).filterParams())
                .containsExactly("search", "filter", "q");
        String none = VALID.replace("    policy:\n", "    filter-params: []\n    policy:\n");
        assertThat(((HttpConnectionConfig) ConfigLoader.load(write(none), ENV).connections().getFirst()).filterParams()).isEmpty();

        assertThat(errorsOf(with.replace("[search, filter, q]", "search")))
                .isEqualTo("gw.yaml:13:20: connections[0].filter-params: expected a list, got 'search'");
        assertThat(errorsOf(with.replace("[search, filter, q]", "[search, \"a b\", q=1]"))).isEqualTo(String.join("\n",
                "gw.yaml:13:29: connections[0].filter-params[1]: expected a query parameter name such as search"
                        + " (no spaces, '=', '&', '#' or '%'), got 'a b'",
                "gw.yaml:13:36: connections[0].filter-params[2]: expected a query parameter name such as search"
                        + " (no spaces, '=', '&', '#' or '%'), got 'q=1'"));
        assertThat(errorsOf(with.replace("[search, filter, q]", "[search, filter, search]")))
                .isEqualTo("gw.yaml:13:37: connections[0].filter-params[2]: 'search' is listed twice");
        assertThat(errorsOf(with.replace("filter-params", "filter-param")))
                .isEqualTo("gw.yaml:13:5: connections[0].filter-param: unknown key; did you mean 'filter-params'?");
    }

    @Test
    void sortParamsAreQueryParameterNamesEachOnceInNoFilterParamsAndNoneByDefault() throws Exception {
        assertThat(((HttpConnectionConfig) ConfigLoader.load(write(VALID), ENV).connections().getFirst()).sortParams()).isEmpty();
        String with = VALID.replace("    policy:\n", "    filter-params: [search]\n    sort-params: [sortBy, orderBy]\n    policy:\n");
        HttpConnectionConfig h = (HttpConnectionConfig) ConfigLoader.load(write(with), ENV).connections().getFirst();
        assertThat(h.sortParams()).containsExactly("sortBy", "orderBy");
        assertThat(h.filterParams()).containsExactly("search");

        assertThat(errorsOf(with.replace("[sortBy, orderBy]", "sortBy")))
                .isEqualTo("gw.yaml:14:18: connections[0].sort-params: expected a list, got 'sortBy'");
        assertThat(errorsOf(with.replace("[sortBy, orderBy]", "[sortBy, \"sort by\"]")))
                .isEqualTo("gw.yaml:14:27: connections[0].sort-params[1]: expected a query parameter name such as sortBy"
                        + " (no spaces, '=', '&', '#' or '%'), got 'sort by'");
        // Matched ignoring case, so listed twice ignoring case.
        assertThat(errorsOf(with.replace("[sortBy, orderBy]", "[sortBy, SORTBY]")))
                .isEqualTo("gw.yaml:14:27: connections[0].sort-params[1]: 'SORTBY' is listed twice");
        // A parameter is read as a filter or as a sort, not both.
        assertThat(errorsOf(with.replace("[sortBy, orderBy]", "[sortBy, Search]")))
                .isEqualTo("gw.yaml:14:27: connections[0].sort-params[1]: 'Search' is also in filter-params;"
                        + " a parameter is read one way only");
        assertThat(errorsOf(with.replace("sort-params", "sort-param")))
                .isEqualTo("gw.yaml:14:5: connections[0].sort-param: unknown key; did you mean 'sort-params'?");
    }

    @Test
    void redactAddsFieldsToTheBuiltInSecretsWhichApplyWithoutIt() throws Exception {
        HttpConnectionConfig plain = (HttpConnectionConfig) ConfigLoader.load(write(VALID), ENV).connections().getFirst();
        assertThat(plain.redactor()).isSameAs(Redactor.DEFAULTS);
        assertThat(plain.redactor().json("{\"password\":\"x\"}")).isEqualTo("{\"password\":\"[redacted]\"}");

        String withRedact = VALID.replace("    policy:\n", "    redact: [profile.ssn, \"$.pin\"]\n    policy:\n");
        HttpConnectionConfig h = (HttpConnectionConfig) ConfigLoader.load(write(withRedact), ENV).connections().getFirst();
        assertThat(h.redactor().fields()).containsExactly("profile.ssn", "$.pin");
        assertThat(h.redactor().json("{\"profile\":{\"ssn\":\"078-05-1120\"},\"pin\":1234,\"token\":\"t\"}"))
                .isEqualTo("{\"profile\":{\"ssn\":\"[redacted]\"},\"pin\":\"[redacted]\",\"token\":\"[redacted]\"}");
    }

    @Test
    void aRedactEntryThatNamesNoFieldOrARedactThatIsNoListIsAPositionedError() throws Exception {
        assertThat(errorsOf(VALID.replace("    policy:\n", "    redact: [profile.ssn, \"$\"]\n    policy:\n")))
                .startsWith("gw.yaml:13:27: connections[0].redact[1]: expected a field such as 'profile.ssn' or 'pin', got '$'");
        assertThat(errorsOf(VALID.replace("    policy:\n", "    redact: pin\n    policy:\n")))
                .startsWith("gw.yaml:13:13: connections[0].redact: expected a list");
    }

    @Test
    void wrongActionNamesFileLineFieldAndExpectedValues() throws Exception {
        assertThat(errorsOf(VALID.replace("action: allow", "action: permit")))
                .isEqualTo("gw.yaml:21:19: connections[0].policy.rules[0].action: expected one of allow, deny, "
                        + "require-approval, got 'permit'");
    }

    @Test
    void unknownKeySuggestsTheClosestOne() throws Exception {
        assertThat(errorsOf(VALID.replace("audience:", "audeince:")))
                .contains("gw.yaml:3:3: identity.audeince: unknown key; did you mean 'audience'?")
                .contains("gw.yaml:2:3: identity.audience: missing");
    }

    @Test
    void everyProblemIsReportedTogetherOnePerLine() throws Exception {
        String bad = VALID.replace("listen: 127.0.0.1:8081", "listen: 127.0.0.1:99999")
                .replace("url: https://example.okta.com", "url: ftp://example.okta.com")
                .replace("methods: [GET]", "methods: [GETT]")
                .replace("paths: [/api/v1/users]", "paths: [\"/api/v1/users/{id\"]");
        List<String> lines = errorsOf(bad).lines().toList();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).startsWith("gw.yaml:7:13: connections[0].listen: expected host:port, got '127.0.0.1:99999' (port out of range");
        assertThat(lines.get(1)).startsWith("gw.yaml:9:12: connections[0].upstream.url: expected an absolute http(s) URL");
        assertThat(lines.get(2)).startsWith("gw.yaml:19:25: connections[0].policy.rules[0].when.http.methods[0]: expected one of GET");
        assertThat(lines.get(3)).startsWith("gw.yaml:20:23: connections[0].policy.rules[0].when.http.paths[0]: expected a path template");
    }

    @Test
    void unsetEnvironmentVariableIsNamedWhereItIsUsed() throws Exception {
        Path f = write(VALID);
        assertThatThrownBy(() -> ConfigLoader.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(":12:14: connections[0].credentials.value: environment variable OKTA_API_TOKEN is not set");
    }

    @Test
    void variableDefaultsAndLiteralDollarsAreSubstituted() throws Exception {
        GatewayConfig c = ConfigLoader.load(write(VALID.replace("audience: portcullis", "audience: ${AUD:-aud}-$${y}")
                .replace("groups: [agents]", "groups: [\"${GROUP:-agents}\"]")), ENV);
        assertThat(c.identity().audience()).isEqualTo("aud-${y}");
        assertThat(c.connections().getFirst().policy().rules().getFirst().when().groups()).containsExactly("agents");
    }

    @Test
    void secretsNeverAppearInToStringNorInErrors() throws Exception {
        GatewayConfig c = ConfigLoader.load(write(VALID), ENV);
        assertThat(c.toString()).doesNotContain("00s3cr3t-token").contains("redacted");
        String errors = errorsOf(VALID.replace("header: Authorization", "header: \"Bad Header\""));
        assertThat(errors).doesNotContain("00s3cr3t-token");
    }

    @Test
    void connectionTypeWithoutAdapterIsRefused() throws Exception {
        assertThat(errorsOf(VALID.replace("type: http", "type: mcp")))
                .isEqualTo("gw.yaml:6:11: connections[0].type: connection type 'mcp' has no adapter; known: http, kubernetes, postgres, ssh");
    }

    @Test
    void duplicateNamesListenAddressesAndRuleIdsAreRefused() throws Exception {
        String twoConnections = VALID + """
                  - name: okta
                    type: http
                    listen: 127.0.0.1:8081
                    upstream: {url: https://example.okta.com}
                    credentials: {header: Authorization, value: x}
                    policy:
                      rules:
                        - {id: read, action: deny}
                        - {id: read, action: allow}
                """;
        String errors = errorsOf(twoConnections);
        assertThat(errors).contains("connections[1].name: connection name 'okta' is already used by connections[0]");
        assertThat(errors).contains("connections[1].listen: listen address 127.0.0.1:8081 is already used by connections[0].listen");
        assertThat(errors).contains("connections[1].policy.rules[1].id: rule id 'read' is already used by connections[1].policy.rules[0]");

        assertThat(errorsOf(VALID + "admin:\n  listen: 0.0.0.0:8081\n"))
                .contains("connections[0].listen: listen address 127.0.0.1:8081 is already used by admin.listen");
    }

    @Test
    void requireApprovalNeedsApproversAndMaskNeedsAllow() throws Exception {
        String errors = errorsOf(VALID.replace("action: allow", """
                action: require-approval
                          mask: {detectors: [email]}""").replace("      action: require", "      action: require"));
        assertThat(errors).contains("connections[0].policy.rules[0].approvers: missing; expected a non-empty list of groups");
        assertThat(errors).contains("connections[0].policy.rules[0].mask: mask only applies to action allow, not require-approval");
    }

    @Test
    void aGrantIsReadForRequireApprovalAndRefusedElsewhereOrWhenTooLong() throws Exception {
        String grant = VALID.replace("action: allow", """
                action: require-approval
                          approvers: [dba]
                          grant: 30m""");
        GatewayConfig config = ConfigLoader.load(write(grant), ENV);
        var rule = ((HttpConnectionConfig) config.connections().getFirst()).policy().rules().getFirst();
        assertThat(rule.grant()).contains(java.time.Duration.ofMinutes(30));
        assertThat(rule.verdict()).isInstanceOfSatisfying(dev.portcullis.policy.Verdict.HoldForApproval.class,
                h -> assertThat(h.grant()).contains(java.time.Duration.ofMinutes(30)));

        assertThat(errorsOf(grant.replace("grant: 30m", "grant: 25h")))
                .contains("connections[0].policy.rules[0].grant: expected a duration like 30m, at most 24h, got '25h'");
        assertThat(errorsOf(grant.replace("grant: 30m", "grant: soon")))
                .contains("connections[0].policy.rules[0].grant: expected a duration like 30m");
        assertThat(errorsOf(VALID.replace("action: allow", "action: allow\n          grant: 30m")))
                .contains("connections[0].policy.rules[0].grant: only applies to action require-approval, not allow");
    }

    @Test
    void unknownDetectorListsTheKnownOnes() throws Exception {
        assertThat(errorsOf(VALID.replace("action: allow", "action: allow\n          mask: {detectors: [emial]}")))
                .contains("rules[0].mask.detectors[0]: expected one of email, phone, card, ssn, iban, jwt, api-key, private-key, got 'emial'");
    }

    @Test
    void symmetricAndNoneAlgorithmsAreRefused() throws Exception {
        String errors = errorsOf(VALID.replace("audience: portcullis", "audience: portcullis\n  algorithms: [RS256, HS256, none]"));
        assertThat(errors).contains("identity.algorithms[1]: 'HS256' is never accepted: only asymmetric algorithms");
        assertThat(errors).contains("identity.algorithms[2]: 'none' is never accepted");
    }

    @Test
    void issuerMustBeAnAbsoluteUrl() throws Exception {
        assertThat(errorsOf(VALID.replace("issuer: https://idp.example.com", "issuer: idp.example.com")))
                .startsWith("gw.yaml:2:11: identity.issuer: expected an absolute http(s) URL, got 'idp.example.com'");
    }

    @Test
    void durationsAndListenHostsAreChecked() throws Exception {
        String errors = errorsOf(VALID.replace("audience: portcullis", "audience: portcullis\n  clock-skew: 30 seconds")
                .replace("listen: 127.0.0.1:8081", "listen: \":8081\""));
        assertThat(errors).contains("identity.clock-skew: expected a duration like 30s, got '30 seconds'");
        assertThat(errors).contains("connections[0].listen: expected host:port, got ':8081' (host is required");
    }

    @Test
    void invalidYamlIsReportedWithItsPosition() throws Exception {
        assertThat(errorsOf("identity:\n  issuer: [a\n")).startsWith("gw.yaml:3:1: not valid YAML");
    }

    @Test
    void policyTestModeLoadsWithoutSecrets() throws Exception {
        GatewayConfig c = ConfigLoader.loadForPolicyTest(Path.of("examples/okta.yaml"), Map.of());
        assertThat(c.connection("okta").orElseThrow().policy().rules()).hasSize(5);
    }

    // ---- approvals: where people approve, and who is told

    private static final String APPROVALS = """
            approvals:
              public-url: https://portcullis.example.com/
              notify:
                - type: slack
                  url: https://hooks.slack.com/services/T0/B0/x
                - type: webhook
                  url: https://tickets.example.com/hooks/portcullis
                  secret: a-secret-of-sixteen-bytes-or-more
            """;

    @Test
    void channelsAndThePublicUrlAreRead() throws Exception {
        GatewayConfig cfg = ConfigLoader.load(write(APPROVALS + VALID), ENV);

        assertThat(cfg.approvals().publicUrl()).contains(URI.create("https://portcullis.example.com/"));
        assertThat(cfg.approvals().channels()).hasSize(2)
                .first().isInstanceOf(ApprovalsConfig.Slack.class);
        assertThat(cfg.approvals().toString()).doesNotContain("a-secret-of-sixteen", "T0/B0");
    }

    @Test
    void withoutTheSectionNobodyIsNotified() throws Exception {
        assertThat(ConfigLoader.load(write(VALID), ENV).approvals().channels()).isEmpty();
    }

    @Test
    void anUnknownChannelTypeAndAShortSecretArePositionedErrors() throws Exception {
        String errors = errorsOf(APPROVALS.replace("type: slack", "type: pager")
                .replace("a-secret-of-sixteen-bytes-or-more", "short") + VALID);

        assertThat(errors).contains("approvals.notify[0].type: expected slack or webhook, got 'pager'")
                .contains("approvals.notify[1].secret: expected a secret of at least 16 bytes");
    }
}
