package dev.portcullis.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store shared by gateway replicas: PostgreSQL, its tables in a schema of their own ({@code portcullis}
 * by default) migrated by Flyway ({@code db/postgres/V*.sql}). Each replica appends to its own global chain ({@code audit_replica} holds
 * its head, every event and session carries its name), so replicas never contend for one head and a
 * replica's chain verifies on its own; approval requests are shared, and every change to one is announced
 * on {@value #APPROVALS_CHANNEL} to the replicas that {@link #listen}.
 *
 * <p>Writes go through one connection, under a lock (the indexer's batches and approval changes); reads
 * take pooled connections. Every method throws {@link AuditStoreException} when the database cannot answer.
 */
public final class PostgresStore implements IndexStore {
    private static final Logger log = LoggerFactory.getLogger(PostgresStore.class);

    /** The channel a change to an approval request is announced on; its payload is the request's id. */
    public static final String APPROVALS_CHANNEL = "portcullis_approvals";
    /** The channel replicas ask each other about live sessions on (see {@code server.ReplicaSessions}). */
    public static final String SESSIONS_CHANNEL = "portcullis_sessions";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final HikariDataSource pool;
    private final String url;
    private final Properties credentials;
    private final String replica;
    private final String where;
    private final ReentrantLock writeLock = new ReentrantLock();
    private Connection writer; // guarded by writeLock; reopened after a failure
    private final Map<String, PreparedStatement> writerStatements = new HashMap<>(); // guarded by writeLock
    private volatile boolean closed;

    private PostgresStore(HikariDataSource pool, String url, Properties credentials, String replica) {
        this.pool = pool;
        this.url = url;
        this.credentials = credentials;
        this.replica = replica;
        this.where = "PostgreSQL " + withoutQuery(url);
    }

    /**
     * Connects, migrates the schema and makes sure {@code replica} has its chain head.
     *
     * @throws AuditStoreException the database cannot be reached or migrated
     */
    public static PostgresStore open(String url, String user, String password, String schema, String replica, int poolSize) {
        return open(url, user, password, schema, replica, poolSize, true);
    }

    /** For reading every chain (the CLI): migrates, but registers no replica of its own. */
    public static PostgresStore openForReading(String url, String user, String password, String schema) {
        return open(url, user, password, schema, "(reader)", 2, false);
    }

    private static PostgresStore open(String url, String user, String password, String schema, String replica, int poolSize,
                                      boolean register) {
        if (!isSchemaName(schema)) throw new IllegalArgumentException("not a schema name: " + schema);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(1);
        config.setPoolName("portcullis-store");
        config.setSchema(schema); // the store's tables live in a schema of their own, created by the first migration
        config.setConnectionTimeout(CONNECT_TIMEOUT.toMillis());
        config.setValidationTimeout(Math.min(CONNECT_TIMEOUT.toMillis(), 2_000));
        config.setInitializationFailTimeout(CONNECT_TIMEOUT.toMillis());
        config.addDataSourceProperty("ApplicationName", "portcullis " + replica);
        config.addDataSourceProperty("connectTimeout", String.valueOf(CONNECT_TIMEOUT.toSeconds()));
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new AuditStoreException("cannot connect to the store at PostgreSQL " + withoutQuery(url) + ": " + rootMessage(e), e);
        }
        try {
            Flyway.configure().dataSource(pool).locations("classpath:db/postgres").schemas(schema).createSchemas(true)
                    .table("portcullis_schema_history").load().migrate();
            if (register) try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO audit_replica (replica_id, last_global_seq, last_global_hash, first_seen_at) VALUES (?, 0, ?, ?)"
                            + " ON CONFLICT (replica_id) DO NOTHING")) {
                ps.setString(1, replica);
                ps.setString(2, ChainHead.GENESIS);
                ps.setLong(3, Micros.of(java.time.Instant.now()));
                ps.executeUpdate();
            }
            Properties credentials = new Properties();
            credentials.setProperty("user", user);
            credentials.setProperty("password", password);
            credentials.setProperty("ApplicationName", "portcullis " + replica + " (notifications)");
            credentials.setProperty("connectTimeout", String.valueOf(CONNECT_TIMEOUT.toSeconds()));
            credentials.setProperty("currentSchema", schema);
            return new PostgresStore(pool, url, credentials, replica);
        } catch (SQLException | FlywayException e) {
            pool.close();
            throw new AuditStoreException("cannot prepare the store at PostgreSQL " + withoutQuery(url) + ": " + rootMessage(e), e);
        }
    }

    /** This process's chain: the name its events and sessions carry. */
    public String replica() {
        return replica;
    }

    @Override
    public String describe() {
        return where;
    }

    // ---------------------------------------------------------------------------------------------
    // Writes: one connection, one transaction at a time.

    @Override
    public <T> T write(String what, WriteWork<T> work) {
        writeLock.lock();
        try {
            ensureOpen();
            Connection c = writer();
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is gone; it is replaced below
                }
                if (!c.isValid(2)) dropWriter();
                throw e;
            }
        } catch (SQLException e) {
            throw new AuditStoreException("could not " + what + " in " + where + ": " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    private Connection writer() throws SQLException {
        if (writer == null || writer.isClosed()) {
            writerStatements.clear();
            writer = pool.getConnection();
            writer.setAutoCommit(false);
        }
        return writer;
    }

    private void dropWriter() {
        writerStatements.clear();
        try {
            if (writer != null) writer.close();
        } catch (SQLException ignored) {
            // replaced on the next write
        }
        writer = null;
    }

    private PreparedStatement prepared(String sql) throws SQLException {
        PreparedStatement ps = writerStatements.get(sql);
        if (ps == null) {
            ps = writer().prepareStatement(sql);
            writerStatements.put(sql, ps);
        } else {
            ps.clearBatch();
            ps.clearParameters();
        }
        return ps;
    }

    /** Commits are durable in PostgreSQL ({@code synchronous_commit} as the server has it); {@code sync} changes nothing. */
    @Override
    public List<StoredEvent> append(List<NewSession> sessions, List<LinkedEvent> events) {
        return write("append " + events.size() + " audit event(s)",
                c -> AuditAppend.inTransaction(c, this::prepared, sessions, events, replica));
    }

    @Override
    public void approvalChanged(Connection writer, String id) throws SQLException {
        try (PreparedStatement ps = writer.prepareStatement("SELECT pg_notify(?, ?)")) {
            ps.setString(1, APPROVALS_CHANNEL);
            ps.setString(2, id);
            ps.execute();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Reads

    @Override
    public Connection reader() throws SQLException {
        ensureOpen();
        return pool.getConnection();
    }

    /** This replica's head: where its next event links. */
    @Override
    public ChainHead head() {
        try (Connection c = reader(); PreparedStatement ps = c.prepareStatement(
                "SELECT last_global_seq, last_global_hash FROM audit_replica WHERE replica_id = ?")) {
            ps.setString(1, replica);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new AuditStoreException("the chain head of replica " + replica + " is missing from " + where);
                return new ChainHead(rs.getLong(1), rs.getString(2));
            }
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read the chain head of replica " + replica + " from " + where + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<SessionHead> sessionHead(String sessionId) {
        try (Connection c = reader()) {
            return EmbeddedStore.sessionHead(c, sessionId);
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read session " + sessionId + " from " + where + ": " + e.getMessage(), e);
        }
    }

    /** Every replica's sessions. */
    @Override
    public List<SessionSummary> sessions(SessionQuery query) {
        try (Connection c = reader()) {
            return EmbeddedStore.sessions(c, query);
        } catch (SQLException e) {
            throw new AuditStoreException("cannot list audit sessions in " + where + ": " + e.getMessage(), e);
        }
    }

    @Override
    public java.util.Optional<SessionSummary> session(String sessionId) {
        try (Connection c = reader()) {
            return EmbeddedStore.session(c, sessionId);
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read audit session " + sessionId + " from " + where + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<StoredEvent> events(String sessionId) {
        try (Connection c = reader()) {
            return EmbeddedStore.events(c, sessionId);
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read audit session " + sessionId + " from " + where + ": " + e.getMessage(), e);
        }
    }

    /**
     * Every replica's chain in turn, from one snapshot: its head, its sessions, its events. A replica is
     * any name a head, a session or an event carries, so rows left without their head still get checked
     * (and fail: their head is taken as the genesis).
     */
    @Override
    public void scan(AuditScan scan) {
        try (Connection c = reader()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            try {
                TreeSet<String> replicas = new TreeSet<>();
                Map<String, ChainHead> heads = new HashMap<>();
                try (Statement st = c.createStatement()) {
                    try (ResultSet rs = st.executeQuery("SELECT replica_id, last_global_seq, last_global_hash FROM audit_replica")) {
                        while (rs.next()) heads.put(rs.getString(1), new ChainHead(rs.getLong(2), rs.getString(3)));
                    }
                    replicas.addAll(heads.keySet());
                    try (ResultSet rs = st.executeQuery("SELECT DISTINCT replica_id FROM audit_session UNION SELECT DISTINCT replica_id FROM audit_event")) {
                        while (rs.next()) replicas.add(rs.getString(1));
                    }
                }
                for (String r : replicas) {
                    scan.chain(r);
                    scan.head(heads.getOrDefault(r, new ChainHead(0, ChainHead.GENESIS)));
                    try (PreparedStatement ps = c.prepareStatement("SELECT " + EmbeddedStore.SESSION_COLUMNS
                            + " FROM audit_session WHERE replica_id = ? ORDER BY id")) {
                        ps.setString(1, r);
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) scan.session(EmbeddedStore.session(rs));
                        }
                    }
                    try (PreparedStatement ps = c.prepareStatement("SELECT " + EmbeddedStore.EVENT_COLUMNS
                            + " FROM audit_event WHERE replica_id = ? ORDER BY global_seq")) {
                        ps.setFetchSize(1_000); // streamed, not held whole
                        ps.setString(1, r);
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) scan.event(EmbeddedStore.event(rs));
                        }
                    }
                }
            } finally {
                c.rollback();
                c.setReadOnly(false);
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new AuditStoreException("cannot scan the audit store in " + where + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Announcements between replicas

    /**
     * Listens for changes to approval requests on a connection of its own, on a daemon thread:
     * {@code onChange} gets the id of each request another gateway (or this one) changed, and null after
     * the connection was lost and made again, when anything may have changed unannounced. Close the
     * result to stop.
     */
    public AutoCloseable listen(Consumer<String> onChange) {
        return listen(onChange, message -> { });
    }

    /** As {@link #listen(Consumer)}, and {@code onSessions} gets every message on {@value #SESSIONS_CHANNEL}. */
    public AutoCloseable listen(Consumer<String> onChange, Consumer<String> onSessions) {
        Listener listener = new Listener(onChange, onSessions);
        listener.thread.start();
        return listener;
    }

    /** Sends {@code payload} (at most 7,999 bytes) on {@code channel} to every replica listening, this one included. */
    public void announce(String channel, String payload) {
        try (Connection c = reader(); PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
            ps.setString(1, channel);
            ps.setString(2, payload);
            ps.execute();
        } catch (SQLException e) {
            throw new AuditStoreException("cannot announce on " + channel + " through " + where + ": " + e.getMessage(), e);
        }
    }

    private final class Listener implements AutoCloseable {
        private final Consumer<String> onChange;
        private final Consumer<String> onSessions;
        private final Thread thread;
        private volatile boolean stopped;
        private volatile Connection connection;

        Listener(Consumer<String> onChange, Consumer<String> onSessions) {
            this.onChange = onChange;
            this.onSessions = onSessions;
            this.thread = Thread.ofPlatform().daemon().name("store-notifications").unstarted(this::run);
        }

        private void run() {
            long backoff = 100;
            boolean lost = false;
            while (!stopped) {
                try (Connection c = DriverManager.getConnection(url, credentials)) {
                    connection = c;
                    try (Statement st = c.createStatement()) {
                        st.execute("LISTEN " + APPROVALS_CHANNEL);
                        st.execute("LISTEN " + SESSIONS_CHANNEL);
                    }
                    if (lost) {
                        log.info("store notifications from {}: listening again", where);
                        onChange.accept(null); // what changed meanwhile was not announced: look again
                    }
                    backoff = 100;
                    PGConnection pg = c.unwrap(PGConnection.class);
                    while (!stopped) {
                        PGNotification[] notifications = pg.getNotifications(1_000);
                        if (notifications == null) continue;
                        for (PGNotification n : notifications) {
                            if (n.getName().equals(SESSIONS_CHANNEL)) onSessions.accept(n.getParameter());
                            else onChange.accept(n.getParameter());
                        }
                    }
                } catch (SQLException | RuntimeException e) {
                    if (stopped) return;
                    if (!lost) log.warn("store notifications from {} lost ({}); polling until they are back", where, rootMessage(e));
                    lost = true;
                    try {
                        Thread.sleep(backoff);
                    } catch (InterruptedException ie) {
                        return;
                    }
                    backoff = Math.min(5_000, backoff * 2);
                }
            }
        }

        @Override
        public void close() {
            stopped = true;
            Connection c = connection;
            try {
                if (c != null) c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
            thread.interrupt();
            try {
                thread.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    @Override
    public void close() {
        writeLock.lock();
        try {
            if (closed) return;
            closed = true;
            dropWriter();
            pool.close();
        } finally {
            writeLock.unlock();
        }
    }

    private void ensureOpen() {
        if (closed) throw new AuditStoreException("the store at " + where + " is closed");
    }

    /**
     * Whether {@code name} can name the store's schema: lower-case letters, digits and {@code _}, not starting
     * with a digit, at most 63 characters (PostgreSQL's limit). It is put in SQL as it is, so nothing else passes.
     */
    public static boolean isSchemaName(String name) {
        return name.matches("[a-z_][a-z0-9_]{0,62}");
    }

    /** A JDBC URL without its query, where options (and sometimes a password) are: for messages. */
    public static String withoutQuery(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    /** The first cause's message; for a network error, with its kind ("UnknownHostException: postgres"). */
    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        String m = t.getMessage();
        if (m == null) return t.getClass().getSimpleName();
        return t instanceof java.io.IOException ? t.getClass().getSimpleName() + ": " + m : m;
    }
}
