package dev.portcullis.postgres;

import dev.portcullis.config.ConfigReader;
import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.ConnectionSection;
import dev.portcullis.config.ProtocolModule;
import dev.portcullis.config.TlsConfig;
import dev.portcullis.config.Values;
import dev.portcullis.config.YamlTree;
import dev.portcullis.config.YamlTree.Obj;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Operation;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.masking.Redactor;
import dev.portcullis.policy.OperationCondition;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.SqlCondition;
import dev.portcullis.policy.Verdict;
import dev.portcullis.sql.Lineage;
import dev.portcullis.sql.LineageException;
import dev.portcullis.sql.MaskedLineage;
import dev.portcullis.sql.RelationCatalog;
import dev.portcullis.sql.SqlParseException;
import dev.portcullis.sql.SqlParser;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The PostgreSQL protocol module: connections of {@code type: postgres}, rule conditions under
 * {@code when.sql}, policy test cases with {@code sql: "..."} (and their lineage masking, resolved
 * through the test file's {@code catalog:}). It needs libpg_query, and says so at start-up when it is missing.
 */
public final class PostgresProtocol implements ProtocolModule {

    @Override
    public String type() {
        return "postgres";
    }

    @Override
    public String operationKey() {
        return "sql";
    }

    @Override
    public String testCaseExample() {
        return "\"SELECT ...\"";
    }

    @Override
    public List<String> connectionKeys() {
        return List.of("upstream", "tls", "allow-plaintext", "max-message-bytes", "recorded-rows", "redact");
    }

    @Override
    public Optional<String> unavailableBecause() {
        try {
            SqlParser.requireAvailable();
            return Optional.empty();
        } catch (IllegalStateException | LinkageError e) {
            return Optional.of("PostgreSQL's parser (libpg_query) cannot be loaded: " + e.getMessage()
                    + "; install Debian's libpg-query-dev (or set the library path), since statements cannot be judged without it");
        }
    }

    @Override
    public Listener start(ConnectionConfig connection, ListenerContext context) throws Exception {
        PostgresConnectionConfig pg = (PostgresConnectionConfig) connection;
        PgListener listener = PgListener.start(pg, context.gate(), context.tunnels());
        return Listener.of(listener, listener.port(), pg.listen().getHostString() + ":" + listener.port() + " → " + pg.upstream());
    }

    @Override
    public List<Operation> testOperations(ConfigReader r, Node node, String path) throws UnjudgeableException {
        String sql = r.tree().scalar(node, path).text();
        if (sql == null) return null;
        try {
            List<Operation> operations = List.copyOf(SqlParser.parse(sql));
            if (operations.isEmpty()) {
                r.tree().problem(node, path, "expected at least one SQL statement");
                return null;
            }
            return operations;
        } catch (SqlParseException e) {
            throw new UnjudgeableException("the SQL does not parse: " + e.getMessage() + " (at character " + e.cursorPosition() + ")");
        }
    }

    /** What lineage masking does with a case's statements: "masked columns [a, b]" or "refused: why". */
    @Override
    public Optional<TestMasking> testMasking(ConfigReader reader, Optional<Node> catalogNode) {
        RelationCatalog catalog = catalogNode.map(n -> catalog(reader.tree(), n)).orElse((schema, name) -> Optional.empty());
        return Optional.of((policy, identity, operations) -> masking(catalog, policy, identity, operations));
    }

    private static String masking(RelationCatalog catalog, Policy policy, Identity identity, List<Operation> operations) {
        List<String> masked = List.of();
        for (Operation op : operations) {
            if (!(op instanceof SqlStatement s)) return "refused: masked-columns applies to sql cases only";
            if (!(policy.decide(identity, s).verdict() instanceof Verdict.Mask m)) continue;
            try {
                Lineage lineage = Lineage.of(s.text(), catalog);
                BitSet bits = MaskedLineage.maskedOutputs(lineage, m.plan(), m.ruleId());
                List<String> names = new ArrayList<>();
                bits.stream().forEach(i -> names.add(lineage.outputs().get(i).name()));
                masked = names;
            } catch (MaskedLineage.Refused e) {
                return "refused: " + e.getMessage();
            } catch (LineageException e) {
                return "refused: masking cannot be guaranteed: " + e.getMessage();
            } catch (SqlParseException e) {
                return "refused: " + e.getMessage();
            }
        }
        return "masked columns " + masked;
    }

    /** The test file's catalog: a table's column list, or a view's definition. */
    private static RelationCatalog catalog(YamlTree tree, Node node) {
        Map<String, RelationCatalog.Relation> relations = new LinkedHashMap<>();
        Map<String, Node> entries = tree.entries(node, "catalog");
        if (entries == null) return (schema, name) -> Optional.empty();
        Map<String, String> views = new LinkedHashMap<>();
        entries.forEach((name, value) -> {
            if (value instanceof SequenceNode) {
                List<String> columns = tree.texts(value, "catalog." + name);
                if (columns != null) relations.put(name, new RelationCatalog.Relation(schemaOf(name), name, columns, Optional.empty(), List.of()));
            } else {
                String definition = tree.scalar(value, "catalog." + name).text();
                if (definition != null) views.put(name, definition);
            }
        });
        RelationCatalog tables = (schema, name) -> Optional.ofNullable(relations.get(name));
        views.forEach((name, definition) -> {
            try {
                List<String> columns = Lineage.of(definition, tables).outputs().stream().map(Lineage.Output::name).toList();
                relations.put(name, new RelationCatalog.Relation(schemaOf(name), name, columns, Optional.of(definition), List.of()));
            } catch (LineageException | SqlParseException e) {
                tree.problem(entries.get(name), "catalog." + name, "a view's definition over the tables above: " + e.getMessage());
            }
        });
        return tables;
    }

    /** As in PostgreSQL, pg_* relations are the catalog's; the file's other relations are in public. */
    private static String schemaOf(String name) {
        return name.startsWith("pg_") ? "pg_catalog" : "public";
    }

    private static String agentCredentials(String text) {
        if (!text.equals("agent")) throw new IllegalArgumentException("the only value is agent");
        return text;
    }

    @Override
    public ConnectionConfig connection(ConnectionSection section) {
        ConfigReader r = section.reader();
        Obj o = section.keys();
        String name = section.name();
        InetSocketAddress listen = section.listen();
        PostgresConnectionConfig.Upstream upstream = null;
        if (!o.has("upstream")) o.missing("upstream", "a mapping with host, port, database, user and password");
        else {
            Obj u = r.tree().obj(o.get("upstream"), o.child("upstream"), List.of("host", "port", "database", "user", "password", "via", "credentials"));
            if (u != null) {
                String host = r.required(u, "host", "a host name or address", Values::nonBlank, "127.0.0.1");
                Integer port = r.optional(u, "port", "a port number 1-65535", ConfigReader::port, 5432);
                String database = r.required(u, "database", "a database name", Values::nonBlank, "postgres");
                Optional<String> via = u.has("via") ? Optional.ofNullable(r.optional(u, "via", "agent NAME", Values::viaAgent, null)) : Optional.empty();
                // credentials: agent: the network agent logs in with its own (they never leave the private network)
                boolean agentHolds = u.has("credentials") && "agent".equals(r.optional(u, "credentials", "agent", PostgresProtocol::agentCredentials, null));
                if (agentHolds && !u.has("via")) u.missing("via", "agent NAME: credentials: agent needs the agent that holds them");
                if (agentHolds && (u.has("user") || u.has("password"))) {
                    r.tree().problem(u.get("credentials"), u.child("credentials"), "with credentials: agent, the agent holds the user and password: remove them here");
                }
                String user = agentHolds ? UpstreamConnection.AGENT_LOGIN_USER : r.required(u, "user", "a database role", Values::nonBlank, "postgres");
                String password = agentHolds ? "" : r.secret(u, "password");
                if (host != null && port != null && database != null && user != null && password != null) {
                    upstream = new PostgresConnectionConfig.Upstream(host, port, database, user, password, via);
                }
            }
        }
        Optional<TlsConfig> tls = r.tls(o);
        Boolean allowPlaintext = r.optional(o, "allow-plaintext", "true or false", Values::bool, false);
        if (tls.isEmpty() && Boolean.FALSE.equals(allowPlaintext)) {
            o.missing("tls", "a tls key store, or allow-plaintext: true (only where the network is trusted)");
        }
        Integer maxMessageBytes = r.optional(o, "max-message-bytes", "a size in bytes", Values::intSize, 64 * 1024 * 1024);
        Integer recordedRows = r.optional(o, "recorded-rows", "a number of rows", Values::intSize, 5);
        Redactor redactor = r.redactor(o);
        if (section.hasProblems()) return null;
        return new PostgresConnectionConfig(name, listen, upstream, tls, allowPlaintext, maxMessageBytes, recordedRows,
                section.policy(), redactor);
    }

    @Override
    public OperationCondition condition(ConfigReader r, Node node, String path) {
        Obj o = r.tree().obj(node, path, SQL_KEYS);
        if (o == null) return null;
        int before = r.tree().problemCount();
        Set<SqlStatement.Kind> kinds = new LinkedHashSet<>();
        if (o.has("kinds")) {
            List<Node> items = r.tree().list(o.get("kinds"), o.child("kinds"));
            for (int i = 0; items != null && i < items.size(); i++) {
                SqlStatement.Kind k = r.tree().convert(items.get(i), o.child("kinds") + "[" + i + "]",
                        "one of " + String.join(", ", SQL_KINDS), ConfigReader.quiet(SqlStatement.Kind::fromConfigName), null);
                if (k != null) kinds.add(k);
            }
            if (items != null && items.isEmpty()) r.tree().problem(o.get("kinds"), o.child("kinds"), "expected a non-empty list");
        }
        List<SqlCondition.NamePattern> tables = namePatterns(r, o, "tables");
        List<SqlCondition.NamePattern> functions = namePatterns(r, o, "functions");
        Optional<Boolean> hasWhere = Optional.ofNullable(r.optional(o, "has-where", "true or false", Values::bool, null));
        Optional<Boolean> readOnly = Optional.ofNullable(r.optional(o, "read-only", "true or false", Values::bool, null));
        Map<SqlStatement.Effect, Boolean> effects = new LinkedHashMap<>();
        for (Map.Entry<String, SqlStatement.Effect> e : SQL_EFFECTS.entrySet()) {
            Boolean value = r.optional(o, e.getKey(), "true or false", Values::bool, null);
            if (value != null) effects.put(e.getValue(), value);
        }
        if (r.tree().problemCount() > before) return null;
        return new SqlCondition(kinds, tables, functions, hasWhere, readOnly, effects);
    }

    private static List<SqlCondition.NamePattern> namePatterns(ConfigReader r, Obj o, String key) {
        List<SqlCondition.NamePattern> out = new ArrayList<>();
        if (!o.has(key)) return out;
        List<Node> items = r.tree().list(o.get(key), o.child(key));
        for (int i = 0; items != null && i < items.size(); i++) {
            SqlCondition.NamePattern p = r.tree().convert(items.get(i), o.child(key) + "[" + i + "]",
                    "name, schema.name or schema.*", SqlCondition.NamePattern::of, null);
            if (p != null) out.add(p);
        }
        if (items != null && items.isEmpty()) r.tree().problem(o.get(key), o.child(key), "expected a non-empty list");
        return out;
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
}
