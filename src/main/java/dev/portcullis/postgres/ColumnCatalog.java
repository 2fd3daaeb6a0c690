package dev.portcullis.postgres;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import dev.portcullis.sql.Lineage;
import dev.portcullis.sql.LineageException;
import dev.portcullis.sql.RelationCatalog;
import dev.portcullis.sql.SqlParseException;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a result column comes from. RowDescription names a column's table by OID and the column by
 * number; masking by column name needs the names, so they are looked up once per table on a
 * connection of the gateway's own and cached. The same connection answers what lineage asks
 * (a relation's columns, a view's definition) and keeps each statement's lineage, so a statement
 * run again under a mask rule is analysed once. Both caches are dropped after DDL the gateway sees,
 * and entries older than {@link #LINEAGE_TTL_NANOS} are analysed again (DDL run around the gateway).
 */
final class ColumnCatalog implements AutoCloseable, RelationCatalog {
    static final long LINEAGE_TTL_NANOS = 30_000_000_000L;
    private static final int LINEAGE_ENTRIES = 4_096;
    private static final Logger log = LoggerFactory.getLogger(ColumnCatalog.class);

    /** A table's name and its columns by number. */
    record Table(String name, Map<Integer, String> columns) {
    }

    private final PostgresConnectionConfig config;
    private final Map<Integer, Table> tables = new ConcurrentHashMap<>();
    private UpstreamConnection connection;

    private record Timed<T>(T value, long loadedAtNanos) {
        boolean fresh() {
            return System.nanoTime() - loadedAtNanos < LINEAGE_TTL_NANOS;
        }
    }

    private final Map<String, Timed<Optional<Relation>>> relations = new ConcurrentHashMap<>();
    /** Lineage by statement text, least recently used dropped first. */
    private final Map<String, Timed<Lineage>> lineages = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Timed<Lineage>> eldest) {
                    return size() > LINEAGE_ENTRIES;
                }
            });

    private final UpstreamDialer dialer;

    ColumnCatalog(PostgresConnectionConfig config, UpstreamDialer dialer) {
        this.dialer = dialer;
        this.config = config;
    }

    /** The table of that OID, or null when it cannot be known (the caller then relies on content detectors). */
    Table table(int tableOid) throws IOException {
        if (tableOid == 0) return null;
        Table cached = tables.get(tableOid);
        if (cached != null) return cached;
        synchronized (this) {
            cached = tables.get(tableOid);
            if (cached != null) return cached;
            Table loaded = load(tableOid);
            if (loaded != null) tables.put(tableOid, loaded);
            return loaded;
        }
    }

    /** A table's columns in order, by its name as written in a statement; empty when unknown. */
    synchronized List<String> columnsOf(String table) throws IOException {
        String literal = "'" + table.replace("'", "''") + "'";
        List<byte[][]> rows = query("SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass(" + literal
                + ") AND attnum > 0 AND NOT attisdropped ORDER BY attnum");
        List<String> names = new java.util.ArrayList<>(rows.size());
        for (byte[][] row : rows) names.add(text(row[0]));
        return names;
    }

    private Table load(int tableOid) throws IOException {
        String sql = "SELECT c.relname, a.attnum, a.attname FROM pg_catalog.pg_attribute a"
                + " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
                + " WHERE a.attrelid = " + Integer.toUnsignedString(tableOid) + " AND a.attnum > 0";
        List<byte[][]> rows;
        try {
            rows = query(sql);
        } catch (IOException e) {
            closeConnection();
            rows = query(sql); // one retry on a fresh connection
        }
        if (rows.isEmpty()) return null;
        Map<Integer, String> columns = new HashMap<>();
        String name = null;
        for (byte[][] row : rows) {
            name = text(row[0]);
            columns.put(Integer.parseInt(text(row[1])), text(row[2]));
        }
        return new Table(name, Map.copyOf(columns));
    }

    private List<byte[][]> query(String sql) throws IOException {
        UpstreamConnection c = connection();
        c.writer().write(new FrontendMessage.Query(sql));
        c.writer().flush();
        List<byte[][]> rows = new java.util.ArrayList<>();
        String error = null;
        while (true) {
            BackendMessage m = c.reader().readBackend();
            switch (m) {
                case BackendMessage.DataRow row -> rows.add(row.values());
                case BackendMessage.ErrorResponse e -> error = e.fields().getOrDefault('M', "error");
                case BackendMessage.ReadyForQuery r -> {
                    if (error != null) throw new IOException("catalog lookup failed: " + error);
                    return rows;
                }
                default -> {
                    // RowDescription, CommandComplete, notices: nothing to keep
                }
            }
        }
    }

    private UpstreamConnection connection() throws IOException {
        if (connection == null) {
            connection = dialer.open(Map.of("application_name", "portcullis-catalog"));
        }
        return connection;
    }

    private void closeConnection() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    private static String text(byte[] value) {
        return value == null ? "" : new String(value, java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * The type OIDs of a query's result columns, as the server describes them (Parse and Describe on the
     * catalog connection; nothing runs); empty when it cannot tell.
     */
    synchronized List<Integer> resultTypes(String query) {
        try {
            UpstreamConnection c = connection();
            c.writer().write(new FrontendMessage.Parse("", query, List.of()));
            c.writer().write(new FrontendMessage.Describe(FrontendMessage.Target.STATEMENT, ""));
            c.writer().write(new FrontendMessage.Sync());
            c.writer().flush();
            List<Integer> types = List.of();
            boolean failed = false;
            while (true) {
                BackendMessage m = c.reader().readBackend();
                switch (m) {
                    case BackendMessage.RowDescription d -> types = d.fields().stream().map(BackendMessage.Field::typeOid).toList();
                    case BackendMessage.ErrorResponse e -> failed = true;
                    case BackendMessage.ReadyForQuery r -> {
                        return failed ? List.of() : types;
                    }
                    default -> { }
                }
            }
        } catch (IOException e) {
            closeConnection();
            return List.of();
        }
    }

    private final Map<Integer, Boolean> stringTypes = new ConcurrentHashMap<>();

    /**
     * Whether a type's values are strings (its category is S: citext, a domain over text, varchar...), so a
     * masked value of it may read "[masked]"; false when unknown or the lookup fails (the value then becomes NULL).
     */
    boolean isStringType(int typeOid) {
        Boolean cached = stringTypes.get(typeOid);
        if (cached != null) return cached;
        boolean string;
        synchronized (this) {
            try {
                List<byte[][]> rows = query("SELECT typcategory FROM pg_catalog.pg_type WHERE oid = " + Integer.toUnsignedString(typeOid));
                string = !rows.isEmpty() && "S".equals(text(rows.getFirst()[0]));
            } catch (IOException e) {
                closeConnection();
                return false;
            }
        }
        stringTypes.put(typeOid, string);
        return string;
    }

    /** Forgets cached tables, relations and lineages (after DDL the gateway saw pass). */
    void invalidate() {
        tables.clear();
        relations.clear();
        lineages.clear();
    }

    /**
     * The lineage of one statement's text, analysed once and kept.
     *
     * @throws LineageException when it cannot be proven (or the catalog cannot answer): refuse the statement
     */
    Lineage lineage(String statement) throws LineageException {
        String key = dev.portcullis.sql.SqlParser.lineageKey(statement); // one lineage for every text of a shape
        Timed<Lineage> cached = lineages.get(key);
        if (cached != null && cached.fresh()) return cached.value();
        Lineage lineage;
        try {
            lineage = Lineage.of(statement, this);
        } catch (SqlParseException e) {
            throw new LineageException("the statement does not parse: " + e.getMessage());
        } catch (IllegalStateException e) {
            throw new LineageException(e.getMessage());
        }
        lineages.put(key, new Timed<>(lineage, System.nanoTime()));
        return lineage;
    }

    @Override
    public Optional<Relation> relation(Optional<String> schema, String name) throws LineageException {
        String regclass = (schema.map(s -> quoteIdent(s) + ".").orElse("")) + quoteIdent(name);
        Timed<Optional<Relation>> cached = relations.get(regclass);
        if (cached != null && cached.fresh()) return cached.value();
        Optional<Relation> loaded;
        synchronized (this) {
            try {
                loaded = loadRelation(regclass);
            } catch (IOException e) {
                closeConnection();
                throw new LineageException("the catalog lookup of " + regclass + " failed: " + e.getMessage());
            }
        }
        relations.put(regclass, new Timed<>(loaded, System.nanoTime()));
        return loaded;
    }

    private Optional<Relation> loadRelation(String regclass) throws IOException {
        String oid = "pg_catalog.to_regclass(" + literal(regclass) + ")";
        List<byte[][]> rows = query("SELECT n.nspname, c.relname, CASE WHEN c.relkind IN ('v', 'm')"
                + " THEN pg_catalog.pg_get_viewdef(c.oid) END, a.attname"
                + " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
                + " WHERE c.oid = " + oid + " ORDER BY a.attnum");
        if (rows.isEmpty()) return Optional.empty();
        List<String> columns = new java.util.ArrayList<>();
        for (byte[][] row : rows) if (row[3] != null) columns.add(text(row[3]));
        Optional<String> definition = Optional.ofNullable(rows.getFirst()[2]).map(ColumnCatalog::text);
        List<String> ancestors = new java.util.ArrayList<>();
        for (byte[][] row : query("WITH RECURSIVE up(oid) AS (SELECT inhparent FROM pg_catalog.pg_inherits WHERE inhrelid = " + oid
                + " UNION SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.oid)"
                + " SELECT n.nspname, c.relname FROM up JOIN pg_catalog.pg_class c ON c.oid = up.oid"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace")) {
            ancestors.add(text(row[0]) + "." + text(row[1]));
        }
        return Optional.of(new Relation(text(rows.getFirst()[0]), text(rows.getFirst()[1]), columns, definition, ancestors));
    }

    /** An identifier as the server reads it back: double-quoted, so the parser's resolved name is kept exactly. */
    private static String quoteIdent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /** An escape-string literal: the same text whatever standard_conforming_strings says. */
    private static String literal(String text) {
        return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    @Override
    public synchronized void close() {
        closeConnection();
        log.debug("catalog connection for {} closed", config.name());
    }
}
