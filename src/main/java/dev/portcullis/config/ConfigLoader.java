package dev.portcullis.config;

import dev.portcullis.config.HttpConnectionConfig.Credentials;
import dev.portcullis.config.YamlTree.Obj;
import dev.portcullis.config.YamlTree.UnsetVariables;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.identity.IdentityConfig;
import dev.portcullis.identity.IdentityConfig.IntrospectionConfig;
import dev.portcullis.masking.Detector;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.PredicateMode;
import dev.portcullis.masking.Redactor;
import dev.portcullis.policy.Action;
import dev.portcullis.policy.Conditions;
import dev.portcullis.policy.HttpCondition;
import dev.portcullis.policy.OperationCondition;
import dev.portcullis.policy.PathTemplate;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.Rule;
import dev.portcullis.policy.SqlCondition;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Loads and validates a gateway configuration file (see {@code examples/okta.yaml}) once, at start-up.
 * Every problem is reported with file, line, column, field path and what was expected; all of them
 * together, one per line.
 */
public final class ConfigLoader {

    static final List<String> ALGORITHMS = List.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512");
    static final List<String> HTTP_METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    static final List<String> CONNECTION_TYPES = List.of("http", "postgres");

    private static final URI PLACEHOLDER_URL = URI.create("http://unset.invalid/");
    private static final InetSocketAddress PLACEHOLDER_LISTEN = InetSocketAddress.createUnresolved("unset.invalid", 1);

    private final YamlTree tree;
    private final Path source;
    /** Listen addresses seen so far, with where they were configured. */
    private final List<Object[]> listens = new ArrayList<>();

    private ConfigLoader(YamlTree tree, Path source) {
        this.tree = tree;
        this.source = source;
    }

    /**
     * Loads {@code file}, substituting {@code ${VAR}} from {@code env}; an unset variable without a
     * default is an error naming it.
     */
    public static GatewayConfig load(Path file, Map<String, String> env) throws ConfigException {
        return load(file, env, UnsetVariables.ERROR);
    }

    /**
     * Loads {@code file} for policy tests, which run without the secrets the file references: an
     * unset variable becomes empty text, and a value wrong only because of that is replaced by a
     * placeholder. Never use the result to serve traffic.
     */
    public static GatewayConfig loadForPolicyTest(Path file, Map<String, String> env) throws ConfigException {
        return load(file, env, UnsetVariables.EMPTY);
    }

    private static GatewayConfig load(Path file, Map<String, String> env, UnsetVariables unset) throws ConfigException {
        String label = file.toString();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            YamlTree.fail(label, "cannot read the file: " + e);
            return null;
        }
        YamlTree tree = new YamlTree(label, env, unset);
        Node root = tree.parse(text);
        tree.throwIfProblems();
        GatewayConfig config = new ConfigLoader(tree, file).gateway(root);
        tree.throwIfProblems();
        return config;
    }

    /**
     * Loads a policy on its own: a YAML document with {@code rules:}, exactly like a connection's
     * {@code policy:} block. For policy unit tests and tools; no variables are substituted.
     */
    public static Policy loadPolicy(String label, String yaml) throws ConfigException {
        YamlTree tree = new YamlTree(label, Map.of(), UnsetVariables.ERROR);
        Node root = tree.parse(yaml);
        tree.throwIfProblems();
        Policy policy = new ConfigLoader(tree, Path.of(label)).policy(root, "");
        tree.throwIfProblems();
        return policy;
    }

    private GatewayConfig gateway(Node root) {
        Obj o = tree.obj(root, "", List.of("identity", "store", "recording", "admin", "approvals", "connections"));
        if (o == null) return null;
        IdentityConfig identity = o.has("identity") ? identity(o.get("identity"), "identity") : null;
        if (!o.has("identity")) o.missing("identity", "a mapping with issuer and audience");
        StoreConfig store = o.has("store") ? store(o.get("store"), "store")
                : new StoreConfig.Embedded(Path.of("./data/portcullis.db"));
        RecordingConfig recording = new RecordingConfig(RecordingConfig.DEFAULT_MAX_RESPONSE_BYTES);
        if (o.has("recording")) recording = recording(o.get("recording"), "recording");
        AdminConfig admin = AdminConfig.DEFAULT;
        if (o.has("admin")) admin = admin(o.get("admin"), "admin");
        else claimListen(admin.listen(), o.node, "admin.listen");
        ApprovalsConfig approvals = o.has("approvals") ? approvals(o.get("approvals"), "approvals") : ApprovalsConfig.NONE;
        List<ConnectionConfig> connections = o.has("connections") ? connections(o.get("connections"), "connections") : null;
        if (!o.has("connections")) o.missing("connections", "a list with at least one connection");
        if (tree.problemCount() > 0) return null;
        return new GatewayConfig(identity, store, recording, admin, approvals, connections, source);
    }

    // ---- identity

    private IdentityConfig identity(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("issuer", "audience", "groups-claim", "algorithms", "clock-skew",
                "max-token-bytes", "introspection", "jwks-min-refresh"));
        if (o == null) return null;
        int before = tree.problemCount();
        URI issuer = required(o, "issuer", "an absolute http(s) URL", Values::httpUrl, PLACEHOLDER_URL);
        String audience = required(o, "audience", "the audience (aud) tokens must carry", Values::nonBlank, "");
        String groupsClaim = optional(o, "groups-claim", "a claim name", Values::nonBlank, "groups");
        Set<String> algorithms = Set.of("RS256", "ES256");
        if (o.has("algorithms")) algorithms = algorithms(o.get("algorithms"), o.child("algorithms"));
        Duration clockSkew = optional(o, "clock-skew", "a duration like 30s", Values::duration, Duration.ofSeconds(30));
        Integer maxTokenBytes = optional(o, "max-token-bytes", "a size in bytes", Values::intSize, 8192);
        Duration jwksMinRefresh = optional(o, "jwks-min-refresh", "a duration like 30s", Values::positiveDuration,
                Duration.ofSeconds(30));
        Optional<IntrospectionConfig> introspection = Optional.empty();
        if (o.has("introspection")) {
            IntrospectionConfig ic = introspection(o.get("introspection"), o.child("introspection"));
            introspection = Optional.ofNullable(ic);
        }
        if (tree.problemCount() > before) return null;
        return new IdentityConfig(issuer, audience, groupsClaim, algorithms, clockSkew, maxTokenBytes,
                introspection, jwksMinRefresh);
    }

    private Set<String> algorithms(Node node, String path) {
        List<Node> items = tree.list(node, path);
        if (items == null) return null;
        if (items.isEmpty()) {
            tree.problem(node, path, "expected a non-empty list of " + String.join(", ", ALGORITHMS));
            return null;
        }
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < items.size(); i++) {
            String p = path + "[" + i + "]";
            String alg = tree.scalar(items.get(i), p).text();
            if (alg == null) continue;
            if (ALGORITHMS.contains(alg)) {
                out.add(alg);
            } else if (alg.equalsIgnoreCase("none") || alg.toUpperCase(Locale.ROOT).startsWith("HS")) {
                tree.problem(items.get(i), p, "'" + alg + "' is never accepted: only asymmetric algorithms ("
                        + String.join(", ", ALGORITHMS) + ")");
            } else {
                tree.problem(items.get(i), p, "expected one of " + String.join(", ", ALGORITHMS) + ", got '" + alg + "'");
            }
        }
        return out;
    }

    private IntrospectionConfig introspection(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("endpoint", "client-id", "client-secret", "cache-ttl"));
        if (o == null) return null;
        int before = tree.problemCount();
        Optional<URI> endpoint = Optional.empty();
        if (o.has("endpoint")) {
            endpoint = Optional.ofNullable(tree.convert(o.get("endpoint"), o.child("endpoint"),
                    "an absolute http(s) URL", Values::httpUrl, PLACEHOLDER_URL));
        }
        String clientId = required(o, "client-id", "the client id", Values::nonBlank, "");
        String clientSecret = secret(o, "client-secret");
        Duration cacheTtl = optional(o, "cache-ttl", "a duration like 30s", Values::duration, Duration.ofSeconds(30));
        if (tree.problemCount() > before) return null;
        return new IntrospectionConfig(endpoint, clientId, clientSecret, cacheTtl);
    }

    // ---- store, recording, admin

    private StoreConfig store(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("type", "path"));
        if (o == null) return null;
        String type = optional(o, "type", "a store type", Values::nonBlank, "embedded");
        if (type == null) return null;
        if (!type.equals("embedded")) {
            tree.problem(o.get("type"), o.child("type"), "store type '" + type + "' is not supported; known: embedded");
            return null;
        }
        String file = required(o, "path", "a file path", Values::nonBlank, "./data/portcullis.db");
        return file == null ? null : new StoreConfig.Embedded(Path.of(file));
    }

    private ApprovalsConfig approvals(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("public-url", "notify"));
        if (o == null) return null;
        URI publicUrl = optional(o, "public-url", "an absolute http(s) URL", Values::httpUrl, null);
        List<ApprovalsConfig.Channel> channels = new ArrayList<>();
        if (o.has("notify")) {
            List<Node> items = tree.list(o.get("notify"), o.child("notify"));
            for (int i = 0; items != null && i < items.size(); i++) {
                String at = o.child("notify") + "[" + i + "]";
                Obj c = tree.obj(items.get(i), at, List.of("type", "url", "secret"));
                if (c == null) continue;
                String type = required(c, "type", "slack or webhook", ConfigLoader::channelType, "webhook");
                URI url = required(c, "url", "an absolute http(s) URL", Values::httpUrl, PLACEHOLDER_URL);
                if ("slack".equals(type) && url != null) {
                    channels.add(new ApprovalsConfig.Slack(url));
                } else if ("webhook".equals(type) && url != null) {
                    String secret = secret(c, "secret");
                    if (secret != null && secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 16) {
                        tree.problem(c.get("secret"), c.child("secret"), "expected a secret of at least 16 bytes");
                    } else if (secret != null) {
                        channels.add(new ApprovalsConfig.Webhook(url, secret));
                    }
                }
            }
        }
        return new ApprovalsConfig(Optional.ofNullable(publicUrl), channels);
    }

    private static String channelType(String text) {
        if (!text.equals("slack") && !text.equals("webhook")) throw new IllegalArgumentException("");
        return text;
    }

    private RecordingConfig recording(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("max-response-bytes", "fsync"));
        if (o == null) return null;
        Integer max = optional(o, "max-response-bytes", "a size in bytes", Values::intSize,
                RecordingConfig.DEFAULT_MAX_RESPONSE_BYTES);
        Boolean always = optional(o, "fsync", "always or writes", ConfigLoader::fsyncAlways, false);
        return max == null || always == null ? null : new RecordingConfig(max, always);
    }

    private AdminConfig admin(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("listen", "tls", "allow-plaintext"));
        if (o == null) return null;
        int before = tree.problemCount();
        InetSocketAddress listen = optional(o, "listen", "host:port", Values::listen, AdminConfig.DEFAULT.listen());
        if (listen != null) claimListen(listen, o.has("listen") ? o.get("listen") : node, o.child("listen"));
        Optional<TlsConfig> tls = tls(o);
        Boolean allowPlaintext = plaintextAllowed(o, listen, tls, "approvers'");
        if (tree.problemCount() > before) return null;
        return new AdminConfig(listen, tls, allowPlaintext);
    }

    private void claimListen(InetSocketAddress address, Node at, String path) {
        if (address == PLACEHOLDER_LISTEN) return;
        for (Object[] seen : listens) {
            InetSocketAddress other = (InetSocketAddress) seen[0];
            boolean sameHost = other.getHostString().equals(address.getHostString())
                    || isWildcard(other.getHostString()) || isWildcard(address.getHostString());
            if (other.getPort() == address.getPort() && sameHost) {
                tree.problem(at, path, "listen address " + address.getHostString() + ":" + address.getPort()
                        + " is already used by " + seen[1]);
                return;
            }
        }
        listens.add(new Object[] {address, path});
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("*");
    }

    /** {@code localhost} or a loopback IP literal; any other name counts as reachable (loading does no DNS). */
    static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        try {
            return InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    // ---- connections

    private List<ConnectionConfig> connections(Node node, String path) {
        List<Node> items = tree.list(node, path);
        if (items == null) return null;
        if (items.isEmpty()) tree.problem(node, path, "expected at least one connection");
        List<ConnectionConfig> out = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            String p = path + "[" + i + "]";
            ConnectionConfig c = connection(items.get(i), p, names);
            if (c != null) out.add(c);
        }
        return out;
    }

    private static final List<String> HTTP_CONNECTION_KEYS = List.of("name", "type", "listen", "tls", "allow-plaintext",
            "upstream", "credentials", "max-request-bytes", "approval-pending-status", "filter-params", "sort-params", "redact", "policy");

    private ConnectionConfig connection(Node node, String path, Map<String, String> names) {
        Map<String, Node> raw = tree.entries(node, path);
        if (raw == null) return null;
        Node typeNode = raw.get("type");
        if (typeNode == null || YamlTree.isNull(typeNode)) {
            tree.problem(node, path + ".type", "missing; expected one of " + String.join(", ", CONNECTION_TYPES));
            return null;
        }
        String type = tree.scalar(typeNode, path + ".type").text();
        if (type == null) return null;
        return switch (type) {
            case "http" -> httpConnection(tree.obj(node, path, HTTP_CONNECTION_KEYS), names);
            case "postgres" -> postgresConnection(tree.obj(node, path, POSTGRES_CONNECTION_KEYS), names);
            default -> {
                tree.problem(typeNode, path + ".type", "connection type '" + type + "' has no adapter; known: "
                        + String.join(", ", CONNECTION_TYPES));
                yield null;
            }
        };
    }

    private HttpConnectionConfig httpConnection(Obj o, Map<String, String> names) {
        int before = tree.problemCount();
        String name = connectionName(o, names);
        InetSocketAddress listen = connectionListen(o);
        Optional<TlsConfig> tls = tls(o);
        Boolean allowPlaintext = plaintextAllowed(o, listen, tls, "agents'");

        URI url = null;
        Duration connectTimeout = null;
        Duration responseTimeout = null;
        if (!o.has("upstream")) o.missing("upstream", "a mapping with url");
        else {
            Obj u = tree.obj(o.get("upstream"), o.child("upstream"), List.of("url", "connect-timeout", "response-timeout"));
            if (u != null) {
                url = required(u, "url", "an absolute http(s) URL", Values::httpUrl, PLACEHOLDER_URL);
                connectTimeout = optional(u, "connect-timeout", "a duration like 5s", Values::positiveDuration,
                        HttpConnectionConfig.DEFAULT_CONNECT_TIMEOUT);
                responseTimeout = optional(u, "response-timeout", "a duration like 60s", Values::positiveDuration,
                        HttpConnectionConfig.DEFAULT_RESPONSE_TIMEOUT);
            }
        }
        Credentials credentials = null;
        if (!o.has("credentials")) o.missing("credentials", "a mapping with header and value");
        else {
            Obj c = tree.obj(o.get("credentials"), o.child("credentials"), List.of("header", "value"));
            if (c != null) {
                String header = required(c, "header", "an HTTP header name", ConfigLoader::headerName, "Authorization");
                String value = secret(c, "value");
                if (header != null && value != null) credentials = new Credentials(header, value);
            }
        }
        Long maxRequestBytes = optional(o, "max-request-bytes", "a size in bytes", Values::size,
                HttpConnectionConfig.DEFAULT_MAX_REQUEST_BYTES);
        Integer approvalPendingStatus = optional(o, "approval-pending-status", "403 or 202",
                ConfigLoader::approvalPendingStatus, HttpConnectionConfig.DEFAULT_APPROVAL_PENDING_STATUS);
        List<String> filterParams = queryParamNames(o, "filter-params", "search", Map.of());
        List<String> sortParams = queryParamNames(o, "sort-params", "sortBy", Map.of("filter-params", filterParams));
        Redactor redactor = redactor(o);
        Policy policy = null;
        if (!o.has("policy")) o.missing("policy", "a mapping with rules");
        else policy = policy(o.get("policy"), o.child("policy"));
        if (tree.problemCount() > before) return null;
        return new HttpConnectionConfig(name, listen, tls, allowPlaintext, url, connectTimeout, responseTimeout,
                credentials, maxRequestBytes, approvalPendingStatus, filterParams, sortParams, policy, redactor);
    }

    /**
     * {@code filter-params: [search, filter, q]}, {@code sort-params: [sortBy]}: query parameter names, each
     * once ignoring case (the gateway matches them so), and in no list of {@code readElsewhere}, whose
     * parameters are read another way; an empty list is allowed.
     */
    private List<String> queryParamNames(Obj o, String key, String example, Map<String, List<String>> readElsewhere) {
        if (!o.has(key)) return List.of();
        String path = o.child(key);
        List<Node> items = tree.list(o.get(key), path);
        if (items == null) return List.of();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String itemPath = path + "[" + i + "]";
            String name = tree.convert(items.get(i), itemPath,
                    "a query parameter name such as " + example + " (no spaces, '=', '&', '#' or '%')", ConfigLoader::queryParamName, null);
            if (name == null) continue;
            if (out.stream().anyMatch(name::equalsIgnoreCase)) {
                tree.problem(items.get(i), itemPath, "'" + name + "' is listed twice");
                continue;
            }
            for (Map.Entry<String, List<String>> other : readElsewhere.entrySet()) {
                if (other.getValue().stream().anyMatch(name::equalsIgnoreCase)) {
                    tree.problem(items.get(i), itemPath, "'" + name + "' is also in " + other.getKey() + "; a parameter is read one way only");
                }
            }
            out.add(name);
        }
        return List.copyOf(out);
    }

    private static String queryParamName(String text) {
        if (text.isEmpty() || !text.chars().allMatch(c -> c > 0x20 && c < 0x7f && "=&#%+".indexOf(c) < 0)) {
            throw new IllegalArgumentException("");
        }
        return text;
    }

    private static Integer approvalPendingStatus(String text) {
        return switch (text.strip()) {
            case "403" -> 403;
            case "202" -> 202;
            default -> throw new IllegalArgumentException("");
        };
    }

    private static final List<String> POSTGRES_CONNECTION_KEYS = List.of("name", "type", "listen", "upstream", "tls",
            "allow-plaintext", "max-message-bytes", "recorded-rows", "redact", "policy");

    private PostgresConnectionConfig postgresConnection(Obj o, Map<String, String> names) {
        int before = tree.problemCount();
        String name = connectionName(o, names);
        InetSocketAddress listen = connectionListen(o);
        PostgresConnectionConfig.Upstream upstream = null;
        if (!o.has("upstream")) o.missing("upstream", "a mapping with host, port, database, user and password");
        else {
            Obj u = tree.obj(o.get("upstream"), o.child("upstream"), List.of("host", "port", "database", "user", "password"));
            if (u != null) {
                String host = required(u, "host", "a host name or address", Values::nonBlank, "127.0.0.1");
                Integer port = optional(u, "port", "a port number 1-65535", ConfigLoader::port, 5432);
                String database = required(u, "database", "a database name", Values::nonBlank, "postgres");
                String user = required(u, "user", "a database role", Values::nonBlank, "postgres");
                String password = secret(u, "password");
                if (host != null && port != null && database != null && user != null && password != null) {
                    upstream = new PostgresConnectionConfig.Upstream(host, port, database, user, password);
                }
            }
        }
        Optional<TlsConfig> tls = tls(o);
        Boolean allowPlaintext = optional(o, "allow-plaintext", "true or false", Values::bool, false);
        if (tls.isEmpty() && Boolean.FALSE.equals(allowPlaintext)) {
            o.missing("tls", "a tls key store, or allow-plaintext: true (only where the network is trusted)");
        }
        Integer maxMessageBytes = optional(o, "max-message-bytes", "a size in bytes", Values::intSize, 64 * 1024 * 1024);
        Integer recordedRows = optional(o, "recorded-rows", "a number of rows", Values::intSize, 5);
        Redactor redactor = redactor(o);
        Policy policy = null;
        if (!o.has("policy")) o.missing("policy", "a mapping with rules");
        else policy = policy(o.get("policy"), o.child("policy"));
        if (tree.problemCount() > before) return null;
        return new PostgresConnectionConfig(name, listen, upstream, tls, allowPlaintext, maxMessageBytes, recordedRows, policy,
                redactor);
    }

    /**
     * {@code redact: [field, ...]}: JSON fields, beyond the built-in ones, whose values a request is
     * recorded and shown to approvers without. Absent: the built-in ones alone.
     */
    private Redactor redactor(Obj o) {
        if (!o.has("redact")) return Redactor.DEFAULTS;
        List<Node> items = tree.list(o.get("redact"), o.child("redact"));
        if (items == null) return null;
        List<String> fields = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String field = tree.convert(items.get(i), o.child("redact") + "[" + i + "]",
                    "a field such as 'profile.ssn' or 'pin'", ConfigLoader::redactField, null);
            if (field != null) fields.add(field);
        }
        return fields.size() == items.size() ? Redactor.withFields(fields) : null;
    }

    private static String redactField(String text) {
        Redactor.withFields(List.of(text)); // names a field, or says why not
        return text.strip();
    }

    private static Boolean fsyncAlways(String text) {
        return switch (text.strip()) {
            case "always" -> true;
            case "writes" -> false;
            default -> throw new IllegalArgumentException("");
        };
    }

    private static Integer port(String text) {
        int port;
        try {
            port = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(""); // "expected a port number" says it all; Java's wording adds nothing
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException("");
        return port;
    }

    /**
     * {@code allow-plaintext} of an HTTP listener that people send their tokens to (an HTTP connection's,
     * the admin's): plaintext only where the tokens cannot leave the machine, unless allowed outright;
     * never together with {@code tls}. Problems are reported at the offending line.
     *
     * @param whoseTokens who would send tokens in plaintext, for the message: {@code agents'}, {@code approvers'}
     */
    private Boolean plaintextAllowed(Obj o, InetSocketAddress listen, Optional<TlsConfig> tls, String whoseTokens) {
        Boolean allowPlaintext = optional(o, "allow-plaintext", "true or false", Values::bool, false);
        if (tls.isPresent() && Boolean.TRUE.equals(allowPlaintext)) {
            tree.problem(o.get("allow-plaintext"), o.child("allow-plaintext"), "a listener with tls accepts TLS only;"
                    + " remove allow-plaintext, or remove tls to listen in plaintext");
        } else if (!o.has("tls") && Boolean.FALSE.equals(allowPlaintext) && listen != null && listen != PLACEHOLDER_LISTEN
                && !isLoopback(listen.getHostString())) {
            tree.problem(o.get("listen"), o.child("listen"), listen.getHostString() + " is not a loopback address and"
                    + " there is no tls, so " + whoseTokens + " tokens would cross the network in plaintext; add tls"
                    + " (keystore, password), or allow-plaintext: true where TLS is terminated in front of the gateway");
        }
        return allowPlaintext;
    }

    /** A listener's {@code tls:} block, if it has one and it is valid. */
    private Optional<TlsConfig> tls(Obj o) {
        if (!o.has("tls")) return Optional.empty();
        Obj t = tree.obj(o.get("tls"), o.child("tls"), List.of("keystore", "password"));
        if (t == null) return Optional.empty();
        String keystore = required(t, "keystore", "the path of a PKCS#12 key store", Values::nonBlank, "x.p12");
        String password = secret(t, "password");
        if (keystore == null || password == null) return Optional.empty();
        // Relative to the configuration file; read (and any problem reported) when the listener starts.
        return Optional.of(new TlsConfig(source.resolveSibling(keystore), password));
    }

    /** A connection's name, checked for uniqueness across connections. */
    private String connectionName(Obj o, Map<String, String> names) {
        String name = required(o, "name", "a name of letters, digits, '-' or '_'", ConfigLoader::connectionName, "");
        if (name != null) {
            String previous = names.putIfAbsent(name, o.path);
            if (previous != null) {
                tree.problem(o.get("name"), o.child("name"), "connection name '" + name + "' is already used by " + previous);
            }
        }
        return name;
    }

    /** A connection's listen address, checked against every other listener. */
    private InetSocketAddress connectionListen(Obj o) {
        InetSocketAddress listen = required(o, "listen", "host:port", Values::listen, PLACEHOLDER_LISTEN);
        if (listen != null) claimListen(listen, o.get("listen"), o.child("listen"));
        return listen;
    }

    private static String connectionName(String text) {
        if (!text.matches("[A-Za-z0-9][A-Za-z0-9_-]{0,62}")) throw new IllegalArgumentException("");
        return text;
    }

    private static String headerName(String text) {
        if (!text.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) throw new IllegalArgumentException("");
        return text;
    }

    // ---- policy

    private static final List<String> RULE_KEYS = List.of("id", "description", "when", "action", "mask", "message",
            "approvers", "approvals-required", "hold-timeout", "grant", "dry-run");

    private Policy policy(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("rules"));
        if (o == null) return null;
        if (!o.has("rules")) {
            o.missing("rules", "a list of rules (an empty list denies everything)");
            return null;
        }
        List<Node> items = tree.list(o.get("rules"), o.child("rules"));
        if (items == null) return null;
        int before = tree.problemCount();
        List<Rule> rules = new ArrayList<>();
        Map<String, String> ids = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            Rule r = rule(items.get(i), o.child("rules") + "[" + i + "]", ids);
            if (r != null) rules.add(r);
        }
        return tree.problemCount() > before ? null : new Policy(rules);
    }

    private Rule rule(Node node, String path, Map<String, String> ids) {
        Obj o = tree.obj(node, path, RULE_KEYS);
        if (o == null) return null;
        int before = tree.problemCount();
        String id = required(o, "id", "a rule id of letters, digits, '-' or '_'", ConfigLoader::ruleId, null);
        if (id != null) {
            String previous = ids.putIfAbsent(id, o.path);
            if (previous != null) tree.problem(o.get("id"), o.child("id"), "rule id '" + id + "' is already used by " + previous);
        }
        String description = optional(o, "description", "text", t -> t, "");
        Action action = required(o, "action", "one of allow, deny, require-approval", quiet(Action::fromConfigName), null);
        Conditions when = o.has("when") ? conditions(o.get("when"), o.child("when")) : Conditions.ALWAYS;
        String message = optional(o, "message", "text", t -> t, "");
        Boolean dryRun = optional(o, "dry-run", "true or false", Values::bool, false);

        Optional<MaskPlan> mask = Optional.empty();
        if (o.has("mask")) {
            if (action != null && action != Action.ALLOW) {
                tree.problem(o.get("mask"), o.child("mask"), "mask only applies to action allow, not " + action.configName());
            } else {
                mask = Optional.ofNullable(maskPlan(o.get("mask"), o.child("mask")));
            }
        }
        List<String> approvers = List.of();
        int approvalsRequired = Rule.DEFAULT_APPROVALS_REQUIRED;
        Duration holdTimeout = Rule.DEFAULT_HOLD_TIMEOUT;
        Optional<Duration> grant = Optional.empty();
        if (action == Action.REQUIRE_APPROVAL) {
            if (!o.has("approvers")) o.missing("approvers", "a non-empty list of groups whose members may approve");
            else approvers = tree.texts(o.get("approvers"), o.child("approvers"));
            Integer n = optional(o, "approvals-required", "a whole number of at least 1", ConfigLoader::atLeastOne,
                    Rule.DEFAULT_APPROVALS_REQUIRED);
            if (n != null) approvalsRequired = n;
            Duration d = optional(o, "hold-timeout", "a duration like 15m", Values::positiveDuration, Rule.DEFAULT_HOLD_TIMEOUT);
            if (d != null) holdTimeout = d;
            if (o.has("grant")) {
                Duration g = optional(o, "grant", "a duration like 30m, at most " + Rule.MAX_GRANT.toHours() + "h",
                        ConfigLoader::grantDuration, null);
                if (g != null) grant = Optional.of(g);
            }
        } else if (action != null) {
            for (String key : List.of("approvers", "approvals-required", "hold-timeout", "grant")) {
                if (o.has(key)) {
                    tree.problem(o.get(key), o.child(key), "only applies to action require-approval, not " + action.configName());
                }
            }
        }
        if (tree.problemCount() > before) return null;
        return new Rule(id, description, when, action, mask, message, approvers, approvalsRequired, holdTimeout, dryRun,
                grant);
    }

    private static Duration grantDuration(String text) {
        Duration d = Values.positiveDuration(text);
        if (d.compareTo(Rule.MAX_GRANT) > 0) throw new IllegalArgumentException("longer than " + Rule.MAX_GRANT.toHours() + "h");
        return d;
    }

    private static String ruleId(String text) {
        if (!text.matches("[A-Za-z0-9][A-Za-z0-9_.-]*") || text.equals(dev.portcullis.policy.Verdict.DEFAULT_DENY)) {
            throw new IllegalArgumentException(text.equals("default-deny") ? "reserved" : "");
        }
        return text;
    }

    private static int atLeastOne(String text) {
        int n = Values.intSize(text);
        if (n < 1) throw new IllegalArgumentException("");
        return n;
    }

    private MaskPlan maskPlan(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("fields", "detectors", "predicates"));
        if (o == null) return null;
        int before = tree.problemCount();
        List<String> fields = o.has("fields") ? tree.texts(o.get("fields"), o.child("fields")) : List.of();
        List<Detector> detectors = new ArrayList<>();
        if (o.has("detectors")) {
            List<Node> items = tree.list(o.get("detectors"), o.child("detectors"));
            String known = String.join(", ", Arrays.stream(Detector.values()).map(Detector::configName).toList());
            for (int i = 0; items != null && i < items.size(); i++) {
                Detector d = tree.convert(items.get(i), o.child("detectors") + "[" + i + "]",
                        "one of " + known, quiet(Detector::fromConfigName), null);
                if (d != null) detectors.add(d);
            }
        }
        PredicateMode predicates = PredicateMode.DEFAULT;
        if (o.has("predicates")) {
            PredicateMode m = tree.convert(o.get("predicates"), o.child("predicates"), "one of refuse, equality, allow",
                    quiet(PredicateMode::fromConfigName), null);
            if (m != null) predicates = m;
        }
        if (!o.has("fields") && !o.has("detectors")) o.missing("fields", "fields and/or detectors");
        if (tree.problemCount() > before) return null;
        return new MaskPlan(fields, Set.copyOf(detectors), predicates);
    }

    private Conditions conditions(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("groups", "subjects", "claims", "http", "sql"));
        if (o == null) return null;
        int before = tree.problemCount();
        Set<String> groups = o.has("groups") ? textSet(o, "groups") : Set.of();
        Set<String> subjects = o.has("subjects") ? textSet(o, "subjects") : Set.of();
        Map<String, Set<String>> claims = o.has("claims") ? valueMap(o.get("claims"), o.child("claims")) : Map.of();
        Optional<OperationCondition> operation = Optional.empty();
        if (o.has("http") && o.has("sql")) {
            tree.problem(o.get("sql"), o.child("sql"), "a rule applies to one protocol: write http or sql, not both");
        } else if (o.has("http")) {
            operation = Optional.ofNullable(http(o.get("http"), o.child("http")));
        } else if (o.has("sql")) {
            operation = Optional.ofNullable(sql(o.get("sql"), o.child("sql")));
        }
        if (tree.problemCount() > before) return null;
        return new Conditions(groups, subjects, claims, operation);
    }

    private HttpCondition http(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("methods", "paths", "query", "body"));
        if (o == null) return null;
        int before = tree.problemCount();
        Set<String> methods = Set.of();
        if (o.has("methods")) {
            List<Node> items = tree.list(o.get("methods"), o.child("methods"));
            Set<String> out = new LinkedHashSet<>();
            for (int i = 0; items != null && i < items.size(); i++) {
                String m = tree.convert(items.get(i), o.child("methods") + "[" + i + "]",
                        "one of " + String.join(", ", HTTP_METHODS), ConfigLoader::httpMethod, null);
                if (m != null) out.add(m);
            }
            if (items != null && items.isEmpty()) tree.problem(o.get("methods"), o.child("methods"), "expected a non-empty list");
            methods = out;
        }
        List<PathTemplate> paths = new ArrayList<>();
        if (o.has("paths")) {
            List<Node> items = tree.list(o.get("paths"), o.child("paths"));
            for (int i = 0; items != null && i < items.size(); i++) {
                PathTemplate t = tree.convert(items.get(i), o.child("paths") + "[" + i + "]",
                        "a path template like /api/v1/users/{id} or /api/v1/groups/**", PathTemplate::compile, null);
                if (t != null) paths.add(t);
            }
            if (items != null && items.isEmpty()) tree.problem(o.get("paths"), o.child("paths"), "expected a non-empty list");
        }
        Map<String, Set<String>> query = o.has("query") ? valueMap(o.get("query"), o.child("query")) : Map.of();
        List<HttpCondition.BodyField> body = new ArrayList<>();
        if (o.has("body")) {
            Map<String, Set<String>> fields = valueMap(o.get("body"), o.child("body"));
            if (fields != null) {
                for (Map.Entry<String, Set<String>> f : fields.entrySet()) {
                    try {
                        body.add(HttpCondition.BodyField.of(f.getKey(), f.getValue()));
                    } catch (IllegalArgumentException e) {
                        tree.problem(o.get("body"), o.child("body") + "." + f.getKey(), e.getMessage());
                    }
                }
            }
        }
        if (tree.problemCount() > before) return null;
        return new HttpCondition(methods, paths, query, body);
    }

    static final List<String> SQL_KINDS = Arrays.stream(SqlStatement.Kind.values()).map(SqlStatement.Kind::configName).toList();
    private static final Map<String, SqlStatement.Effect> SQL_EFFECTS = Map.of(
            "writes", SqlStatement.Effect.WRITES,
            "changes-schema", SqlStatement.Effect.CHANGES_SCHEMA,
            "changes-privileges", SqlStatement.Effect.CHANGES_PRIVILEGES,
            "runs-code", SqlStatement.Effect.RUNS_CODE,
            "copy-file-or-program", SqlStatement.Effect.COPY_FILE_OR_PROGRAM,
            "calls-unknown-functions", SqlStatement.Effect.CALLS_UNKNOWN_FUNCTIONS,
            "locks", SqlStatement.Effect.LOCKS);
    private static final List<String> SQL_KEYS = List.of("kinds", "tables", "functions", "has-where", "read-only",
            "writes", "changes-schema", "changes-privileges", "runs-code", "copy-file-or-program",
            "calls-unknown-functions", "locks");

    private SqlCondition sql(Node node, String path) {
        Obj o = tree.obj(node, path, SQL_KEYS);
        if (o == null) return null;
        int before = tree.problemCount();
        Set<SqlStatement.Kind> kinds = new LinkedHashSet<>();
        if (o.has("kinds")) {
            List<Node> items = tree.list(o.get("kinds"), o.child("kinds"));
            for (int i = 0; items != null && i < items.size(); i++) {
                SqlStatement.Kind k = tree.convert(items.get(i), o.child("kinds") + "[" + i + "]",
                        "one of " + String.join(", ", SQL_KINDS), quiet(SqlStatement.Kind::fromConfigName), null);
                if (k != null) kinds.add(k);
            }
            if (items != null && items.isEmpty()) tree.problem(o.get("kinds"), o.child("kinds"), "expected a non-empty list");
        }
        List<SqlCondition.NamePattern> tables = namePatterns(o, "tables");
        List<SqlCondition.NamePattern> functions = namePatterns(o, "functions");
        Optional<Boolean> hasWhere = Optional.ofNullable(optional(o, "has-where", "true or false", Values::bool, null));
        Optional<Boolean> readOnly = Optional.ofNullable(optional(o, "read-only", "true or false", Values::bool, null));
        Map<SqlStatement.Effect, Boolean> effects = new LinkedHashMap<>();
        for (Map.Entry<String, SqlStatement.Effect> e : SQL_EFFECTS.entrySet()) {
            Boolean value = optional(o, e.getKey(), "true or false", Values::bool, null);
            if (value != null) effects.put(e.getValue(), value);
        }
        if (tree.problemCount() > before) return null;
        return new SqlCondition(kinds, tables, functions, hasWhere, readOnly, effects);
    }

    private List<SqlCondition.NamePattern> namePatterns(Obj o, String key) {
        List<SqlCondition.NamePattern> out = new ArrayList<>();
        if (!o.has(key)) return out;
        List<Node> items = tree.list(o.get(key), o.child(key));
        for (int i = 0; items != null && i < items.size(); i++) {
            SqlCondition.NamePattern p = tree.convert(items.get(i), o.child(key) + "[" + i + "]",
                    "name, schema.name or schema.*", SqlCondition.NamePattern::of, null);
            if (p != null) out.add(p);
        }
        if (items != null && items.isEmpty()) tree.problem(o.get(key), o.child(key), "expected a non-empty list");
        return out;
    }

    private static String httpMethod(String text) {
        String m = text.toUpperCase(Locale.ROOT);
        if (!HTTP_METHODS.contains(m)) throw new IllegalArgumentException("");
        return m;
    }

    private Set<String> textSet(Obj o, String key) {
        List<String> items = tree.texts(o.get(key), o.child(key));
        return items == null ? Set.of() : Set.copyOf(items);
    }

    /** {@code name: [accepted, values]} for claims, query parameters and body fields. */
    private Map<String, Set<String>> valueMap(Node node, String path) {
        Map<String, Node> entries = tree.entries(node, path);
        if (entries == null) return null;
        if (entries.isEmpty()) tree.problem(node, path, "expected at least one name: [accepted values]");
        Map<String, Set<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : entries.entrySet()) {
            List<String> values = tree.texts(e.getValue(), path + "." + e.getKey());
            if (values != null) out.put(e.getKey(), Set.copyOf(values));
        }
        return out;
    }

    // ---- scalar helpers

    /** For parsers whose own message would only repeat "expected ..., got ...". */
    private static <T> YamlTree.Parser<T> quiet(YamlTree.Parser<T> parser) {
        return text -> {
            try {
                return parser.parse(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("");
            }
        };
    }

    private <T> T required(Obj o, String key, String expected, YamlTree.Parser<T> parser, T placeholder) {
        if (!o.has(key)) {
            o.missing(key, expected);
            return null;
        }
        return tree.convert(o.get(key), o.child(key), expected, parser, placeholder);
    }

    private <T> T optional(Obj o, String key, String expected, YamlTree.Parser<T> parser, T defaultValue) {
        if (!o.has(key)) return defaultValue;
        return tree.convert(o.get(key), o.child(key), expected, parser, defaultValue);
    }

    /** A secret is required but never echoed back in a message. */
    private String secret(Obj o, String key) {
        if (!o.has(key)) {
            o.missing(key, "a secret, usually ${VARIABLE}");
            return null;
        }
        YamlTree.Scalar s = tree.scalar(o.get(key), o.child(key));
        if (s.text() == null) return null;
        if (s.text().isBlank() && !s.unresolved()) {
            tree.problem(o.get(key), o.child(key), "expected a secret, got empty text");
            return null;
        }
        return s.text();
    }
}
