package dev.portcullis.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of one append transaction of {@link EmbeddedStore}: new sessions inserted, each event checked
 * to continue its session's chain and the global one as the store holds them (a batch that does not is
 * refused whole), then inserted with the hashes it carries, and the heads moved on.
 */
final class AuditAppend {
    /** The writer connection's prepared statements, cached by SQL text. */
    interface Statements {
        PreparedStatement get(String sql) throws SQLException;
    }

    /**
     * Events inserted into the embedded store between two yields of the CPU: about 200 µs of work (an
     * event costs ~12 µs to index), a fraction of the ~1 ms an unbroken batch of a busy moment takes.
     */
    static final int YIELD_EVERY = 16;

    private AuditAppend() {
    }

    static List<StoredEvent> inTransaction(Connection writer, Statements prepared, List<NewSession> sessions,
                                           List<LinkedEvent> events) throws SQLException {
        return inTransaction(writer, prepared, sessions, events, null);
    }

    /**
     * @param replica the replica whose chain this batch continues, in a store shared by replicas (its
     *                sessions and events carry it, its head is its own row); null for the embedded store
     */
    static List<StoredEvent> inTransaction(Connection writer, Statements prepared, List<NewSession> sessions,
                                           List<LinkedEvent> events, String replica) throws SQLException {
        boolean shared = replica != null;
        {
            PreparedStatement ps = prepared.get("INSERT INTO audit_session (" + EmbeddedStore.SESSION_COLUMNS
                    + (shared ? ", replica_id" : "") + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?" + (shared ? ", ?" : "") + ")");
            for (NewSession s : sessions) {
                long started = Micros.of(s.startedAt());
                ps.setString(1, s.id());
                ps.setString(2, s.subject());
                ps.setString(3, s.tokenId());
                ps.setString(4, s.connection());
                ps.setString(5, s.protocol());
                ps.setString(6, s.clientAddress());
                ps.setLong(7, started);
                ps.setLong(8, started);
                ps.setString(9, ChainHead.GENESIS);
                if (shared) ps.setString(10, replica);
                ps.addBatch();
            }
            if (!sessions.isEmpty()) ps.executeBatch();
        }

        ChainHead head = shared ? readReplicaHead(prepared, replica) : EmbeddedStore.readHead(writer);
        long globalSeq = head.lastGlobalSeq();
        String globalHash = head.lastGlobalHash();
        Map<String, SessionTail> heads = new LinkedHashMap<>();
        {
            PreparedStatement find = prepared.get("SELECT last_seq, last_hash, last_event_at FROM audit_session WHERE id = ?");
            PreparedStatement insert = prepared.get("INSERT INTO audit_event (" + EmbeddedStore.EVENT_COLUMNS
                    + (shared ? ", replica_id" : "") + ") VALUES (?, ?, ?, ?, ?, " + (shared ? "?" : "CAST(? AS TEXT)")
                    + ", ?, ?, ?, ?" + (shared ? ", ?" : "") + ")");
            int unsent = 0;
            for (LinkedEvent linked : events) {
                NewEvent e = linked.event();
                ChainLink link = linked.link();
                SessionTail sh = heads.get(e.sessionId());
                if (sh == null) {
                    sh = readSessionHead(find, e.sessionId());
                    heads.put(e.sessionId(), sh);
                }
                // The recorder computed the hashes; the store only checks they continue what it holds.
                if (link.seq() != sh.lastSeq + 1 || !link.prevHash().equals(sh.lastHash)) {
                    throw new AuditStoreException("event " + link.seq() + " of session " + e.sessionId()
                            + " does not continue its chain (the store holds event " + sh.lastSeq
                            + "); was it appended by another writer?");
                }
                if (link.globalSeq() != globalSeq + 1 || !link.globalPrevHash().equals(globalHash)) {
                    throw new AuditStoreException("event " + link.globalSeq() + " does not continue the global chain"
                            + " (the store holds " + globalSeq + "); was it appended by another writer?");
                }
                long at = Micros.of(e.recordedAt());
                insert.setLong(1, link.globalSeq());
                insert.setString(2, e.sessionId());
                insert.setLong(3, link.seq());
                insert.setLong(4, at);
                insert.setString(5, e.code());
                // SQLite takes the payload's UTF-8 bytes as they are (a blob made text, no encoding); PostgreSQL its text.
                if (shared) insert.setString(6, e.payload());
                else insert.setBytes(6, e.payloadUtf8());
                insert.setString(7, link.prevHash());
                insert.setString(8, link.hash());
                insert.setString(9, link.globalPrevHash());
                insert.setString(10, link.globalHash());
                if (shared) insert.setString(11, replica);
                insert.addBatch();
                unsent++;
                if (!shared && unsent == YIELD_EVERY) {
                    // The embedded store's inserts are this process's CPU: in slices, each followed by a
                    // yield, so a data-path thread woken on this core waits for one slice, not the batch.
                    insert.executeBatch();
                    unsent = 0;
                    Thread.yield();
                }
                sh.lastSeq = link.seq();
                sh.lastHash = link.hash();
                sh.lastEventAt = Math.max(sh.lastEventAt, at);
                if (e.refused()) sh.refusedAdded++;
                globalSeq = link.globalSeq();
                globalHash = link.globalHash();
            }
            if (unsent > 0) insert.executeBatch();
        }
        {
            PreparedStatement ps = prepared.get("UPDATE audit_session SET last_seq = ?, last_hash = ?,"
                    + " last_event_at = ?, refused_count = refused_count + ? WHERE id = ?");
            for (Map.Entry<String, SessionTail> entry : heads.entrySet()) {
                SessionTail sh = entry.getValue();
                ps.setLong(1, sh.lastSeq);
                ps.setString(2, sh.lastHash);
                ps.setLong(3, sh.lastEventAt);
                ps.setLong(4, sh.refusedAdded);
                ps.setString(5, entry.getKey());
                ps.addBatch();
            }
            if (!heads.isEmpty()) ps.executeBatch();
        }
        {
            PreparedStatement ps = prepared.get(shared
                    ? "UPDATE audit_replica SET last_global_seq = ?, last_global_hash = ? WHERE replica_id = ?"
                    : "UPDATE audit_chain_head SET last_global_seq = ?, last_global_hash = ? WHERE id = 1");
            ps.setLong(1, globalSeq);
            ps.setString(2, globalHash);
            if (shared) ps.setString(3, replica);
            if (ps.executeUpdate() != 1) throw new AuditStoreException("the global chain head row is missing");
        }
        return StoredEvent.appended(events);
    }

    /** This replica's head, locked until the transaction ends (another process with the same replica id waits). */
    private static ChainHead readReplicaHead(Statements prepared, String replica) throws SQLException {
        PreparedStatement ps = prepared.get("SELECT last_global_seq, last_global_hash FROM audit_replica WHERE replica_id = ? FOR UPDATE");
        ps.setString(1, replica);
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) throw new AuditStoreException("the chain head of replica " + replica + " is missing");
            return new ChainHead(rs.getLong(1), rs.getString(2));
        }
    }

    private static SessionTail readSessionHead(PreparedStatement find, String sessionId) throws SQLException {
        find.setString(1, sessionId);
        try (ResultSet rs = find.executeQuery()) {
            if (!rs.next()) throw new AuditStoreException("no audit session " + sessionId);
            return new SessionTail(rs.getLong(1), rs.getString(2), rs.getLong(3));
        }
    }

    private static final class SessionTail {
        long lastSeq;
        String lastHash;
        long lastEventAt;
        long refusedAdded;

        SessionTail(long lastSeq, String lastHash, long lastEventAt) {
            this.lastSeq = lastSeq;
            this.lastHash = lastHash;
            this.lastEventAt = lastEventAt;
        }
    }
}
