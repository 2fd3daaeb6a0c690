package dev.portcullis.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.config.ConfigReader;
import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.ConnectionSection;
import dev.portcullis.config.ProtocolModule;
import dev.portcullis.config.TlsConfig;
import dev.portcullis.config.Values;
import dev.portcullis.config.YamlTree;
import dev.portcullis.config.YamlTree.Obj;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Operation;
import dev.portcullis.http.HttpConnectionConfig.Credentials;
import dev.portcullis.masking.Redactor;
import dev.portcullis.policy.HttpCondition;
import dev.portcullis.policy.OperationCondition;
import dev.portcullis.policy.PathTemplate;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
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
 * The HTTP protocol module: connections of {@code type: http} (a REST API such as Okta's admin API),
 * rule conditions under {@code when.http}, policy test cases with {@code http: {method, path, query, body}}.
 */
public final class HttpProtocol implements ProtocolModule {
    static final List<String> HTTP_METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

    @Override
    public String type() {
        return "http";
    }

    @Override
    public String operationKey() {
        return "http";
    }

    @Override
    public String testCaseExample() {
        return "{method: GET, path: /...}";
    }

    @Override
    public List<String> connectionKeys() {
        return List.of("tls", "allow-plaintext", "upstream", "credentials", "max-request-bytes", "approval-pending-status",
                "filter-params", "sort-params", "redact");
    }

    @Override
    public Listener start(ConnectionConfig connection, ListenerContext context) throws Exception {
        HttpConnectionConfig http = (HttpConnectionConfig) connection;
        HttpListener listener = HttpListener.start(http, context.gate(), context.maxResponseBytes(), HttpDialect.REST, null, context.tunnels());
        return Listener.of(listener, listener.port(), (http.tls().isPresent() ? "https" : "http") + "://"
                + http.listen().getHostString() + ":" + listener.port() + " → " + http.upstreamUrl());
    }

    @Override
    public ConnectionConfig connection(ConnectionSection section) {
        ConfigReader r = section.reader();
        Obj o = section.keys();
        String name = section.name();
        InetSocketAddress listen = section.listen();
        Optional<TlsConfig> tls = r.tls(o);
        Boolean allowPlaintext = r.plaintextAllowed(o, listen, tls, "agents'");

        URI url = null;
        Duration connectTimeout = null;
        Duration responseTimeout = null;
        Optional<String> via = Optional.empty();
        if (!o.has("upstream")) o.missing("upstream", "a mapping with url");
        else {
            Obj u = r.tree().obj(o.get("upstream"), o.child("upstream"), List.of("url", "connect-timeout", "response-timeout", "via"));
            if (u != null) {
                url = r.required(u, "url", "an absolute http(s) URL", Values::httpUrl, ConfigReader.PLACEHOLDER_URL);
                connectTimeout = r.optional(u, "connect-timeout", "a duration like 5s", Values::positiveDuration,
                        HttpConnectionConfig.DEFAULT_CONNECT_TIMEOUT);
                responseTimeout = r.optional(u, "response-timeout", "a duration like 60s", Values::positiveDuration,
                        HttpConnectionConfig.DEFAULT_RESPONSE_TIMEOUT);
                if (u.has("via")) via = Optional.ofNullable(r.optional(u, "via", "agent NAME", Values::viaAgent, null));
            }
        }
        Credentials credentials = null;
        if (!o.has("credentials")) o.missing("credentials", "a mapping with header and value, or agent");
        else if (o.get("credentials") instanceof org.yaml.snakeyaml.nodes.ScalarNode) {
            // credentials: agent: the network agent adds them, and speaks TLS to the target itself
            if ("agent".equals(r.optional(o, "credentials", "agent, or a mapping with header and value", HttpProtocol::agentHeld, null))) {
                credentials = Credentials.HELD_BY_AGENT;
                if (via.isEmpty()) o.missing("upstream", "upstream.via: agent NAME: credentials: agent needs the agent that holds them");
            }
        } else {
            Obj c = r.tree().obj(o.get("credentials"), o.child("credentials"), List.of("header", "value"));
            if (c != null) {
                String header = r.required(c, "header", "an HTTP header name", ConfigReader::headerName, "Authorization");
                String value = r.secret(c, "value");
                if (header != null && value != null) credentials = new Credentials(header, value);
            }
        }
        Long maxRequestBytes = r.optional(o, "max-request-bytes", "a size in bytes", Values::size,
                HttpConnectionConfig.DEFAULT_MAX_REQUEST_BYTES);
        Integer approvalPendingStatus = r.optional(o, "approval-pending-status", "403 or 202",
                HttpProtocol::approvalPendingStatus, HttpConnectionConfig.DEFAULT_APPROVAL_PENDING_STATUS);
        List<String> filterParams = queryParamNames(r, o, "filter-params", "search", Map.of());
        List<String> sortParams = queryParamNames(r, o, "sort-params", "sortBy", Map.of("filter-params", filterParams));
        Redactor redactor = r.redactor(o);
        if (section.hasProblems()) return null;
        return new HttpConnectionConfig(name, listen, tls, allowPlaintext, url, connectTimeout, responseTimeout,
                credentials, maxRequestBytes, approvalPendingStatus, filterParams, sortParams, section.policy(), redactor, via);
    }

    /**
     * {@code filter-params: [search, filter, q]}, {@code sort-params: [sortBy]}: query parameter names, each
     * once ignoring case (the gateway matches them so), and in no list of {@code readElsewhere}, whose
     * parameters are read another way; an empty list is allowed.
     */
    private static List<String> queryParamNames(ConfigReader r, Obj o, String key, String example, Map<String, List<String>> readElsewhere) {
        if (!o.has(key)) return List.of();
        String path = o.child(key);
        List<Node> items = r.tree().list(o.get(key), path);
        if (items == null) return List.of();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String itemPath = path + "[" + i + "]";
            String name = r.tree().convert(items.get(i), itemPath,
                    "a query parameter name such as " + example + " (no spaces, '=', '&', '#' or '%')", HttpProtocol::queryParamName, null);
            if (name == null) continue;
            if (out.stream().anyMatch(name::equalsIgnoreCase)) {
                r.tree().problem(items.get(i), itemPath, "'" + name + "' is listed twice");
                continue;
            }
            for (Map.Entry<String, List<String>> other : readElsewhere.entrySet()) {
                if (other.getValue().stream().anyMatch(name::equalsIgnoreCase)) {
                    r.tree().problem(items.get(i), itemPath, "'" + name + "' is also in " + other.getKey() + "; a parameter is read one way only");
                }
            }
            out.add(name);
        }
        return List.copyOf(out);
    }

    @Override
    public OperationCondition condition(ConfigReader r, Node node, String path) {
        Obj o = r.tree().obj(node, path, List.of("methods", "paths", "query", "body"));
        if (o == null) return null;
        int before = r.tree().problemCount();
        Set<String> methods = Set.of();
        if (o.has("methods")) {
            List<Node> items = r.tree().list(o.get("methods"), o.child("methods"));
            Set<String> out = new LinkedHashSet<>();
            for (int i = 0; items != null && i < items.size(); i++) {
                String m = r.tree().convert(items.get(i), o.child("methods") + "[" + i + "]",
                        "one of " + String.join(", ", HTTP_METHODS), HttpProtocol::httpMethod, null);
                if (m != null) out.add(m);
            }
            if (items != null && items.isEmpty()) r.tree().problem(o.get("methods"), o.child("methods"), "expected a non-empty list");
            methods = out;
        }
        List<PathTemplate> paths = new ArrayList<>();
        if (o.has("paths")) {
            List<Node> items = r.tree().list(o.get("paths"), o.child("paths"));
            for (int i = 0; items != null && i < items.size(); i++) {
                PathTemplate t = r.tree().convert(items.get(i), o.child("paths") + "[" + i + "]",
                        "a path template like /api/v1/users/{id} or /api/v1/groups/**", PathTemplate::compile, null);
                if (t != null) paths.add(t);
            }
            if (items != null && items.isEmpty()) r.tree().problem(o.get("paths"), o.child("paths"), "expected a non-empty list");
        }
        Map<String, Set<String>> query = o.has("query") ? r.valueMap(o.get("query"), o.child("query")) : Map.of();
        List<HttpCondition.BodyField> body = new ArrayList<>();
        if (o.has("body")) {
            Map<String, Set<String>> fields = r.valueMap(o.get("body"), o.child("body"));
            if (fields != null) {
                for (Map.Entry<String, Set<String>> f : fields.entrySet()) {
                    try {
                        body.add(HttpCondition.BodyField.of(f.getKey(), f.getValue()));
                    } catch (IllegalArgumentException e) {
                        r.tree().problem(o.get("body"), o.child("body") + "." + f.getKey(), e.getMessage());
                    }
                }
            }
        }
        if (r.tree().problemCount() > before) return null;
        return new HttpCondition(methods, paths, query, body);
    }

    private static String queryParamName(String text) {
        if (text.isEmpty() || !text.chars().allMatch(c -> c > 0x20 && c < 0x7f && "=&#%+".indexOf(c) < 0)) {
            throw new IllegalArgumentException("");
        }
        return text;
    }

    private static String agentHeld(String text) {
        if (!text.equals("agent")) throw new IllegalArgumentException("");
        return text;
    }

    private static Integer approvalPendingStatus(String text) {
        return switch (text.strip()) {
            case "403" -> 403;
            case "202" -> 202;
            default -> throw new IllegalArgumentException("");
        };
    }

    private static String httpMethod(String text) {
        String m = text.toUpperCase(Locale.ROOT);
        if (!HTTP_METHODS.contains(m)) throw new IllegalArgumentException("");
        return m;
    }

    @Override
    public List<Operation> testOperations(ConfigReader r, Node node, String path) {
        YamlTree tree = r.tree();
        Obj o = tree.obj(node, path, List.of("method", "path", "query", "body"));
        if (o == null) return null;
        String method = null;
        if (!o.has("method")) o.missing("method", "an HTTP method");
        else method = tree.scalar(o.get("method"), o.child("method")).text();
        String requestPath = null;
        if (!o.has("path")) o.missing("path", "a request path like /api/v1/users");
        else requestPath = tree.scalar(o.get("path"), o.child("path")).text();
        String rawQuery = o.has("query") ? tree.scalar(o.get("query"), o.child("query")).text() : "";
        Optional<JsonNode> json = o.has("body") ? Optional.of(toJson(o.get("body"))) : Optional.empty();
        if (method == null || requestPath == null || rawQuery == null) return null;
        String contentType = json.isPresent() ? "application/json" : "";
        long bodyBytes = json.map(j -> (long) j.toString().getBytes(StandardCharsets.UTF_8).length).orElse(0L);
        return List.of(new HttpCall(method.toUpperCase(java.util.Locale.ROOT), HttpCall.decodePath(requestPath), rawQuery, HttpCall.parseQuery(rawQuery),
                contentType, json, bodyBytes));
    }

    /** A YAML body, as the JSON the agent would have sent; scalars keep their YAML type. */
    private static JsonNode toJson(Node node) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (node) {
            case MappingNode m -> {
                ObjectNode obj = f.objectNode();
                for (NodeTuple t : m.getValue()) {
                    obj.set(((ScalarNode) t.getKeyNode()).getValue(), toJson(t.getValueNode()));
                }
                yield obj;
            }
            case SequenceNode s -> {
                ArrayNode arr = f.arrayNode();
                s.getValue().forEach(n -> arr.add(toJson(n)));
                yield arr;
            }
            case ScalarNode s when s.getTag().equals(Tag.NULL) -> f.nullNode();
            case ScalarNode s when s.getTag().equals(Tag.BOOL) -> f.booleanNode(Boolean.parseBoolean(s.getValue()));
            case ScalarNode s when s.getTag().equals(Tag.INT) && s.getValue().matches("-?[0-9]+") -> f.numberNode(new java.math.BigInteger(s.getValue()));
            case ScalarNode s when s.getTag().equals(Tag.FLOAT) && s.getValue().matches("-?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?") -> f.numberNode(new java.math.BigDecimal(s.getValue()));
            case ScalarNode s -> f.textNode(s.getValue());
            default -> f.nullNode();
        };
    }
}
