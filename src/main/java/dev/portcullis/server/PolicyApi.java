package dev.portcullis.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.config.ConfigException;
import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.config.PolicyTestRunner;
import dev.portcullis.config.ProtocolModule;
import dev.portcullis.config.ProtocolRegistry;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.policy.Rule;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The policies at a glance, for auditors: {@code GET /api/v1/policy} gives each connection's rules as
 * written (id, description, who, action, the YAML itself), and {@code POST /api/v1/policy/test} judges one
 * operation for a given identity exactly as {@code portcullis policy test} judges a case: "what would
 * happen". Nothing is run against a target or recorded.
 */
final class PolicyApi {
    static final String PATH = "/api/v1/policy";
    static final String TEST_PATH = "/api/v1/policy/test";
    static final int MAX_BODY_BYTES = 64 * 1024;
    private static final ObjectMapper JSON = Json.mapper();

    private final GatewayConfig config;
    private final ProtocolRegistry protocols;
    private final Auditors auditors;

    PolicyApi(GatewayConfig config, ProtocolRegistry protocols, Auditors auditors) {
        this.config = config;
        this.protocols = protocols;
        this.auditors = auditors;
    }

    static boolean serves(String path) {
        return path.equals(PATH) || path.equals(TEST_PATH);
    }

    SessionsApi.Reply handle(String method, String path, Identity caller, byte[] body) {
        var refused = auditors.refuse(caller, "the policies");
        if (refused.isPresent()) return refused.get();
        if (path.equals(PATH)) {
            if (!method.equals("GET") && !method.equals("HEAD")) return SessionsApi.problem(405, "Method not allowed", "use GET");
            return new SessionsApi.Reply(200, "application/json", policies().toString());
        }
        if (!method.equals("POST")) return SessionsApi.problem(405, "Method not allowed", "use POST");
        if (body.length > MAX_BODY_BYTES) return SessionsApi.problem(413, "Request body too large", "at most " + MAX_BODY_BYTES + " bytes");
        return test(body);
    }

    private ObjectNode policies() {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode connections = out.putArray("connections");
        for (ConnectionConfig c : config.connections()) {
            ProtocolModule module = protocols.moduleOf(c);
            ObjectNode o = connections.addObject().put("name", c.name()).put("type", c.type())
                    .put("listen", c.listen().getHostString() + ":" + c.listen().getPort())
                    .put("operationKey", module.operationKey()).put("example", module.testCaseExample());
            ArrayNode rules = o.putArray("rules");
            for (Rule r : c.policy().rules()) {
                ObjectNode rule = rules.addObject().put("id", r.id()).put("description", r.description());
                ObjectNode who = rule.putObject("who");
                // (a method reference's receiver is made once: each array is there even when empty)
                r.when().groups().stream().sorted().forEach(who.putArray("groups")::add);
                r.when().subjects().stream().sorted().forEach(who.putArray("subjects")::add);
                ObjectNode claims = who.putObject("claims");
                r.when().claims().forEach((k, v) -> v.stream().sorted().forEach(claims.putArray(k)::add));
                rule.put("action", r.action().configName()).put("mask", r.mask().isPresent()).put("dryRun", r.dryRun());
                r.approvers().forEach(rule.putArray("approvers")::add);
                rule.put("approvalsRequired", r.approvalsRequired());
                r.grant().ifPresentOrElse(g -> rule.put("grant", g.toString()), () -> rule.putNull("grant"));
                rule.put("source", c.policy().source(r.id()).orElse(""));
            }
        }
        return out;
    }

    private SessionsApi.Reply test(byte[] body) {
        String connection;
        String subject;
        Set<String> groups = new LinkedHashSet<>();
        String operation;
        try {
            JsonNode json = JSON.readTree(body);
            connection = json.path("connection").asText("");
            subject = json.path("identity").path("subject").asText("").strip();
            for (JsonNode g : json.path("identity").path("groups")) if (!g.asText("").isBlank()) groups.add(g.asText().strip());
            operation = json.path("operation").asText("");
        } catch (IOException e) {
            return SessionsApi.problem(400, "Bad request", "send {\"connection\": NAME, \"identity\": {\"subject\": ..., \"groups\": [...]}, "
                    + "\"operation\": TEXT}");
        }
        if (config.connection(connection).isEmpty()) {
            return SessionsApi.problem(400, "Bad request", "no connection named '" + connection + "'; known: "
                    + String.join(", ", config.connections().stream().map(ConnectionConfig::name).toList()));
        }
        if (subject.isEmpty()) return SessionsApi.problem(400, "Bad request", "say who would ask: identity.subject");
        if (operation.isBlank()) return SessionsApi.problem(400, "Bad request", "type the operation, e.g. "
                + protocols.moduleOf(config.connection(connection).get()).testCaseExample());
        Identity identity = new Identity(subject, groups, "what-would-happen", "", "what-would-happen", Map.of(), Instant.MAX);
        PolicyTestRunner.Judgement j;
        try {
            j = PolicyTestRunner.judge(config, protocols, connection, identity, operation);
        } catch (ConfigException e) {
            return SessionsApi.problem(400, "Not an operation", String.join("; ", e.problems()).replace("operation:", ""));
        } catch (ProtocolModule.UnjudgeableException e) {
            return SessionsApi.problem(400, "Cannot be judged", e.getMessage() + " (the gateway refuses what it cannot judge)");
        }
        ObjectNode out = JSON.createObjectNode().put("action", j.action()).put("rule", j.rule()).put("reason", j.reason());
        j.operations().forEach(out.putArray("operations")::add);
        return new SessionsApi.Reply(200, "application/json", out.toString());
    }
}
