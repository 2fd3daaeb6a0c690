package dev.portcullis.kubernetes;

import dev.portcullis.config.ConfigReader;
import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.ConnectionSection;
import dev.portcullis.config.ProtocolModule;
import dev.portcullis.config.TlsConfig;
import dev.portcullis.config.Values;
import dev.portcullis.config.YamlTree;
import dev.portcullis.config.YamlTree.Obj;
import dev.portcullis.core.KubeRequest;
import dev.portcullis.core.Operation;
import dev.portcullis.http.HttpConnectionConfig;
import dev.portcullis.http.HttpListener;
import dev.portcullis.masking.Redactor;
import dev.portcullis.policy.Action;
import dev.portcullis.policy.Conditions;
import dev.portcullis.policy.OperationCondition;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.Rule;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * The Kubernetes protocol module: connections of {@code type: kubernetes} (a cluster's API server),
 * rule conditions under {@code when.kubernetes}, policy test cases with
 * {@code kubernetes: {method, path, query}}. It runs on the HTTP data path with its own dialect
 * ({@link KubeDialect}).
 *
 * <p>Discovery ({@code /api}, {@code /apis}, {@code /version}, {@code /openapi}) is allowed for every
 * authenticated agent by a rule the module puts first, {@value #DISCOVERY_RULE}: kubectl cannot work
 * without it, and it shows the API's shape, not the cluster's objects.
 */
public final class KubernetesProtocol implements ProtocolModule {
    static final String DISCOVERY_RULE = "kubernetes-discovery";

    @Override
    public String type() {
        return "kubernetes";
    }

    @Override
    public String operationKey() {
        return "kubernetes";
    }

    @Override
    public String testCaseExample() {
        return "{method: GET, path: /api/v1/namespaces/dev/pods}";
    }

    @Override
    public List<String> connectionKeys() {
        return List.of("tls", "allow-plaintext", "upstream", "credentials", "impersonate", "max-request-bytes", "redact");
    }

    @Override
    public Listener start(ConnectionConfig connection, ListenerContext context) throws Exception {
        KubernetesConnectionConfig kube = (KubernetesConnectionConfig) connection;
        HttpConnectionConfig http = kube.asHttp();
        HttpListener listener = HttpListener.start(http, context.gate(), context.maxResponseBytes(), new KubeDialect(kube), upstreamTls(kube), context.tunnels());
        return Listener.of(listener, listener.port(), (http.tls().isPresent() ? "https" : "http") + "://"
                + http.listen().getHostString() + ":" + listener.port() + " → " + kube.upstreamUrl() + " (Kubernetes API)");
    }

    /** The API server's CA and the gateway's client certificate, when configured; null: the JVM's trust store, no certificate. */
    private static SslContext upstreamTls(KubernetesConnectionConfig c) throws java.io.IOException {
        if (c.caFile().isEmpty() && c.clientCertificate().isEmpty()) return null;
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2");
        try {
            if (c.caFile().isPresent()) b.trustManager(c.caFile().get().toFile());
            if (c.clientCertificate().isPresent()) b.keyManager(c.clientCertificate().get().toFile(), c.clientKey().get().toFile());
            return b.build();
        } catch (IllegalArgumentException | java.io.IOException e) {
            throw new java.io.IOException("connection '" + c.name() + "': the upstream's CA or client certificate cannot be used: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public ConnectionConfig connection(ConnectionSection section) {
        ConfigReader r = section.reader();
        YamlTree tree = r.tree();
        Obj o = section.keys();
        String name = section.name();
        InetSocketAddress listen = section.listen();
        Optional<TlsConfig> tls = r.tls(o);
        Boolean allowPlaintext = r.plaintextAllowed(o, listen, tls, "agents'");

        URI url = null;
        Optional<Path> caFile = Optional.empty();
        Optional<String> via = Optional.empty();
        Duration connectTimeout = null;
        Duration responseTimeout = null;
        if (!o.has("upstream")) o.missing("upstream", "a mapping with url (and ca-file)");
        else {
            Obj u = tree.obj(o.get("upstream"), o.child("upstream"), List.of("url", "ca-file", "connect-timeout", "response-timeout", "via"));
            if (u != null) {
                url = r.required(u, "url", "the API server's https URL", Values::httpUrl, ConfigReader.PLACEHOLDER_URL);
                caFile = file(r, u, "ca-file", "a PEM file of the CA certificates the API server's certificate chains to", true);
                connectTimeout = r.optional(u, "connect-timeout", "a duration like 5s", Values::positiveDuration,
                        HttpConnectionConfig.DEFAULT_CONNECT_TIMEOUT);
                responseTimeout = r.optional(u, "response-timeout", "a duration like 60s", Values::positiveDuration,
                        HttpConnectionConfig.DEFAULT_RESPONSE_TIMEOUT);
                if (u.has("via")) via = Optional.ofNullable(r.optional(u, "via", "agent NAME", Values::viaAgent, null));
            }
        }
        Optional<String> token = Optional.empty();
        Optional<Path> certificate = Optional.empty();
        Optional<Path> key = Optional.empty();
        if (!o.has("credentials")) o.missing("credentials", "a mapping with token, or client-certificate and client-key");
        else {
            Obj c = tree.obj(o.get("credentials"), o.child("credentials"), List.of("token", "client-certificate", "client-key"));
            if (c != null) {
                if (c.has("token")) token = Optional.ofNullable(r.secret(c, "token"));
                certificate = file(r, c, "client-certificate", "a PEM certificate (chain)", false);
                key = file(r, c, "client-key", "a PKCS#8 PEM private key", false);
                if (!c.has("token") && !c.has("client-certificate")) {
                    tree.problem(o.get("credentials"), o.child("credentials"), "expected token, or client-certificate and client-key");
                } else if (c.has("client-certificate") != c.has("client-key")) {
                    tree.problem(o.get("credentials"), o.child("credentials"), "client-certificate and client-key go together");
                } else if (c.has("token") && c.has("client-certificate")) {
                    tree.problem(o.get("credentials"), o.child("credentials"), "one credential: token, or client-certificate and client-key");
                }
            }
        }
        Optional<String> impersonateUser = Optional.empty();
        List<String> impersonateGroups = List.of();
        if (o.has("impersonate")) {
            Obj i = tree.obj(o.get("impersonate"), o.child("impersonate"), List.of("user", "groups"));
            if (i != null) {
                impersonateUser = Optional.ofNullable(r.required(i, "user", "a user name", Values::nonBlank, "x"));
                if (i.has("groups")) {
                    List<String> groups = tree.texts(i.get("groups"), i.child("groups"));
                    impersonateGroups = groups == null ? List.of() : groups;
                }
            }
        }
        Long maxRequestBytes = r.optional(o, "max-request-bytes", "a size in bytes", Values::size,
                KubernetesConnectionConfig.DEFAULT_MAX_REQUEST_BYTES);
        Redactor redactor = r.redactor(o);
        if (section.hasProblems()) return null;
        return new KubernetesConnectionConfig(name, listen, tls, allowPlaintext, url, caFile, token, certificate, key,
                impersonateUser, impersonateGroups, connectTimeout, responseTimeout, maxRequestBytes,
                withDiscovery(section.policy()), redactor, via);
    }

    /** The connection's policy with {@value #DISCOVERY_RULE} first. */
    static Policy withDiscovery(Policy policy) {
        List<Rule> rules = new ArrayList<>();
        rules.add(new Rule(DISCOVERY_RULE, "Any authenticated agent may read the API's discovery documents, /version and /openapi.",
                new Conditions(Set.of(), Set.of(), Map.of(), Optional.of(new KubeCondition(Set.of(), Set.of(), Set.of(), Set.of(),
                        Set.of(), null, true))), Action.ALLOW, Optional.empty(), "", List.of(), 1, Rule.DEFAULT_HOLD_TIMEOUT, false));
        for (Rule rule : policy.rules()) {
            if (!rule.id().equals(DISCOVERY_RULE)) rules.add(rule);
        }
        return new Policy(rules);
    }

    /** A file named relative to the configuration, readable at start-up; {@code emptyIsNone}: an empty value means none. */
    private static Optional<Path> file(ConfigReader r, Obj o, String key, String expected, boolean emptyIsNone) {
        if (!o.has(key)) return Optional.empty();
        YamlTree.Scalar scalar = r.tree().scalar(o.get(key), o.child(key));
        if (scalar.text() == null) return Optional.empty();
        String text = scalar.text().strip();
        if (text.isEmpty()) {
            if (!emptyIsNone) r.tree().problem(o.get(key), o.child(key), "expected " + expected + ", got empty text");
            return Optional.empty();
        }
        Path path = r.resolve(text);
        if (!Files.isReadable(path)) {
            r.tree().problem(o.get(key), o.child(key), "cannot read " + path + " (" + expected + ")");
            return Optional.empty();
        }
        return Optional.of(path);
    }

    @Override
    public OperationCondition condition(ConfigReader r, Node node, String path) {
        YamlTree tree = r.tree();
        Obj o = tree.obj(node, path, List.of("verbs", "resources", "namespaces", "names", "commands", "interactive", "discovery"));
        if (o == null) return null;
        int before = tree.problemCount();
        Set<String> verbs = new LinkedHashSet<>();
        if (o.has("verbs")) {
            List<String> items = tree.texts(o.get("verbs"), o.child("verbs"));
            for (String v : items == null ? List.<String>of() : items) {
                if (KubeCondition.VERBS.contains(v)) verbs.add(v);
                else tree.problem(o.get("verbs"), o.child("verbs"), "'" + v + "' is not a verb; expected one of " + String.join(", ", KubeCondition.VERBS));
            }
        }
        Set<String> resources = o.has("resources") ? r.textSet(o, "resources") : Set.of();
        Set<String> namespaces = o.has("namespaces") ? r.textSet(o, "namespaces") : Set.of();
        Set<String> names = o.has("names") ? r.textSet(o, "names") : Set.of();
        Set<String> commands = o.has("commands") ? r.textSet(o, "commands") : Set.of();
        Boolean interactive = o.has("interactive") ? r.optional(o, "interactive", "true or false", Values::bool, null) : null;
        boolean discovery = Boolean.TRUE.equals(o.has("discovery") ? r.optional(o, "discovery", "true or false", Values::bool, false) : false);
        if (!commands.isEmpty() && !(verbs.equals(Set.of("exec")))) {
            tree.problem(o.get("commands"), o.child("commands"), "commands apply to exec: add verbs: [exec]");
        }
        if (tree.problemCount() > before) return null;
        return new KubeCondition(verbs, resources, namespaces, names, commands, interactive, discovery);
    }

    @Override
    public List<Operation> testOperations(ConfigReader r, Node node, String path) throws UnjudgeableException {
        YamlTree tree = r.tree();
        Obj o = tree.obj(node, path, List.of("method", "path", "query"));
        if (o == null) return null;
        String method = null;
        if (!o.has("method")) o.missing("method", "an HTTP method");
        else method = tree.scalar(o.get("method"), o.child("method")).text();
        String requestPath = null;
        if (!o.has("path")) o.missing("path", "a request path like /api/v1/namespaces/dev/pods");
        else requestPath = tree.scalar(o.get("path"), o.child("path")).text();
        String rawQuery = o.has("query") ? tree.scalar(o.get("query"), o.child("query")).text() : "";
        if (method == null || requestPath == null || rawQuery == null) return null;
        try {
            return List.of(KubeRequest.parse(method, requestPath, rawQuery));
        } catch (IllegalArgumentException e) {
            throw new UnjudgeableException("refused as the gateway would refuse it: " + e.getMessage());
        }
    }
}
