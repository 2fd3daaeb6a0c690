package dev.portcullis.postgres;

import dev.portcullis.config.PostgresConnectionConfig;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a result column comes from. RowDescription names a column's table by OID and the column by
 * number; masking by column name needs the names, so they are looked up once per table on a
 * connection of the gateway's own and cached.
 */
final class ColumnCatalog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ColumnCatalog.class);

    /** A table's name and its columns by number. */
    record Table(String name, Map<Integer, String> columns) {
    }

    private final PostgresConnectionConfig config;
    private final Map<Integer, Table> tables = new ConcurrentHashMap<>();
    private UpstreamConnection connection;

    ColumnCatalog(PostgresConnectionConfig config) {
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
            PostgresConnectionConfig.Upstream u = config.upstream();
            connection = UpstreamConnection.open(u.host(), u.port(), u.database(), u.user(), u.password(),
                    Map.of("application_name", "portcullis-catalog"));
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

    /** Forgets cached tables (after DDL the gateway saw pass). */
    void invalidate() {
        tables.clear();
    }

    @Override
    public synchronized void close() {
        closeConnection();
        log.debug("catalog connection for {} closed", config.name());
    }
}
