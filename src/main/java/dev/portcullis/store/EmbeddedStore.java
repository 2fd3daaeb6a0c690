package dev.portcullis.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The default store: one SQLite file in WAL mode, so another process (the CLI) reads while the
 * gateway writes. One writer connection, used under a lock; each read opens its own connection.
 * Commits are synchronous ({@code synchronous=FULL}): when {@link #append} returns, the events survive
 * a crash of the process or the machine.
 */
public final class EmbeddedStore implements IndexStore {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedStore.class);

    public static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(5);

    static final String SESSION_COLUMNS = "id, subject, token_id, connection_name, protocol, client_address,"
            + " started_at, last_event_at, last_seq, refused_count, last_hash";
    static final String EVENT_COLUMNS = "global_seq, session_id, seq, recorded_at, code, payload,"
            + " prev_hash, hash, global_prev_hash, global_hash";

    /**
     * The writer copies the write-ahead log into the file itself only when it has grown this large (pages):
     * normally the checkpoint thread does it first. A checkpoint is one call that writes every page the log
     * holds, milliseconds of CPU that a gateway thread woken on the same core would wait behind.
     */
    private static final int WRITER_CHECKPOINT_PAGES = 4096;
    private static final long CHECKPOINT_INTERVAL_MILLIS = 250;

    private final Path file;
    private final Duration busyTimeout;
    private final Connection writer;
    /** Copies the log into the file under {@code SCHED_IDLE}; started by the first append, guarded by {@link #writeLock}. */
    private Thread checkpointer;
    /** The kernel's id of {@link #checkpointer} once it runs (for tests to find it in /proc); 0 before. */
    private volatile int checkpointThreadId;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final java.util.concurrent.BlockingQueue<Connection> idleReaders = new java.util.concurrent.ArrayBlockingQueue<>(8);
    private volatile boolean closed;
    /** The writer's statements, prepared once; guarded by {@link #writeLock}. */
    private final Map<String, PreparedStatement> writerStatements = new java.util.HashMap<>();
    /** The writer's current {@code synchronous} setting; guarded by {@link #writeLock}. */
    private boolean synced = true;

    private EmbeddedStore(Path file, Duration busyTimeout, Connection writer) {
        this.file = file;
        this.busyTimeout = busyTimeout;
        this.writer = writer;
    }

    /** Opens (creating file and parent directories if needed) and migrates the store. */
    public static EmbeddedStore open(Path file) {
        return open(file, DEFAULT_BUSY_TIMEOUT);
    }

    /**
     * @param busyTimeout how long a statement waits for another process's lock before failing
     */
    public static EmbeddedStore open(Path file, Duration busyTimeout) {
        Path absolute = file.toAbsolutePath();
        try {
            if (absolute.getParent() != null) Files.createDirectories(absolute.getParent());
        } catch (IOException e) {
            throw new AuditStoreException("cannot create the directory of audit store " + absolute + ": " + e, e);
        }
        Connection writer = null;
        try {
            writer = connect(absolute, busyTimeout, false);
            try (Statement st = writer.createStatement()) {
                st.execute("PRAGMA wal_autocheckpoint = " + WRITER_CHECKPOINT_PAGES);
                st.execute("BEGIN IMMEDIATE");
                try {
                    Migrations.apply(writer, Clock.systemUTC());
                    st.execute("COMMIT");
                } catch (SQLException | RuntimeException e) {
                    st.execute("ROLLBACK");
                    throw e;
                }
            }
            return new EmbeddedStore(absolute, busyTimeout, writer);
        } catch (SQLException e) {
            closeQuietly(writer);
            throw new AuditStoreException("cannot open audit store " + absolute + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public String describe() {
        return file.toString();
    }

    /** Runs {@code work} in one synchronous (forced to disk) write transaction, under the write lock. */
    @Override
    public <T> T write(String what, WriteWork<T> work) {
        writeLock.lock();
        try {
            ensureOpen();
            try (Statement st = writer.createStatement()) {
                if (!synced) {
                    st.execute("PRAGMA synchronous = FULL");
                    synced = true;
                }
                st.execute("BEGIN IMMEDIATE");
                try {
                    T result = work.run(writer);
                    st.execute("COMMIT");
                    return result;
                } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(st);
                    throw e;
                }
            }
        } catch (SQLException e) {
            throw new AuditStoreException("could not " + what + " in " + file + ": " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public List<StoredEvent> append(List<NewSession> sessions, List<LinkedEvent> events) {
        return append(sessions, events, true);
    }

    @Override
    public List<StoredEvent> append(List<NewSession> sessions, List<LinkedEvent> events, boolean sync) {
        writeLock.lock();
        try {
            ensureOpen();
            if (checkpointer == null) {
                checkpointer = Thread.ofPlatform().name("audit-checkpoint").daemon(true).start(this::checkpointLoop);
            }
            try (Statement st = writer.createStatement()) {
                if (sync != synced) {
                    // WAL mode: FULL forces the log to disk at commit, NORMAL writes it to the OS only.
                    st.execute(sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
                    synced = sync;
                }
                st.execute("BEGIN IMMEDIATE");
                try {
                    List<StoredEvent> stored = AuditAppend.inTransaction(writer, this::prepared, sessions, events);
                    st.execute("COMMIT");
                    return stored;
                } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(st);
                    throw e;
                }
            }
        } catch (SQLException | RuntimeException e) {
            if (e instanceof AuditStoreException ase) throw ase;
            throw new AuditStoreException("could not append " + events.size() + " audit event(s) to " + file
                    + ": " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    private PreparedStatement prepared(String sql) throws SQLException {
        PreparedStatement ps = writerStatements.get(sql);
        if (ps == null) {
            ps = writer.prepareStatement(sql);
            writerStatements.put(sql, ps);
        } else {
            ps.clearBatch(); // a failed transaction may have left rows in it
            ps.clearParameters();
        }
        return ps;
    }

    @Override
    public List<SessionSummary> sessions(SessionQuery q) {
        try (Connection c = reader()) {
            return sessions(c, q);
        } catch (SQLException e) {
            throw new AuditStoreException("cannot list audit sessions in " + file + ": " + e.getMessage(), e);
        }
    }

    /** The sessions a query asks for, newest first; SQL both stores run. */
    static List<SessionSummary> sessions(Connection c, SessionQuery q) throws SQLException {
        String sql = "SELECT " + SESSION_COLUMNS + " FROM audit_session"
                + " WHERE (? = '' OR subject = ?) AND (? = '' OR connection_name = ?) AND (? = '' OR protocol = ?)"
                + " AND (? = 0 OR refused_count > 0)"
                + " AND started_at <= ? AND last_event_at >= ?"
                + " ORDER BY started_at DESC, id DESC LIMIT ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, q.subject());
            ps.setString(2, q.subject());
            ps.setString(3, q.connection());
            ps.setString(4, q.connection());
            ps.setString(5, q.protocol());
            ps.setString(6, q.protocol());
            ps.setInt(7, q.refusedOnly() ? 1 : 0);
            ps.setLong(8, Micros.of(q.to()));
            ps.setLong(9, Micros.of(q.from()));
            ps.setInt(10, q.limit());
            List<SessionSummary> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(session(rs));
            }
            return out;
        }
    }

    @Override
    public java.util.Optional<SessionSummary> session(String sessionId) {
        try (Connection c = reader()) {
            return session(c, sessionId);
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read audit session " + sessionId + " from " + file + ": " + e.getMessage(), e);
        }
    }

    /** One session's row; SQL both stores run. */
    static java.util.Optional<SessionSummary> session(Connection c, String sessionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + SESSION_COLUMNS + " FROM audit_session WHERE id = ?")) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? java.util.Optional.of(session(rs)) : java.util.Optional.empty();
            }
        }
    }

    @Override
    public List<StoredEvent> events(String sessionId) {
        try (Connection c = reader()) {
            return events(c, sessionId);
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read audit session " + sessionId + " from " + file + ": "
                    + e.getMessage(), e);
        }
    }

    /** One session's events in sequence order; SQL both stores run. */
    static List<StoredEvent> events(Connection c, String sessionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + EVENT_COLUMNS + " FROM audit_event WHERE session_id = ? ORDER BY seq")) {
            ps.setString(1, sessionId);
            List<StoredEvent> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(event(rs));
            }
            return out;
        }
    }

    /** One session's head; SQL both stores run. */
    static java.util.Optional<AuditStore.SessionHead> sessionHead(Connection c, String sessionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT last_seq, last_hash FROM audit_session WHERE id = ?")) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? java.util.Optional.of(new AuditStore.SessionHead(rs.getLong(1), rs.getString(2)))
                        : java.util.Optional.empty();
            }
        }
    }

    @Override
    public ChainHead head() {
        try (Connection c = reader()) {
            return readHead(c);
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read the chain head of " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public java.util.Optional<AuditStore.SessionHead> sessionHead(String sessionId) {
        try (Connection c = reader()) {
            return sessionHead(c, sessionId);
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read session " + sessionId + " of " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void scan(AuditScan scan) {
        try (Connection c = reader(); Statement st = c.createStatement()) {
            st.execute("BEGIN"); // one read transaction: a consistent snapshot while the gateway writes
            try {
                scan.head(readHead(c));
                try (ResultSet rs = st.executeQuery("SELECT " + SESSION_COLUMNS + " FROM audit_session ORDER BY id")) {
                    while (rs.next()) scan.session(session(rs));
                }
                try (ResultSet rs = st.executeQuery("SELECT " + EVENT_COLUMNS + " FROM audit_event ORDER BY global_seq")) {
                    while (rs.next()) scan.event(event(rs));
                }
            } finally {
                st.execute("COMMIT");
            }
        } catch (SQLException e) {
            throw new AuditStoreException("cannot scan audit store " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        Thread background;
        writeLock.lock();
        try {
            if (closed) return;
            closed = true;
            background = checkpointer;
            if (background != null) background.interrupt();
            closeQuietly(writer);
            for (Connection c; (c = idleReaders.poll()) != null; ) closeQuietly(c);
        } finally {
            writeLock.unlock();
        }
        if (background == null) return;
        try {
            background.join(2_000); // its connection closed too: nothing of the store stays open
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static ChainHead readHead(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT last_global_seq, last_global_hash FROM audit_chain_head WHERE id = 1")) {
            if (!rs.next()) throw new AuditStoreException("the global chain head row is missing");
            return new ChainHead(rs.getLong(1), rs.getString(2));
        }
    }

    static SessionSummary session(ResultSet rs) throws SQLException {
        return new SessionSummary(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), Micros.toInstant(rs.getLong(7)), Micros.toInstant(rs.getLong(8)),
                rs.getLong(9), rs.getLong(10), rs.getString(11));
    }

    static StoredEvent event(ResultSet rs) throws SQLException {
        return new StoredEvent(rs.getLong(1), rs.getString(2), rs.getLong(3), Micros.toInstant(rs.getLong(4)),
                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                rs.getString(10));
    }

    /**
     * A read-only connection; closing it returns it to a small pool of idle readers. Opening a SQLite
     * connection costs about 0.25 ms, which a grant lookup on the data path must not pay each time.
     */
    @Override
    public Connection reader() throws SQLException {
        ensureOpen();
        Connection c = idleReaders.poll();
        if (c == null || c.isClosed()) c = connect(file, busyTimeout, true);
        Connection pooled = c;
        return (Connection) java.lang.reflect.Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close") && method.getParameterCount() == 0) {
                        // Back to the pool only in its resting state: autocommit on, nothing open, store open.
                        if (closed || !pooled.getAutoCommit() || !idleReaders.offer(pooled)) pooled.close();
                        else if (closed && idleReaders.remove(pooled)) pooled.close(); // raced with close()
                        return null;
                    }
                    try {
                        return method.invoke(pooled, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /**
     * Copies the write-ahead log into the file every {@link #CHECKPOINT_INTERVAL_MILLIS} ms, on its own
     * connection, when a core is free ({@code SCHED_IDLE}). A passive checkpoint never blocks the writer;
     * if this thread gets no CPU for long (a saturated machine), the writer checkpoints itself at
     * {@link #WRITER_CHECKPOINT_PAGES}, as SQLite does by default at 1,000.
     */
    private void checkpointLoop() {
        Libc.idleSchedulingForCurrentThread();
        checkpointThreadId = Libc.currentThreadId();
        try (Connection c = connect(file, busyTimeout, false); Statement st = c.createStatement()) {
            while (!closed) {
                Thread.sleep(CHECKPOINT_INTERVAL_MILLIS);
                try {
                    st.execute("PRAGMA wal_checkpoint(PASSIVE)");
                } catch (SQLException e) {
                    log.debug("audit store {}: checkpoint: {}", file, e.getMessage()); // the writer's own follows
                }
            }
        } catch (InterruptedException e) {
            // closing
        } catch (SQLException e) {
            log.warn("audit store {}: no background checkpoints ({}); the writer checkpoints as it writes", file, e.getMessage());
        }
    }

    int checkpointThreadId() {
        return checkpointThreadId;
    }

    private void ensureOpen() {
        if (closed) throw new AuditStoreException("audit store " + file + " is closed");
    }

    private static Connection connect(Path file, Duration busyTimeout, boolean readOnly) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        if (!readOnly) config.setJournalMode(SQLiteConfig.JournalMode.WAL); // persistent in the file
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, busyTimeout.toMillis()));
        config.setReadOnly(readOnly);
        return config.createConnection(urlOf(file));
    }

    private static String urlOf(Path file) {
        return "jdbc:sqlite:" + file;
    }

    private static void rollbackQuietly(Statement st) {
        try {
            st.execute("ROLLBACK");
        } catch (SQLException ignored) {
            // the transaction is gone with the connection; the caller reports the original failure
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) return;
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing more to release
        }
    }
}
