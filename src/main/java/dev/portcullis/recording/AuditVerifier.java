package dev.portcullis.recording;

import dev.portcullis.recording.VerifyReport.Kind;
import dev.portcullis.recording.VerifyReport.Problem;
import dev.portcullis.store.AuditScan;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.ChainHead;
import dev.portcullis.store.SessionSummary;
import dev.portcullis.store.StoredEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Re-computes both hash chains over a consistent snapshot of the store and reports every break.
 *
 * <p>Per session: each event's hash must match its contents, link to its predecessor's hash, and the
 * session head (last seq and hash, kept in the session row) must match the last event, so deleting the
 * tail shows. Globally: every event carries a global sequence number and hash chained across sessions,
 * and the store keeps the global head, so deleting a whole session shows as a gap. A store shared by
 * replicas holds one global chain per replica (each replica appends only to its own): every chain is
 * checked on its own, and its problems name the replica.
 */
public final class AuditVerifier {

    private AuditVerifier() {
    }

    /** Only what the per-session checks need, so memory stays small per event. */
    private record Link(long globalSeq, long seq, String prevHash, String hash, boolean hashOk) {
    }

    public static VerifyReport verify(AuditStore store) {
        Scan scan = new Scan();
        store.scan(scan);
        return scan.report();
    }

    /** Splits a scan into its chains (one, or one per replica) and adds up their reports. */
    private static final class Scan implements AuditScan {
        private final List<String> names = new ArrayList<>();
        private final List<ChainScan> chains = new ArrayList<>();
        private ChainScan current;

        private ChainScan current() {
            if (current == null) {
                current = new ChainScan();
                chains.add(current);
                names.add("");
            }
            return current;
        }

        @Override
        public void chain(String replicaId) {
            current = new ChainScan();
            chains.add(current);
            names.add(replicaId);
        }

        @Override
        public void head(ChainHead head) {
            current().head(head);
        }

        @Override
        public void session(SessionSummary session) {
            current().session(session);
        }

        @Override
        public void event(StoredEvent event) {
            current().event(event);
        }

        VerifyReport report() {
            if (chains.isEmpty()) current();
            if (chains.size() == 1 && names.getFirst().isEmpty()) return chains.getFirst().report();
            long sessions = 0, events = 0;
            List<Problem> problems = new ArrayList<>();
            List<String> heads = new ArrayList<>();
            for (int i = 0; i < chains.size(); i++) {
                VerifyReport r = chains.get(i).report();
                sessions += r.sessions();
                events += r.events();
                heads.add(names.get(i) + "=" + r.headHash());
                for (Problem p : r.problems()) {
                    problems.add(new Problem(p.kind(), p.sessionId(), p.seq(), "replica " + names.get(i) + ": " + p.detail()));
                }
            }
            return new VerifyReport(sessions, events, String.join(", ", heads), problems);
        }
    }

    private static final class ChainScan implements AuditScan {
        private final List<Problem> problems = new ArrayList<>();
        private final Map<String, SessionSummary> sessions = new LinkedHashMap<>();
        private final Map<String, List<Link>> links = new TreeMap<>();
        private final Map<Long, StoredEvent> mismatched = new LinkedHashMap<>();
        private ChainHead head = new ChainHead(0, ChainHash.GENESIS);
        private long events;
        private long lastGlobalSeq;
        private String lastGlobalHash = ChainHash.GENESIS;

        @Override
        public void head(ChainHead head) {
            this.head = head;
        }

        @Override
        public void session(SessionSummary session) {
            sessions.put(session.id(), session);
        }

        @Override
        public void event(StoredEvent e) {
            events++;
            long expected = lastGlobalSeq + 1;
            if (e.globalSeq() != expected) {
                problems.add(new Problem(Kind.GLOBAL_GAP, "", expected, "global seq " + expected + ".." + (e.globalSeq() - 1)
                        + " missing: events or a whole session were deleted"));
            } else if (!e.globalPrevHash().equals(lastGlobalHash)) {
                problems.add(new Problem(Kind.GLOBAL_BROKEN_LINK, e.sessionId(), e.globalSeq(),
                        "does not link to the previous event of the global chain"));
            }
            if (!ChainHash.global(e.globalPrevHash(), e.globalSeq(), e.hash()).equals(e.globalHash())) {
                problems.add(new Problem(Kind.GLOBAL_BROKEN_LINK, e.sessionId(), e.globalSeq(),
                        "global hash does not match the event hash"));
            }
            lastGlobalSeq = e.globalSeq();
            lastGlobalHash = e.globalHash();
            boolean hashOk = hashOf(e, e.seq()).equals(e.hash());
            links.computeIfAbsent(e.sessionId(), id -> new ArrayList<>())
                    .add(new Link(e.globalSeq(), e.seq(), e.prevHash(), e.hash(), hashOk));
            if (!hashOk) mismatched.put(e.globalSeq(), e);
        }

        VerifyReport report() {
            if (head.lastGlobalSeq() > lastGlobalSeq) {
                problems.add(new Problem(Kind.GLOBAL_GAP, "", lastGlobalSeq + 1, "global seq " + (lastGlobalSeq + 1) + ".."
                        + head.lastGlobalSeq() + " missing at the end: the newest events or sessions were deleted"));
            } else if (head.lastGlobalSeq() < lastGlobalSeq || !head.lastGlobalHash().equals(lastGlobalHash)) {
                problems.add(new Problem(Kind.GLOBAL_BROKEN_LINK, "", lastGlobalSeq,
                        "the global head (seq " + head.lastGlobalSeq() + ") does not match the newest event"));
            }
            for (Map.Entry<String, List<Link>> entry : links.entrySet()) {
                checkSession(entry.getKey(), entry.getValue());
            }
            for (SessionSummary s : sessions.values()) {
                if (!links.containsKey(s.id()) && s.eventCount() > 0) {
                    problems.add(new Problem(Kind.TAIL_DELETED, s.id(), 1,
                            "all " + s.eventCount() + " events of the session are missing"));
                }
            }
            return new VerifyReport(sessions.size(), events, head.lastGlobalHash(), problems);
        }

        private void checkSession(String sessionId, List<Link> byGlobal) {
            SessionSummary session = sessions.get(sessionId);
            if (session == null) {
                problems.add(new Problem(Kind.SESSION_DELETED, sessionId, 0,
                        "the session row is missing but " + byGlobal.size() + " of its events remain"));
            }
            // An event whose hash fits its contents only at another position was moved, not edited.
            Set<Long> moved = new HashSet<>();
            for (int i = 0; i < byGlobal.size(); i++) {
                Link l = byGlobal.get(i);
                if (l.hashOk()) continue;
                StoredEvent e = mismatched.get(l.globalSeq());
                long recordedSeq = recordedSeq(e, byGlobal, i);
                if (recordedSeq > 0) {
                    moved.add(l.seq());
                    problems.add(new Problem(Kind.REORDERED, sessionId, l.seq(),
                            "stored as seq " + l.seq() + " but recorded as seq " + recordedSeq));
                } else {
                    problems.add(new Problem(Kind.EDITED, sessionId, l.seq(),
                            "contents (payload, time or code) do not match the event's hash"));
                }
            }
            List<Link> bySeq = new ArrayList<>(byGlobal);
            bySeq.sort(Comparator.comparingLong(Link::seq));
            String prevHash = ChainHash.GENESIS;
            long prevSeq = 0;
            boolean prevMoved = false;
            for (Link l : bySeq) {
                boolean thisMoved = moved.contains(l.seq());
                if (l.seq() != prevSeq + 1) {
                    problems.add(new Problem(Kind.MISSING_EVENTS, sessionId, prevSeq + 1, "seq " + (prevSeq + 1)
                            + ".." + (l.seq() - 1) + " missing"));
                } else if (!l.prevHash().equals(prevHash) && !thisMoved && !prevMoved) {
                    problems.add(new Problem(Kind.BROKEN_LINK, sessionId, l.seq(),
                            "does not link to the hash of seq " + prevSeq));
                }
                prevHash = l.hash();
                prevSeq = l.seq();
                prevMoved = thisMoved;
            }
            if (session == null) return;
            if (session.eventCount() > prevSeq) {
                problems.add(new Problem(Kind.TAIL_DELETED, sessionId, prevSeq + 1, "seq " + (prevSeq + 1) + ".."
                        + session.eventCount() + " missing at the end of the session"));
            } else if (session.eventCount() < prevSeq || !session.headHash().equals(prevHash)) {
                problems.add(new Problem(Kind.BROKEN_LINK, sessionId, prevSeq,
                        "the session head (seq " + session.eventCount() + ") does not match its last event"));
            }
        }

        /** The seq this event was recorded at, when its hash fits a neighbouring position; 0 otherwise. */
        private static long recordedSeq(StoredEvent e, List<Link> byGlobal, int index) {
            Set<Long> candidates = new TreeSet<>();
            candidates.add((long) index + 1); // position in commit order
            for (int d = -2; d <= 2; d++) {
                if (d != 0 && e.seq() + d > 0) candidates.add(e.seq() + d);
            }
            for (long seq : candidates) {
                if (seq != e.seq() && hashOf(e, seq).equals(e.hash())) return seq;
            }
            return 0;
        }

        private static String hashOf(StoredEvent e, long seq) {
            return ChainHash.event(e.prevHash(), e.sessionId(), seq, e.recordedAt(), e.code(), e.payload());
        }
    }
}
