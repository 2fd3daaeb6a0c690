package dev.portcullis.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.config.YamlTree.Obj;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Operation;
import dev.portcullis.sql.Lineage;
import dev.portcullis.sql.LineageException;
import dev.portcullis.sql.MaskedLineage;
import dev.portcullis.sql.RelationCatalog;
import dev.portcullis.sql.SqlParseException;
import dev.portcullis.sql.SqlParser;
import dev.portcullis.policy.Verdict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Runs a policy test file (like {@code opa test}) against one connection's policy of a config file.
 * The config is loaded with {@link ConfigLoader#loadForPolicyTest}, so no secrets are needed.
 *
 * <pre>
 * config: okta.yaml          # relative to the test file
 * connection: okta
 * cases:
 *   - name: agents list users, with masking
 *     identity: {subject: agent-1, groups: [agents], claims: {tenant: acme}}
 *     http: {method: GET, path: /api/v1/users, query: "limit=200", body: {any: yaml}}
 *     expect: {action: mask, rule: agents-read-users}   # allow | mask | deny | require-approval
 *   - name: agents cannot delete
 *     identity: {subject: agent-1, groups: [agents]}
 *     sql: "DELETE FROM customers"      # instead of http; parsed with PostgreSQL's parser
 *     expect: {action: deny}
 *   - name: a derived email is masked
 *     identity: {subject: agent-1, groups: [agents]}
 *     sql: "SELECT id, reverse(email) AS r FROM customers"
 *     expect: {action: mask, masked-columns: [r]}        # exactly these result columns masked whole
 *   - name: masked columns are no oracle
 *     identity: {subject: agent-1, groups: [agents]}
 *     sql: "SELECT count(*) FROM customers WHERE email LIKE 'a%'"
 *     expect: {action: mask, refused: "LIKE"}            # the mask rule refuses it; the message contains this
 * catalog:                   # the relations lineage resolves * and views with (schema public)
 *   customers: [id, name, email, phone]                  # a table: its columns
 *   v_contacts: "SELECT id, lower(email) AS mail FROM customers"   # a view: its definition
 * </pre>
 *
 * An {@code sql} case with several statements is judged statement by statement, as the gateway does;
 * its outcome is the most severe verdict (deny, then require-approval, then mask, then allow), the
 * first such in statement order. Text the parser refuses is a failing case carrying the parser's message.
 * {@code masked-columns} and {@code refused} check the lineage masking of a mask verdict's statements
 * ({@code masked-columns}: of the last statement), resolved through the file's {@code catalog}.
 */
public final class PolicyTestRunner {

    static final List<String> ACTIONS = List.of("allow", "mask", "deny", "require-approval");

    private PolicyTestRunner() {}

    /** One case's outcome; {@code expectedRule} is empty when the case does not name one. */
    public record CaseResult(String name, boolean passed, String expectedAction, String expectedRule,
                             String actualAction, String actualRule, String reason) {}

    public record Report(Path file, List<CaseResult> cases) {
        public Report {
            cases = List.copyOf(cases);
        }

        public long passed() {
            return cases.stream().filter(CaseResult::passed).count();
        }

        public long failed() {
            return cases.size() - passed();
        }
    }

    /** {@code operations} is empty when {@code parseError} says why the SQL could not be judged. */
    private record Case(String name, ProtocolModule module, Identity identity, List<Operation> operations, String parseError,
                        String action, String rule, Optional<List<String>> maskedColumns, Optional<String> refused) {}

    private static final List<String> SEVERITY = List.of("allow", "mask", "require-approval", "deny");

    /** @param env environment for {@code ${VAR}}; unset variables are treated as empty */
    public static Report run(Path testFile, Map<String, String> env) throws ConfigException {
        return run(testFile, env, ProtocolRegistry.installed());
    }

    /** As {@link #run(Path, Map)}, with the given protocol modules. */
    public static Report run(Path testFile, Map<String, String> env, ProtocolRegistry protocols) throws ConfigException {
        String label = testFile.toString();
        String text;
        try {
            text = Files.readString(testFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            YamlTree.fail(label, "cannot read the file: " + e);
            return null;
        }
        YamlTree tree = new YamlTree(label, env, YamlTree.UnsetVariables.EMPTY);
        Node root = tree.parse(text);
        tree.throwIfProblems();
        Obj o = tree.obj(root, "", List.of("config", "connection", "cases", "catalog"));
        tree.throwIfProblems();
        String config = o.has("config") ? tree.scalar(o.get("config"), "config").text() : null;
        if (!o.has("config")) o.missing("config", "the config file, relative to this file");
        String connection = o.has("connection") ? tree.scalar(o.get("connection"), "connection").text() : null;
        if (!o.has("connection")) o.missing("connection", "the name of a connection in the config");
        ConfigReader reader = new ConfigReader(tree, testFile);
        List<Case> cases = new ArrayList<>();
        if (!o.has("cases")) o.missing("cases", "a list of cases");
        else {
            List<Node> items = tree.list(o.get("cases"), "cases");
            for (int i = 0; items != null && i < items.size(); i++) {
                Case c = testCase(protocols, reader, items.get(i), "cases[" + i + "]");
                if (c != null) cases.add(c);
            }
        }
        Map<ProtocolModule, ProtocolModule.TestMasking> maskings = new java.util.HashMap<>();
        for (ProtocolModule m : protocols.modules()) {
            m.testMasking(reader, Optional.ofNullable(o.get("catalog"))).ifPresent(t -> maskings.put(m, t));
        }
        tree.throwIfProblems();

        Path configFile = testFile.toAbsolutePath().getParent().resolve(config);
        GatewayConfig gateway = ConfigLoader.loadForPolicyTest(configFile, env, protocols);
        var target = gateway.connection(connection);
        if (target.isEmpty()) {
            tree.problem(o.get("connection"), "connection", "no connection named '" + connection + "' in " + config
                    + "; known: " + String.join(", ", gateway.connections().stream().map(c -> c.name()).toList()));
            tree.throwIfProblems();
        }
        var policy = target.get().policy();
        List<CaseResult> results = new ArrayList<>(cases.size());
        for (Case c : cases) {
            if (c.operations.isEmpty()) {
                results.add(new CaseResult(c.name, false, c.action, c.rule, "error", "", c.parseError));
                continue;
            }
            Verdict verdict = mostSevere(policy, c.identity, c.operations);
            String action = verdict.label();
            String rule = verdict.ruleId();
            boolean passed = action.equals(c.action) && (c.rule.isEmpty() || rule.equals(c.rule));
            String reason = reason(verdict);
            if (c.maskedColumns.isPresent() || c.refused.isPresent()) {
                ProtocolModule.TestMasking check = maskings.get(c.module);
                String masking = check == null ? "refused: masked-columns and refused do not apply to " + c.module.operationKey()
                        + " cases" : check.outcome(policy, c.identity, c.operations);
                boolean expected = c.refused.map(r -> masking.startsWith("refused") && masking.contains(r))
                        .orElseGet(() -> masking.equals("masked columns " + c.maskedColumns.get()));
                passed &= expected;
                reason = masking + (expected ? "" : "; expected " + c.refused.map(r -> "refused (\"" + r + "\")")
                        .orElseGet(() -> "masked columns " + c.maskedColumns.get()));
            }
            results.add(new CaseResult(c.name, passed, c.action, c.rule, action, rule, reason));
        }
        return new Report(testFile, results);
    }




    /** The verdict a case gets: its statements judged one by one, the most severe first in statement order. */
    private static Verdict mostSevere(dev.portcullis.policy.Policy policy, Identity identity, List<Operation> operations) {
        Verdict verdict = null;
        for (Operation op : operations) {
            Verdict v = policy.decide(identity, op).verdict();
            if (verdict == null || SEVERITY.indexOf(v.label()) > SEVERITY.indexOf(verdict.label())) verdict = v;
        }
        return verdict;
    }

    /** What the policy says of one operation: the verdict's action and rule, why, and the operations judged. */
    public record Judgement(String action, String rule, String reason, List<String> operations) {
        public Judgement {
            operations = List.copyOf(operations);
        }
    }

    /**
     * "What would happen": one operation, written as a policy test case's operation block (for PostgreSQL the
     * SQL text, for HTTP {@code {method: GET, path: /api/v1/users}}...), judged by a connection's policy for
     * {@code identity}, exactly as {@code policy test} judges a case. Nothing is run or recorded.
     *
     * @throws ConfigException when the operation block is not what the connection's protocol expects (the
     *                         message says what was)
     * @throws ProtocolModule.UnjudgeableException when the gateway could not judge it either (SQL that does not parse)
     */
    public static Judgement judge(GatewayConfig config, ProtocolRegistry protocols, String connection, Identity identity, String operation)
            throws ConfigException, ProtocolModule.UnjudgeableException {
        ConnectionConfig target = config.connection(connection).orElseThrow(() -> new IllegalArgumentException("no connection named '"
                + connection + "'"));
        ProtocolModule module = protocols.moduleOf(target);
        YamlTree tree = new YamlTree("operation", Map.of(), YamlTree.UnsetVariables.EMPTY);
        Node node = tree.parse(operation);
        tree.throwIfProblems();
        List<Operation> operations = module.testOperations(new ConfigReader(tree, Path.of("operation")), node, module.operationKey());
        tree.throwIfProblems();
        Verdict verdict = mostSevere(target.policy(), identity, operations);
        return new Judgement(verdict.label(), verdict.ruleId(), reason(verdict), operations.stream().map(Operation::summary).toList());
    }

    private static String reason(Verdict v) {
        return switch (v) {
            case Verdict.Allow a -> "";
            case Verdict.Mask m -> "";
            case Verdict.Deny d -> d.reason();
            case Verdict.HoldForApproval h -> h.reason();
            case Verdict.Granted g -> "";
        };
    }

    private static Case testCase(ProtocolRegistry protocols, ConfigReader reader, Node node, String path) {
        YamlTree tree = reader.tree();
        List<String> keys = new ArrayList<>(List.of("name", "identity"));
        keys.addAll(protocols.operationKeys());
        keys.add("expect");
        Obj o = tree.obj(node, path, keys);
        if (o == null) return null;
        int before = tree.problemCount();
        String name = o.has("name") ? tree.scalar(o.get("name"), o.child("name")).text() : path;
        Identity identity = null;
        if (!o.has("identity")) o.missing("identity", "{subject: ..., groups: [...]}");
        else identity = identity(tree, o.get("identity"), o.child("identity"));
        List<Operation> operations = null;
        String parseError = "";
        List<String> blocks = protocols.operationKeys().stream().filter(o::has).toList();
        ProtocolModule module = null;
        if (blocks.size() > 1) {
            String last = blocks.getLast();
            tree.problem(o.get(last), o.child(last), "a case is one operation: write " + String.join(" or ", blocks)
                    + ", not " + (blocks.size() == 2 ? "both" : "several"));
        } else if (blocks.isEmpty()) {
            String first = protocols.operationKeys().getFirst();
            StringBuilder expected = new StringBuilder(protocols.byOperationKey(first).orElseThrow().testCaseExample());
            for (String other : protocols.operationKeys().subList(1, protocols.operationKeys().size())) {
                expected.append(", or ").append(other).append(": ").append(protocols.byOperationKey(other).orElseThrow().testCaseExample());
            }
            o.missing(first, expected.toString());
        } else {
            module = protocols.byOperationKey(blocks.getFirst()).orElseThrow();
            try {
                operations = module.testOperations(reader, o.get(blocks.getFirst()), o.child(blocks.getFirst()));
            } catch (ProtocolModule.UnjudgeableException e) {
                operations = List.of();
                parseError = e.getMessage();
            }
        }
        String action = null;
        String rule = "";
        Optional<List<String>> maskedColumns = Optional.empty();
        Optional<String> refused = Optional.empty();
        if (!o.has("expect")) o.missing("expect", "{action: allow | mask | deny | require-approval, rule: id}");
        else {
            Obj e = tree.obj(o.get("expect"), o.child("expect"), List.of("action", "rule", "masked-columns", "refused"));
            if (e != null) {
                if (e.has("masked-columns")) {
                    Node m = e.get("masked-columns");
                    maskedColumns = m instanceof SequenceNode seq && seq.getValue().isEmpty() ? Optional.of(List.of()) // none masked
                            : Optional.ofNullable(tree.texts(m, e.child("masked-columns")));
                }
                if (e.has("refused")) refused = Optional.ofNullable(tree.scalar(e.get("refused"), e.child("refused")).text());
                if (e.has("masked-columns") && e.has("refused")) {
                    tree.problem(e.get("refused"), e.child("refused"), "a statement is either refused or masked: write one of the two");
                }
                if (!e.has("action")) e.missing("action", "one of " + String.join(", ", ACTIONS));
                else action = tree.convert(e.get("action"), e.child("action"), "one of " + String.join(", ", ACTIONS),
                        PolicyTestRunner::action, null);
                if (e.has("rule")) rule = tree.scalar(e.get("rule"), e.child("rule")).text();
            }
        }
        if (tree.problemCount() > before) return null;
        return new Case(name, module, identity, operations, parseError, action, rule, maskedColumns, refused);
    }

    private static String action(String text) {
        if (!ACTIONS.contains(text)) throw new IllegalArgumentException("");
        return text;
    }

    private static Identity identity(YamlTree tree, Node node, String path) {
        Obj o = tree.obj(node, path, List.of("subject", "groups", "claims"));
        if (o == null) return null;
        String subject = "";
        if (!o.has("subject")) o.missing("subject", "the caller's subject");
        else subject = tree.scalar(o.get("subject"), o.child("subject")).text();
        Set<String> groups = Set.of();
        if (o.has("groups")) {
            List<Node> items = tree.list(o.get("groups"), o.child("groups"));
            List<String> out = new ArrayList<>();
            for (int i = 0; items != null && i < items.size(); i++) {
                String g = tree.scalar(items.get(i), o.child("groups") + "[" + i + "]").text();
                if (g != null) out.add(g);
            }
            groups = Set.copyOf(out);
        }
        Map<String, String> claims = new LinkedHashMap<>();
        if (o.has("claims")) {
            Map<String, Node> entries = tree.entries(o.get("claims"), o.child("claims"));
            if (entries != null) {
                entries.forEach((k, v) -> {
                    String value = tree.scalar(v, o.child("claims") + "." + k).text();
                    if (value != null) claims.put(k, value);
                });
            }
        }
        if (subject == null) return null;
        return new Identity(subject, groups, "policy-test", "", "policy-test", claims, Instant.MAX);
    }


}
