package dev.portcullis.testprotocol;

import dev.portcullis.config.ConfigReader;
import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.ConnectionSection;
import dev.portcullis.config.ProtocolModule;
import dev.portcullis.config.Values;
import dev.portcullis.config.YamlTree;
import dev.portcullis.core.Operation;
import dev.portcullis.policy.OperationCondition;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * A line-based echo protocol that exists only in test sources, registered by one line
 * ({@code ProtocolRegistry.installed().with(new EchoProtocol())}; a shipped protocol's line goes in
 * {@code META-INF/services/dev.portcullis.config.ProtocolModule}): it proves that a protocol is its own
 * package plus one registration line. Everything else (identity, policy, the
 * approval flow, masking, recording) is the core's.
 *
 * <pre>
 * connections:
 *   - name: echo
 *     type: echo
 *     listen: 127.0.0.1:0
 *     upstream: 127.0.0.1:7007      # an echo server
 *     policy:
 *       rules:
 *         - id: no-dropping
 *           when: {echo: {verbs: [shout], contains: drop}}
 *           action: deny
 * </pre>
 */
public final class EchoProtocol implements ProtocolModule {

    @Override
    public String type() {
        return "echo";
    }

    @Override
    public String operationKey() {
        return "echo";
    }

    @Override
    public String testCaseExample() {
        return "\"say hello\"";
    }

    @Override
    public List<String> connectionKeys() {
        return List.of("upstream");
    }

    @Override
    public ConnectionConfig connection(ConnectionSection section) {
        ConfigReader r = section.reader();
        InetSocketAddress upstream = r.required(section.keys(), "upstream", "host:port of the echo server", Values::listen,
                InetSocketAddress.createUnresolved("unset.invalid", 1));
        if (section.hasProblems()) return null;
        return new EchoConnectionConfig(section.name(), section.listen(), upstream, section.policy());
    }

    @Override
    public OperationCondition condition(ConfigReader r, Node block, String path) {
        YamlTree.Obj o = r.tree().obj(block, path, List.of("verbs", "contains"));
        if (o == null) return null;
        int before = r.tree().problemCount();
        Set<String> verbs = o.has("verbs") ? r.textSet(o, "verbs") : Set.of();
        Optional<String> contains = Optional.ofNullable(r.optional(o, "contains", "text", t -> t, null));
        return r.tree().problemCount() > before ? null : new EchoCondition(verbs, contains);
    }

    @Override
    public List<Operation> testOperations(ConfigReader r, Node block, String path) throws UnjudgeableException {
        String line = r.tree().scalar(block, path).text();
        if (line == null) return null;
        if (line.isBlank()) throw new UnjudgeableException("an echo command is a verb and text, not an empty line");
        return List.of(EchoCommand.parse(line));
    }

    @Override
    public Listener start(ConnectionConfig connection, ListenerContext context) throws Exception {
        EchoConnectionConfig echo = (EchoConnectionConfig) connection;
        EchoListener listener = EchoListener.start(echo, context.gate());
        return Listener.of(listener, listener.port(), echo.listen().getHostString() + ":" + listener.port() + " → " + echo.upstream());
    }
}
