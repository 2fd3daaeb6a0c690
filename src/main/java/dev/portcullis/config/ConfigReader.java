package dev.portcullis.config;

import dev.portcullis.config.YamlTree.Obj;
import dev.portcullis.masking.Redactor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads values out of a configuration file's YAML tree, reporting each problem with file, line,
 * field and what was expected: the toolkit {@link ConfigLoader} and every {@link ProtocolModule}
 * parse their sections with, so a module's messages read like the rest of the file's.
 */
public final class ConfigReader {
    /** Stands in for a URL that only an unset variable made invalid (policy tests run without secrets). */
    public static final URI PLACEHOLDER_URL = URI.create("http://unset.invalid/");
    static final InetSocketAddress PLACEHOLDER_LISTEN = InetSocketAddress.createUnresolved("unset.invalid", 1);

    private final YamlTree tree;
    private final Path source;

    ConfigReader(YamlTree tree, Path source) {
        this.tree = tree;
        this.source = source;
    }

    public YamlTree tree() {
        return tree;
    }

    /** {@code localhost} or a loopback IP literal; any other name counts as reachable (loading does no DNS). */
    public static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        try {
            return InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** For parsers whose own message would only repeat "expected ..., got ...". */
    public static <T> YamlTree.Parser<T> quiet(YamlTree.Parser<T> parser) {
        return text -> {
            try {
                return parser.parse(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("");
            }
        };
    }

    public <T> T required(Obj o, String key, String expected, YamlTree.Parser<T> parser, T placeholder) {
        if (!o.has(key)) {
            o.missing(key, expected);
            return null;
        }
        return tree.convert(o.get(key), o.child(key), expected, parser, placeholder);
    }

    public <T> T optional(Obj o, String key, String expected, YamlTree.Parser<T> parser, T defaultValue) {
        if (!o.has(key)) return defaultValue;
        return tree.convert(o.get(key), o.child(key), expected, parser, defaultValue);
    }

    /** A secret is required but never echoed back in a message. */
    public String secret(Obj o, String key) {
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

    /**
     * {@code allow-plaintext} of an HTTP listener that people send their tokens to (an HTTP connection's,
     * the admin's): plaintext only where the tokens cannot leave the machine, unless allowed outright;
     * never together with {@code tls}. Problems are reported at the offending line.
     *
     * @param whoseTokens who would send tokens in plaintext, for the message: {@code agents'}, {@code approvers'}
     */
    public Boolean plaintextAllowed(Obj o, InetSocketAddress listen, Optional<TlsConfig> tls, String whoseTokens) {
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

    /** A file named in the configuration, relative to the configuration file. */
    public java.nio.file.Path resolve(String path) {
        return source.resolveSibling(path);
    }

    /** A listener's {@code tls:} block, if it has one and it is valid. */
    public Optional<TlsConfig> tls(Obj o) {
        if (!o.has("tls")) return Optional.empty();
        Obj t = tree.obj(o.get("tls"), o.child("tls"), List.of("keystore", "password"));
        if (t == null) return Optional.empty();
        String keystore = required(t, "keystore", "the path of a PKCS#12 key store", Values::nonBlank, "x.p12");
        String password = secret(t, "password");
        if (keystore == null || password == null) return Optional.empty();
        // Relative to the configuration file; read (and any problem reported) when the listener starts.
        return Optional.of(new TlsConfig(source.resolveSibling(keystore), password));
    }

    /**
     * {@code redact: [field, ...]}: JSON fields, beyond the built-in ones, whose values a request is
     * recorded and shown to approvers without. Absent: the built-in ones alone.
     */
    public Redactor redactor(Obj o) {
        if (!o.has("redact")) return Redactor.DEFAULTS;
        List<Node> items = tree.list(o.get("redact"), o.child("redact"));
        if (items == null) return null;
        List<String> fields = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String field = tree.convert(items.get(i), o.child("redact") + "[" + i + "]",
                    "a field such as 'profile.ssn' or 'pin'", ConfigReader::redactField, null);
            if (field != null) fields.add(field);
        }
        return fields.size() == items.size() ? Redactor.withFields(fields) : null;
    }

    private static String redactField(String text) {
        Redactor.withFields(List.of(text)); // names a field, or says why not
        return text.strip();
    }

    public Set<String> textSet(Obj o, String key) {
        List<String> items = tree.texts(o.get(key), o.child(key));
        return items == null ? Set.of() : Set.copyOf(items);
    }

    /** {@code name: [accepted, values]} for claims, query parameters and body fields. */
    public Map<String, Set<String>> valueMap(Node node, String path) {
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

    public static Integer port(String text) {
        int port;
        try {
            port = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(""); // "expected a port number" says it all; Java's wording adds nothing
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException("");
        return port;
    }

    public static String headerName(String text) {
        if (!text.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) throw new IllegalArgumentException("");
        return text;
    }
}
