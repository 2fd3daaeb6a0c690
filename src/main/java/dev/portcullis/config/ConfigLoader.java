package dev.portcullis.config;

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


    private final YamlTree tree;
    private final Path source;
    private final ConfigReader reader;
    private final ProtocolRegistry protocols;
    /** Listen addresses seen so far, with where they were configured. */
    private final List<Object[]> listens = new ArrayList<>();

    private ConfigLoader(YamlTree tree, Path source, ProtocolRegistry protocols) {
        this.tree = tree;
        this.source = source;
        this.reader = new ConfigReader(tree, source);
        this.protocols = protocols;
    }

    /**
     * Loads {@code file}, substituting {@code ${VAR}} from {@code env}; an unset variable without a
     * default is an error naming it.
     */
    public static GatewayConfig load(Path file, Map<String, String> env) throws ConfigException {
        return load(file, env, UnsetVariables.ERROR, ProtocolRegistry.installed());
    }

    /** As {@link #load(Path, Map)}, with the given protocol modules. */
    public static GatewayConfig load(Path file, Map<String, String> env, ProtocolRegistry protocols) throws ConfigException {
        return load(file, env, UnsetVariables.ERROR, protocols);
    }

    /**
     * Loads {@code file} for policy tests, which run without the secrets the file references: an
     * unset variable becomes empty text, and a value wrong only because of that is replaced by a
     * placeholder. Never use the result to serve traffic.
     */
    public static GatewayConfig loadForPolicyTest(Path file, Map<String, String> env) throws ConfigException {
        return load(file, env, UnsetVariables.EMPTY, ProtocolRegistry.installed());
    }

    /** As {@link #loadForPolicyTest(Path, Map)}, with the given protocol modules. */
    public static GatewayConfig loadForPolicyTest(Path file, Map<String, String> env, ProtocolRegistry protocols)
            throws ConfigException {
        return load(file, env, UnsetVariables.EMPTY, protocols);
    }

    private static GatewayConfig load(Path file, Map<String, String> env, UnsetVariables unset, ProtocolRegistry protocols)
            throws ConfigException {
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
        GatewayConfig config = new ConfigLoader(tree, file, protocols).gateway(root);
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
        Policy policy = new ConfigLoader(tree, Path.of(label), ProtocolRegistry.installed()).policy(root, "");
        tree.throwIfProblems();
        return policy;
    }

    private GatewayConfig gateway(Node root) {
        Obj o = tree.obj(root, "", List.of("identity", "store", "recording", "admin", "approvals", "agents", "connections"));
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
        Path dataDir = store == null ? Path.of("./data") : switch (store) {
            case StoreConfig.Embedded e -> e.path().toAbsolutePath().getParent();
            case StoreConfig.Postgres p -> p.trail().toAbsolutePath().getParent();
        };
        Optional<AgentsConfig> agents = o.has("agents") ? Optional.ofNullable(agents(o.get("agents"), "agents", dataDir)) : Optional.empty();
        List<ConnectionConfig> connections = o.has("connections") ? connections(o.get("connections"), "connections") : null;
        if (!o.has("connections")) o.missing("connections", "a list with at least one connection");
        if (connections != null && !o.has("agents")) {
            for (ConnectionConfig c : connections) {
                if (c != null && c.viaAgent().isPresent()) {
                    tree.problem(o.get("connections"), "connections",
                            "connection '" + c.name() + "' goes via agent " + c.viaAgent().get()
                                    + ", but no agent listener is configured: add agents.listen");
                }
            }
        }
        if (tree.problemCount() > 0) return null;
        return new GatewayConfig(identity, store, recording, admin, approvals, connections, source, agents);
    }

    // ---- identity

    private IdentityConfig identity(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("issuer", "audience", "groups-claim", "algorithms", "clock-skew",
                "max-token-bytes", "introspection", "jwks-min-refresh"));
        if (o == null) return null;
        int before = tree.problemCount();
        URI issuer = reader.required(o, "issuer", "an absolute http(s) URL", Values::httpUrl, ConfigReader.PLACEHOLDER_URL);
        String audience = reader.required(o, "audience", "the audience (aud) tokens must carry", Values::nonBlank, "");
        String groupsClaim = reader.optional(o, "groups-claim", "a claim name", Values::nonBlank, "groups");
        Set<String> algorithms = Set.of("RS256", "ES256");
        if (o.has("algorithms")) algorithms = algorithms(o.get("algorithms"), o.child("algorithms"));
        Duration clockSkew = reader.optional(o, "clock-skew", "a duration like 30s", Values::duration, Duration.ofSeconds(30));
        Integer maxTokenBytes = reader.optional(o, "max-token-bytes", "a size in bytes", Values::intSize, 8192);
        Duration jwksMinRefresh = reader.optional(o, "jwks-min-refresh", "a duration like 30s", Values::positiveDuration,
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
                    "an absolute http(s) URL", Values::httpUrl, ConfigReader.PLACEHOLDER_URL));
        }
        String clientId = reader.required(o, "client-id", "the client id", Values::nonBlank, "");
        String clientSecret = reader.secret(o, "client-secret");
        Duration cacheTtl = reader.optional(o, "cache-ttl", "a duration like 30s", Values::duration, Duration.ofSeconds(30));
        if (tree.problemCount() > before) return null;
        return new IntrospectionConfig(endpoint, clientId, clientSecret, cacheTtl);
    }

    // ---- store, recording, admin

    private StoreConfig store(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("type", "path", "trail-segment-bytes", "url", "user", "password", "schema", "replica",
                "trail", "pool-size", "ssl-mode", "ssl-root-cert"));
        if (o == null) return null;
        String type = reader.optional(o, "type", "a store type", Values::nonBlank, "embedded");
        if (type == null) return null;
        Integer segment = reader.optional(o, "trail-segment-bytes", "a size in bytes", Values::intSize,
                (int) StoreConfig.Embedded.DEFAULT_SEGMENT_BYTES);
        switch (type) {
            case "embedded" -> {
                String file = reader.required(o, "path", "a file path", Values::nonBlank, "./data/portcullis.db");
                return file == null || segment == null ? null : new StoreConfig.Embedded(Path.of(file), Math.max(1, segment));
            }
            case "postgres" -> {
                String url = reader.required(o, "url", "a JDBC URL (jdbc:postgresql://host:5432/db)", ConfigLoader::postgresUrl,
                        "jdbc:postgresql://localhost/portcullis");
                String user = reader.required(o, "user", "a database user", Values::nonBlank, "portcullis");
                String password = reader.required(o, "password", "the user's password (from the environment)", Values::nonBlank, "x");
                String schema = reader.optional(o, "schema", "a schema name (lower case letters, digits, _)", ConfigLoader::schemaName,
                        StoreConfig.Postgres.DEFAULT_SCHEMA);
                String replica = reader.optional(o, "replica", "this replica's name (letters, digits, . _ -)", ConfigLoader::replicaName,
                        defaultReplica());
                String trail = reader.optional(o, "trail", "a directory", Values::nonBlank, "./data/trail");
                Integer pool = reader.optional(o, "pool-size", "a number of connections (2 or more)", Values::intSize, 8);
                // TLS to the database: pgjdbc's sslmode and sslrootcert, here or in the URL (not both)
                String sslMode = reader.optional(o, "ssl-mode", "disable, allow, prefer, require, verify-ca or verify-full",
                        ConfigLoader::sslMode, null);
                String rootCert = reader.optional(o, "ssl-root-cert", "a PEM file of the CA the server's certificate chains to",
                        Values::nonBlank, null);
                if (url != null && (sslMode != null && url.contains("sslmode=") || rootCert != null && url.contains("sslrootcert="))) {
                    tree.problem(o.get("url"), o.child("url"), "TLS is set both in the URL and in ssl-mode/ssl-root-cert; set it once");
                    return null;
                }
                if (rootCert != null && !java.nio.file.Files.isReadable(Path.of(rootCert))) {
                    tree.problem(o.get("ssl-root-cert"), o.child("ssl-root-cert"), "cannot read " + rootCert);
                    return null;
                }
                if (url != null) {
                    StringBuilder u = new StringBuilder(url);
                    if (sslMode != null) u.append(u.indexOf("?") < 0 ? '?' : '&').append("sslmode=").append(sslMode);
                    if (rootCert != null) u.append(u.indexOf("?") < 0 ? '?' : '&').append("sslrootcert=")
                            .append(java.net.URLEncoder.encode(rootCert, java.nio.charset.StandardCharsets.UTF_8));
                    url = u.toString();
                }
                if (url == null || user == null || password == null || schema == null || replica == null || trail == null
                        || segment == null || pool == null) {
                    return null;
                }
                return new StoreConfig.Postgres(url, user, password, schema, replica, Path.of(trail), Math.max(1, segment), Math.max(2, pool));
            }
            default -> {
                tree.problem(o.get("type"), o.child("type"), "store type '" + type + "' is not supported; known: embedded, postgres");
                return null;
            }
        }
    }

    private static String postgresUrl(String text) {
        if (!text.startsWith("jdbc:postgresql:")) throw new IllegalArgumentException("not a PostgreSQL JDBC URL (jdbc:postgresql://...)");
        return text;
    }

    private static String sslMode(String text) {
        if (!List.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full").contains(text)) {
            throw new IllegalArgumentException("not an ssl mode");
        }
        return text;
    }

    private static String schemaName(String text) {
        if (!dev.portcullis.store.PostgresStore.isSchemaName(text)) throw new IllegalArgumentException("not a schema name");
        return text;
    }

    private static String replicaName(String text) {
        if (!text.matches("[A-Za-z0-9._-]{1,200}")) throw new IllegalArgumentException("not a replica name");
        return text;
    }

    /** The host's name (a pod's name on Kubernetes), as a replica is most often told apart. */
    private static String defaultReplica() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = "gateway";
            }
        }
        return host.replaceAll("[^A-Za-z0-9._-]", "-");
    }

    private ApprovalsConfig approvals(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("public-url", "notify"));
        if (o == null) return null;
        URI publicUrl = reader.optional(o, "public-url", "an absolute http(s) URL", Values::httpUrl, null);
        List<ApprovalsConfig.Channel> channels = new ArrayList<>();
        if (o.has("notify")) {
            List<Node> items = tree.list(o.get("notify"), o.child("notify"));
            for (int i = 0; items != null && i < items.size(); i++) {
                String at = o.child("notify") + "[" + i + "]";
                Obj c = tree.obj(items.get(i), at, List.of("type", "url", "secret"));
                if (c == null) continue;
                String type = reader.required(c, "type", "slack or webhook", ConfigLoader::channelType, "webhook");
                URI url = reader.required(c, "url", "an absolute http(s) URL", Values::httpUrl, ConfigReader.PLACEHOLDER_URL);
                if ("slack".equals(type) && url != null) {
                    channels.add(new ApprovalsConfig.Slack(url));
                } else if ("webhook".equals(type) && url != null) {
                    String secret = reader.secret(c, "secret");
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
        Integer max = reader.optional(o, "max-response-bytes", "a size in bytes", Values::intSize,
                RecordingConfig.DEFAULT_MAX_RESPONSE_BYTES);
        Boolean always = reader.optional(o, "fsync", "always or writes", ConfigLoader::fsyncAlways, false);
        return max == null || always == null ? null : new RecordingConfig(max, always);
    }

    private AdminConfig admin(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("listen", "tls", "allow-plaintext", "session-admins", "auditors", "console"));
        if (o == null) return null;
        int before = tree.problemCount();
        InetSocketAddress listen = reader.optional(o, "listen", "host:port", Values::listen, AdminConfig.DEFAULT.listen());
        if (listen != null) claimListen(listen, o.has("listen") ? o.get("listen") : node, o.child("listen"));
        Optional<TlsConfig> tls = reader.tls(o);
        Boolean allowPlaintext = reader.plaintextAllowed(o, listen, tls, "approvers'");
        java.util.Set<String> sessionAdmins = o.has("session-admins") ? reader.textSet(o, "session-admins") : java.util.Set.of();
        java.util.Set<String> auditors = o.has("auditors") ? reader.textSet(o, "auditors") : java.util.Set.of();
        Optional<ConsoleConfig> console = o.has("console") ? Optional.ofNullable(console(o.get("console"), o.child("console"))) : Optional.empty();
        if (tree.problemCount() > before) return null;
        return new AdminConfig(listen, tls, allowPlaintext, sessionAdmins, auditors, console);
    }

    private ConsoleConfig console(Node node, String path) {
        Obj o = tree.obj(node, path, List.of("client-id", "client-secret", "redirect-url", "scopes", "session-ttl", "idle-timeout"));
        if (o == null) return null;
        int before = tree.problemCount();
        String clientId = reader.required(o, "client-id", "the console's client id at the identity provider", Values::nonBlank, "");
        Optional<String> clientSecret = Optional.empty();
        if (o.has("client-secret")) {
            YamlTree.Scalar s = tree.scalar(o.get("client-secret"), o.child("client-secret"));
            // ${VAR:-} leaves it empty: a public client, protected by PKCE alone.
            if (s.text() != null && !s.text().isBlank()) clientSecret = Optional.of(s.text());
        }
        URI redirect = reader.required(o, "redirect-url", "the console's callback as browsers reach it, e.g. https://portcullis.example.com:8080"
                + ConsoleConfig.CALLBACK_PATH, Values::httpUrl, ConfigReader.PLACEHOLDER_URL);
        if (redirect != null && redirect != ConfigReader.PLACEHOLDER_URL) {
            if (!ConsoleConfig.CALLBACK_PATH.equals(redirect.getPath()) || redirect.getQuery() != null || redirect.getFragment() != null) {
                tree.problem(o.get("redirect-url"), o.child("redirect-url"), "expected the admin listener's " + ConsoleConfig.CALLBACK_PATH
                        + " without a query, e.g. https://portcullis.example.com:8080" + ConsoleConfig.CALLBACK_PATH);
            } else if (redirect.getScheme().equalsIgnoreCase("http") && !ConfigReader.isLoopback(redirect.getHost())) {
                tree.problem(o.get("redirect-url"), o.child("redirect-url"), "people's session cookies would cross the network in plaintext: use https "
                        + "(admin tls, or a TLS terminator in front), or a loopback address");
            }
        }
        List<String> scopes = ConsoleConfig.DEFAULT_SCOPES;
        if (o.has("scopes")) {
            java.util.Set<String> given = reader.textSet(o, "scopes");
            if (given != null && !given.contains("openid")) tree.problem(o.get("scopes"), o.child("scopes"), "expected a list that includes openid");
            if (given != null) scopes = List.copyOf(new java.util.TreeSet<>(given));
        }
        Duration ttl = reader.optional(o, "session-ttl", "a duration like 8h", Values::positiveDuration, ConsoleConfig.DEFAULT_SESSION_TTL);
        Duration idle = reader.optional(o, "idle-timeout", "a duration like 1h", Values::positiveDuration, ConsoleConfig.DEFAULT_IDLE_TIMEOUT);
        if (tree.problemCount() > before) return null;
        return new ConsoleConfig(clientId, clientSecret, redirect, scopes, ttl, idle);
    }

    private AgentsConfig agents(Node node, String path, Path dataDir) {
        Obj o = tree.obj(node, path, List.of("listen", "admins", "certificate-ttl", "ca-key", "host-key"));
        if (o == null) return null;
        int before = tree.problemCount();
        InetSocketAddress listen = reader.required(o, "listen", "host:port", Values::listen, ConfigReader.PLACEHOLDER_LISTEN);
        if (listen != null) claimListen(listen, o.has("listen") ? o.get("listen") : node, o.child("listen"));
        java.util.Set<String> admins = o.has("admins") ? reader.textSet(o, "admins") : java.util.Set.of();
        java.time.Duration ttl = reader.optional(o, "certificate-ttl", "a duration like 24h", Values::positiveDuration,
                AgentsConfig.DEFAULT_CERTIFICATE_TTL);
        Path caKey = o.has("ca-key") ? reader.optional(o, "ca-key", "a file path", p -> Path.of(Values.nonBlank(p)), null) : dataDir.resolve("agents-ca");
        Path hostKey = o.has("host-key") ? reader.optional(o, "host-key", "a file path", p -> Path.of(Values.nonBlank(p)), null) : dataDir.resolve("agents-host-key");
        if (tree.problemCount() > before || listen == null || caKey == null || hostKey == null) return null;
        return new AgentsConfig(listen, admins, ttl, caKey, hostKey);
    }

    private void claimListen(InetSocketAddress address, Node at, String path) {
        if (address == ConfigReader.PLACEHOLDER_LISTEN) return;
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

    private ConnectionConfig connection(Node node, String path, Map<String, String> names) {
        Map<String, Node> raw = tree.entries(node, path);
        if (raw == null) return null;
        String known = String.join(", ", protocols.types());
        Node typeNode = raw.get("type");
        if (typeNode == null || YamlTree.isNull(typeNode)) {
            tree.problem(node, path + ".type", "missing; expected one of " + known);
            return null;
        }
        String type = tree.scalar(typeNode, path + ".type").text();
        if (type == null) return null;
        Optional<ProtocolModule> module = protocols.module(type);
        if (module.isEmpty()) {
            tree.problem(typeNode, path + ".type", "connection type '" + type + "' has no adapter; known: " + known);
            return null;
        }
        List<String> keys = new ArrayList<>(List.of("name", "type", "listen"));
        keys.addAll(module.get().connectionKeys());
        keys.add("policy");
        Obj o = tree.obj(node, path, keys);
        if (o == null) return null;
        int before = tree.problemCount();
        String name = connectionName(o, names);
        InetSocketAddress listen = connectionListen(o);
        Policy policy = null;
        if (!o.has("policy")) o.missing("policy", "a mapping with rules");
        else policy = policy(o.get("policy"), o.child("policy"));
        return module.get().connection(new ConnectionSection(reader, o, name, listen, policy, before));
    }

    private static Boolean fsyncAlways(String text) {
        return switch (text.strip()) {
            case "always" -> true;
            case "writes" -> false;
            default -> throw new IllegalArgumentException("");
        };
    }




    /** A connection's name, checked for uniqueness across connections. */
    private String connectionName(Obj o, Map<String, String> names) {
        String name = reader.required(o, "name", "a name of letters, digits, '-' or '_'", ConfigLoader::connectionName, "");
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
        InetSocketAddress listen = reader.required(o, "listen", "host:port", Values::listen, ConfigReader.PLACEHOLDER_LISTEN);
        if (listen != null) claimListen(listen, o.get("listen"), o.child("listen"));
        return listen;
    }

    private static String connectionName(String text) {
        if (!text.matches("[A-Za-z0-9][A-Za-z0-9_-]{0,62}")) throw new IllegalArgumentException("");
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
        Map<String, String> sources = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            Rule r = rule(items.get(i), o.child("rules") + "[" + i + "]", ids);
            if (r != null) {
                rules.add(r);
                sources.put(r.id(), "- " + tree.source(items.get(i)));
            }
        }
        return tree.problemCount() > before ? null : new Policy(rules, sources);
    }

    private Rule rule(Node node, String path, Map<String, String> ids) {
        Obj o = tree.obj(node, path, RULE_KEYS);
        if (o == null) return null;
        int before = tree.problemCount();
        String id = reader.required(o, "id", "a rule id of letters, digits, '-' or '_'", ConfigLoader::ruleId, null);
        if (id != null) {
            String previous = ids.putIfAbsent(id, o.path);
            if (previous != null) tree.problem(o.get("id"), o.child("id"), "rule id '" + id + "' is already used by " + previous);
        }
        String description = reader.optional(o, "description", "text", t -> t, "");
        Action action = reader.required(o, "action", "one of allow, deny, require-approval", ConfigReader.quiet(Action::fromConfigName), null);
        Conditions when = o.has("when") ? conditions(o.get("when"), o.child("when")) : Conditions.ALWAYS;
        String message = reader.optional(o, "message", "text", t -> t, "");
        Boolean dryRun = reader.optional(o, "dry-run", "true or false", Values::bool, false);

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
            Integer n = reader.optional(o, "approvals-required", "a whole number of at least 1", ConfigLoader::atLeastOne,
                    Rule.DEFAULT_APPROVALS_REQUIRED);
            if (n != null) approvalsRequired = n;
            Duration d = reader.optional(o, "hold-timeout", "a duration like 15m", Values::positiveDuration, Rule.DEFAULT_HOLD_TIMEOUT);
            if (d != null) holdTimeout = d;
            if (o.has("grant")) {
                Duration g = reader.optional(o, "grant", "a duration like 30m, at most " + Rule.MAX_GRANT.toHours() + "h",
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
                        "one of " + known, ConfigReader.quiet(Detector::fromConfigName), null);
                if (d != null) detectors.add(d);
            }
        }
        PredicateMode predicates = PredicateMode.DEFAULT;
        if (o.has("predicates")) {
            PredicateMode m = tree.convert(o.get("predicates"), o.child("predicates"), "one of refuse, equality, allow",
                    ConfigReader.quiet(PredicateMode::fromConfigName), null);
            if (m != null) predicates = m;
        }
        if (!o.has("fields") && !o.has("detectors")) o.missing("fields", "fields and/or detectors");
        if (tree.problemCount() > before) return null;
        return new MaskPlan(fields, Set.copyOf(detectors), predicates);
    }

    private Conditions conditions(Node node, String path) {
        List<String> keys = new ArrayList<>(List.of("groups", "subjects", "claims"));
        keys.addAll(protocols.operationKeys());
        Obj o = tree.obj(node, path, keys);
        if (o == null) return null;
        int before = tree.problemCount();
        Set<String> groups = o.has("groups") ? reader.textSet(o, "groups") : Set.of();
        Set<String> subjects = o.has("subjects") ? reader.textSet(o, "subjects") : Set.of();
        Map<String, Set<String>> claims = o.has("claims") ? reader.valueMap(o.get("claims"), o.child("claims")) : Map.of();
        Optional<OperationCondition> operation = Optional.empty();
        List<String> blocks = protocols.operationKeys().stream().filter(o::has).toList();
        if (blocks.size() > 1) {
            String last = blocks.getLast();
            tree.problem(o.get(last), o.child(last), "a rule applies to one protocol: write "
                    + String.join(" or ", blocks) + ", not " + (blocks.size() == 2 ? "both" : "several"));
        } else if (blocks.size() == 1) {
            String key = blocks.getFirst();
            operation = Optional.ofNullable(protocols.byOperationKey(key).orElseThrow()
                    .condition(reader, o.get(key), o.child(key)));
        }
        if (tree.problemCount() > before) return null;
        return new Conditions(groups, subjects, claims, operation);
    }








    // ---- scalar helpers




}
