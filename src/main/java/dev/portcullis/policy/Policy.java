package dev.portcullis.policy;

import dev.portcullis.core.Identity;
import dev.portcullis.core.Operation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ordered list of rules: the first matching rule decides, nothing matching is a deny.
 * Dry-run rules that match are collected as shadow verdicts and do not stop evaluation.
 *
 * <p>Immutable and thread-safe. Verdicts and decisions are built once, here, so {@link #decide}
 * allocates nothing unless a dry-run rule matches.
 */
public final class Policy {

    public static final Policy DENY_ALL = new Policy(List.of());

    static final Decision DEFAULT_DENY = Decision.of(new Verdict.Deny(Verdict.DEFAULT_DENY,
            "no policy rule allowed this operation"));

    private final List<Rule> rules;
    private final Compiled[] compiled;
    private final Map<String, String> sources;

    private record Compiled(Rule rule, Decision decision, boolean everyValue) {}

    /** @throws IllegalArgumentException when two rules share an id */
    public Policy(List<Rule> rules) {
        this(rules, Map.of());
    }

    /**
     * @param sources each rule as written in the configuration, by id (shown to people; never interpreted)
     * @throws IllegalArgumentException when two rules share an id
     */
    public Policy(List<Rule> rules, Map<String, String> sources) {
        this.sources = Map.copyOf(sources);
        this.rules = List.copyOf(rules);
        Set<String> ids = new HashSet<>();
        this.compiled = new Compiled[this.rules.size()];
        for (int i = 0; i < compiled.length; i++) {
            Rule r = this.rules.get(i);
            if (!ids.add(r.id()) || r.id().equals(Verdict.DEFAULT_DENY)) {
                throw new IllegalArgumentException("rule id '" + r.id() + "' is used twice or reserved");
            }
            compiled[i] = new Compiled(r, Decision.of(r.verdict()), r.action() == Action.ALLOW);
        }
    }

    public List<Rule> rules() {
        return rules;
    }

    /** The rule as written in the configuration; empty for a policy built in code. */
    public java.util.Optional<String> source(String ruleId) {
        return java.util.Optional.ofNullable(sources.get(ruleId));
    }

    public Decision decide(Identity identity, Operation operation) {
        List<Verdict> shadow = null;
        for (Compiled c : compiled) {
            if (!c.rule.when().matches(identity, operation, c.everyValue)) continue;
            if (c.rule.dryRun()) {
                if (shadow == null) shadow = new ArrayList<>(2);
                shadow.add(c.decision.verdict());
                continue;
            }
            return shadow == null ? c.decision : new Decision(c.decision.verdict(), shadow);
        }
        return shadow == null ? DEFAULT_DENY : new Decision(DEFAULT_DENY.verdict(), shadow);
    }

    @Override
    public String toString() {
        return "Policy" + rules.stream().map(Rule::id).toList();
    }
}
