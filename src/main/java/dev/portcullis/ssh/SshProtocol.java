package dev.portcullis.ssh;

import dev.portcullis.config.ConfigReader;
import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.ConnectionSection;
import dev.portcullis.config.ProtocolModule;
import dev.portcullis.config.Values;
import dev.portcullis.config.YamlTree;
import dev.portcullis.config.YamlTree.Obj;
import dev.portcullis.core.Operation;
import dev.portcullis.policy.OperationCondition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.yaml.snakeyaml.nodes.Node;

/**
 * The SSH protocol module: connections of {@code type: ssh} (a host reached with the gateway's key), rule
 * conditions under {@code when.ssh}, policy test cases with {@code ssh: {command: "..."}} or
 * {@code ssh: {shell: true}}.
 */
public final class SshProtocol implements ProtocolModule {

    @Override
    public String type() {
        return "ssh";
    }

    @Override
    public String operationKey() {
        return "ssh";
    }

    @Override
    public String testCaseExample() {
        return "{command: \"uptime\"}";
    }

    @Override
    public List<String> connectionKeys() {
        return List.of("host-key", "user-ca-key", "certificate-ttl", "upstream");
    }

    @Override
    public Listener start(ConnectionConfig connection, ListenerContext context) throws Exception {
        SshConnectionConfig ssh = (SshConnectionConfig) connection;
        SshListener listener = SshListener.start(ssh, context.gate());
        return Listener.of(listener, listener.port(), "ssh://" + ssh.listen().getHostString() + ":" + listener.port() + " → "
                + ssh.upstreamUser() + "@" + ssh.upstreamHost() + ":" + ssh.upstreamPort());
    }

    @Override
    public ConnectionConfig connection(ConnectionSection section) {
        ConfigReader r = section.reader();
        YamlTree tree = r.tree();
        Obj o = section.keys();
        Path hostKey = path(r, o, "host-key", "a file for the gateway's host key (created if missing)");
        Path caKey = path(r, o, "user-ca-key", "a file for the key that signs agents' certificates (created if missing)");
        Duration ttl = r.optional(o, "certificate-ttl", "a duration like 10m, at most 24h", Values::positiveDuration,
                SshConnectionConfig.DEFAULT_CERTIFICATE_TTL);
        String host = null;
        Integer port = 22;
        String user = null;
        Path key = null;
        Path knownHosts = null;
        Duration connectTimeout = Duration.ofSeconds(10);
        if (!o.has("upstream")) o.missing("upstream", "a mapping with host, port, user, key-file and known-hosts");
        else {
            Obj u = tree.obj(o.get("upstream"), o.child("upstream"), List.of("host", "port", "user", "key-file", "known-hosts", "connect-timeout"));
            if (u != null) {
                host = r.required(u, "host", "a host name or address", Values::nonBlank, "x");
                port = r.optional(u, "port", "a port number", ConfigReader::port, 22);
                user = r.required(u, "user", "the login on the host", Values::nonBlank, "x");
                key = readable(r, u, "key-file", "the private key of that login");
                knownHosts = readable(r, u, "known-hosts", "a known_hosts file with the host's key (an unknown or changed key is refused)");
                connectTimeout = r.optional(u, "connect-timeout", "a duration like 10s", Values::positiveDuration, Duration.ofSeconds(10));
            }
        }
        if (section.hasProblems() || ttl != null && ttl.compareTo(Duration.ofHours(24)) > 0) {
            if (ttl != null && ttl.compareTo(Duration.ofHours(24)) > 0) tree.problem(o.get("certificate-ttl"), o.child("certificate-ttl"), "at most 24h");
            return null;
        }
        return new SshConnectionConfig(section.name(), section.listen(), section.policy(), hostKey, caKey, ttl, host, port, user, key,
                knownHosts, connectTimeout);
    }

    private static Path path(ConfigReader r, Obj o, String key, String expected) {
        if (!o.has(key)) {
            o.missing(key, expected);
            return null;
        }
        YamlTree.Scalar s = r.tree().scalar(o.get(key), o.child(key));
        if (s.text() == null) return null;
        if (s.text().isBlank()) {
            if (!s.unresolved()) r.tree().problem(o.get(key), o.child(key), "expected " + expected + ", got empty text");
            return Path.of("unset");
        }
        return r.resolve(s.text().strip());
    }

    /** A file that must exist at start-up; not checked while its variable is unset (policy tests). */
    private static Path readable(ConfigReader r, Obj o, String key, String expected) {
        Path p = path(r, o, key, expected);
        YamlTree.Scalar s = o.has(key) ? r.tree().scalar(o.get(key), o.child(key)) : null;
        if (p != null && s != null && !s.unresolved() && !Files.isReadable(p)) {
            r.tree().problem(o.get(key), o.child(key), "cannot read " + p + " (" + expected + ")");
        }
        return p;
    }

    @Override
    public OperationCondition condition(ConfigReader r, Node node, String path) {
        YamlTree tree = r.tree();
        Obj o = tree.obj(node, path, List.of("commands", "sudo", "writes", "unreadable", "shell"));
        if (o == null) return null;
        int before = tree.problemCount();
        List<String> commands = o.has("commands") ? tree.texts(o.get("commands"), o.child("commands")) : List.of();
        Boolean sudo = r.optional(o, "sudo", "true or false", Values::bool, false);
        Boolean writes = r.optional(o, "writes", "true or false", Values::bool, false);
        Boolean unreadable = r.optional(o, "unreadable", "true or false", Values::bool, false);
        Boolean shell = r.optional(o, "shell", "true or false", Values::bool, false);
        if (tree.problemCount() > before) return null;
        return new SshCondition(commands == null ? List.of() : commands, sudo, writes, unreadable, shell);
    }

    @Override
    public List<Operation> testOperations(ConfigReader r, Node node, String path) {
        YamlTree tree = r.tree();
        Obj o = tree.obj(node, path, List.of("command", "shell"));
        if (o == null) return null;
        if (o.has("shell")) return List.of(SshCommand.interactiveShell());
        if (!o.has("command")) {
            o.missing("command", "the exec string, e.g. \"systemctl status nginx\"");
            return null;
        }
        String command = tree.scalar(o.get("command"), o.child("command")).text();
        return command == null ? null : List.of(SshCommand.exec(command));
    }
}
