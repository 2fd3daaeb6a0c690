package dev.portcullis.recording;

import java.util.List;
import java.util.Objects;

/**
 * What {@link AuditVerifier} found.
 *
 * @param sessions session rows seen
 * @param events   event rows seen
 * @param headHash the global head hash; publish or anchor it elsewhere to detect a rewrite of the whole store
 * @param problems every problem found, empty when the store is intact
 */
public record VerifyReport(long sessions, long events, String headHash, List<Problem> problems) {
    public VerifyReport {
        Objects.requireNonNull(headHash, "headHash");
        problems = List.copyOf(problems);
    }

    public enum Kind {
        /** The event's contents (payload, time, code) no longer match its hash. */
        EDITED,
        /** The event is stored at another position than it was recorded at. */
        REORDERED,
        /** Sequence numbers are missing in the middle of a session. */
        MISSING_EVENTS,
        /** The session's last events are gone: the session head names more events than are stored. */
        TAIL_DELETED,
        /** The event does not link to the hash of its predecessor, or the head does not match the last event. */
        BROKEN_LINK,
        /** Events exist for a session whose session row was deleted. */
        SESSION_DELETED,
        /** Global sequence numbers are missing: events or whole sessions were deleted. */
        GLOBAL_GAP,
        /** The global chain does not link, or its head does not match the newest event. */
        GLOBAL_BROKEN_LINK
    }

    /**
     * @param sessionId the session concerned, empty when it cannot be known (a deleted session)
     * @param seq       the sequence number concerned (global sequence for GLOBAL_* kinds), 0 when none
     */
    public record Problem(Kind kind, String sessionId, long seq, String detail) {
        @Override
        public String toString() {
            return kind + (sessionId.isEmpty() ? "" : " session " + sessionId) + (seq == 0 ? "" : " seq " + seq)
                    + ": " + detail;
        }
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    /** One line for people: {@code OK: 3 sessions, 120 events, head 5f3a...} or the problem count. */
    public String summary() {
        return (ok() ? "OK: " : "FAILED: " + problems.size() + " problem(s) in ") + sessions + " sessions, " + events
                + " events, head " + headHash;
    }
}
