package dev.portcullis.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.masking.Detector;
import dev.portcullis.masking.MaskPlan;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyTest {

    static final Identity AGENT = identity("agent-1", Set.of("agents"), Map.of("tenant", "acme"));
    static final Identity STRANGER = identity("stranger", Set.of(), Map.of());

    static Identity identity(String subject, Set<String> groups, Map<String, String> claims) {
        return new Identity(subject, groups, "jti", "", "https://idp", claims, Instant.MAX);
    }

    static HttpCall call(String method, String path) {
        return new HttpCall(method, path, "", Map.of(), "", Optional.empty(), 0);
    }

    static HttpCall call(String method, String path, Map<String, List<String>> query, String json) throws Exception {
        Optional<JsonNode> body = json == null ? Optional.empty() : Optional.of(new ObjectMapper().readTree(json));
        return new HttpCall(method, path, "", query, json == null ? "" : "application/json", body, 0);
    }

    static Conditions http(Set<String> groups, HttpCondition http) {
        return new Conditions(groups, Set.of(), Map.of(), Optional.of(http));
    }

    static HttpCondition methodsAndPaths(Set<String> methods, String... paths) {
        return new HttpCondition(methods, List.of(paths).stream().map(PathTemplate::compile).toList(), Map.of(), List.of());
    }

    @Test
    void nothingMatchingIsADefaultDeny() {
        Decision d = new Policy(List.of()).decide(AGENT, call("GET", "/x"));
        assertThat(d.verdict()).isInstanceOfSatisfying(Verdict.Deny.class, deny -> {
            assertThat(deny.ruleId()).isEqualTo("default-deny");
            assertThat(deny.reason()).contains("no policy rule allowed");
        });
        assertThat(d.shadow()).isEmpty();
    }

    @Test
    void firstMatchingRuleWins() {
        Policy p = new Policy(List.of(
                Rule.of("deny-delete", http(Set.of(), methodsAndPaths(Set.of("DELETE"), "/users/{id}")), Action.DENY),
                Rule.of("allow-all-agents", new Conditions(Set.of("agents"), Set.of(), Map.of(), Optional.empty()), Action.ALLOW)));
        assertThat(p.decide(AGENT, call("DELETE", "/users/1")).verdict().ruleId()).isEqualTo("deny-delete");
        assertThat(p.decide(AGENT, call("GET", "/users/1")).verdict()).isEqualTo(new Verdict.Allow("allow-all-agents"));
        assertThat(p.decide(STRANGER, call("GET", "/users/1")).verdict().ruleId()).isEqualTo("default-deny");
    }

    @Test
    void allowWithMaskGivesMaskVerdict() {
        MaskPlan plan = new MaskPlan(List.of("profile.email"), Set.of(Detector.EMAIL));
        Rule r = new Rule("read", "", Conditions.ALWAYS, Action.ALLOW, Optional.of(plan), "", List.of(), 1,
                Rule.DEFAULT_HOLD_TIMEOUT, false);
        assertThat(new Policy(List.of(r)).decide(AGENT, call("GET", "/")).verdict()).isEqualTo(new Verdict.Mask("read", plan));
    }

    @Test
    void requireApprovalHoldsWithApproversCountAndTimeout() {
        Rule r = new Rule("roles", "", Conditions.ALWAYS, Action.REQUIRE_APPROVAL, Optional.empty(), "ask admins",
                List.of("okta-admins"), 2, Duration.ofMinutes(5), false);
        assertThat(new Policy(List.of(r)).decide(AGENT, call("POST", "/")).verdict())
                .isEqualTo(new Verdict.HoldForApproval("roles", "ask admins", List.of("okta-admins"), 2, Duration.ofMinutes(5)));
    }

    @Test
    void dryRunRuleIsShadowedAndEvaluationContinues() {
        Rule shadowDeny = new Rule("would-deny", "", Conditions.ALWAYS, Action.DENY, Optional.empty(), "new rule",
                List.of(), 1, Rule.DEFAULT_HOLD_TIMEOUT, true);
        Policy p = new Policy(List.of(shadowDeny, Rule.of("allow", Conditions.ALWAYS, Action.ALLOW)));
        Decision d = p.decide(AGENT, call("GET", "/"));
        assertThat(d.verdict()).isEqualTo(new Verdict.Allow("allow"));
        assertThat(d.shadow()).containsExactly(new Verdict.Deny("would-deny", "new rule"));

        Decision fallthrough = new Policy(List.of(shadowDeny)).decide(AGENT, call("GET", "/"));
        assertThat(fallthrough.verdict().ruleId()).isEqualTo("default-deny");
        assertThat(fallthrough.shadow()).hasSize(1);
    }

    @Test
    void subjectAndClaimConditionsMustHold() {
        Rule r = Rule.of("acme-agent", new Conditions(Set.of(), Set.of("agent-1"), Map.of("tenant", Set.of("acme")),
                Optional.empty()), Action.ALLOW);
        Policy p = new Policy(List.of(r));
        assertThat(p.decide(AGENT, call("GET", "/")).verdict().ruleId()).isEqualTo("acme-agent");
        assertThat(p.decide(identity("agent-1", Set.of(), Map.of("tenant", "other")), call("GET", "/")).verdict().ruleId())
                .isEqualTo("default-deny");
        assertThat(p.decide(identity("agent-1", Set.of(), Map.of()), call("GET", "/")).verdict().ruleId())
                .isEqualTo("default-deny");
    }

    @Test
    void bodyConditionDoesNotMatchWithoutAJsonBody() throws Exception {
        HttpCondition c = new HttpCondition(Set.of("POST"), List.of(), Map.of(),
                List.of(HttpCondition.BodyField.of("type", Set.of("SUPER_ADMIN"))));
        Policy p = new Policy(List.of(Rule.of("hold", http(Set.of(), c), Action.DENY)));
        assertThat(p.decide(AGENT, call("POST", "/r", Map.of(), "{\"type\":\"SUPER_ADMIN\"}")).verdict().ruleId()).isEqualTo("hold");
        assertThat(p.decide(AGENT, call("POST", "/r", Map.of(), null)).verdict().ruleId()).isEqualTo("default-deny");
        assertThat(p.decide(AGENT, call("POST", "/r", Map.of(), "{\"type\":\"READ_ONLY\"}")).verdict().ruleId()).isEqualTo("default-deny");
        assertThat(p.decide(AGENT, call("POST", "/r", Map.of(), "[1]")).verdict().ruleId()).isEqualTo("default-deny");
    }

    @Test
    void nestedBodyFieldsAndNumbersCompareAsText() throws Exception {
        HttpCondition c = new HttpCondition(Set.of(), List.of(), Map.of(),
                List.of(HttpCondition.BodyField.of("profile.level", Set.of("5"))));
        Policy p = new Policy(List.of(Rule.of("r", http(Set.of(), c), Action.ALLOW)));
        assertThat(p.decide(AGENT, call("POST", "/", Map.of(), "{\"profile\":{\"level\":5}}")).verdict().ruleId()).isEqualTo("r");
        assertThat(p.decide(AGENT, call("POST", "/", Map.of(), "{\"profile\":{\"level\":{}}}")).verdict().ruleId()).isEqualTo("default-deny");
    }

    @Test
    void repeatedValuesCannotWidenAnAllowNorDodgeADeny() throws Exception {
        HttpCondition force = new HttpCondition(Set.of(), List.of(), Map.of("force", Set.of("true")), List.of());
        HttpCondition readScope = new HttpCondition(Set.of(), List.of(), Map.of("scope", Set.of("read")), List.of());
        Policy p = new Policy(List.of(
                Rule.of("no-force", http(Set.of(), force), Action.DENY),
                Rule.of("read-only", http(Set.of(), readScope), Action.ALLOW)));
        assertThat(p.decide(AGENT, call("GET", "/", Map.of("force", List.of("false", "true")), null)).verdict().ruleId())
                .isEqualTo("no-force");
        assertThat(p.decide(AGENT, call("GET", "/", Map.of("scope", List.of("read", "write")), null)).verdict().ruleId())
                .isEqualTo("default-deny");
        assertThat(p.decide(AGENT, call("GET", "/", Map.of("scope", List.of("read")), null)).verdict().ruleId())
                .isEqualTo("read-only");
        assertThat(p.decide(AGENT, call("GET", "/", Map.of(), null)).verdict().ruleId()).isEqualTo("default-deny");
    }

    @Test
    void decisionsForNonDryRunRulesAreNotReallocated() {
        Policy p = new Policy(List.of(Rule.of("allow", Conditions.ALWAYS, Action.ALLOW)));
        assertThat(p.decide(AGENT, call("GET", "/"))).isSameAs(p.decide(STRANGER, call("POST", "/x")));
    }

    @Test
    void invalidRulesAreRefused() {
        assertThatThrownBy(() -> new Rule("r", "", Conditions.ALWAYS, Action.REQUIRE_APPROVAL, Optional.empty(), "",
                List.of(), 1, Rule.DEFAULT_HOLD_TIMEOUT, false)).hasMessageContaining("approvers");
        assertThatThrownBy(() -> new Rule("r", "", Conditions.ALWAYS, Action.DENY, Optional.of(MaskPlan.NONE), "",
                List.of(), 1, Rule.DEFAULT_HOLD_TIMEOUT, false)).hasMessageContaining("mask");
        assertThatThrownBy(() -> new Policy(List.of(Rule.of("a", Conditions.ALWAYS, Action.ALLOW),
                Rule.of("a", Conditions.ALWAYS, Action.DENY)))).hasMessageContaining("'a'");
    }
}
