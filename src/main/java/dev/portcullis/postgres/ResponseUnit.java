package dev.portcullis.postgres;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.masking.Detector;
import dev.portcullis.masking.MaskPlan;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** What the server answers up to one ReadyForQuery, and the statements expecting an outcome in it. */
final class ResponseUnit {
    /** A Describe in flight: what it describes, by generation (for a portal, also its statement's). */
    record PendingDescribe(FrontendMessage.Target target, long generation, long statementGeneration) {
    }

    /** One statement expecting an outcome; for Execute, its portal, statement and result formats. */
    record Slot(Gate.Judged judged, SqlStatement statement, MaskPlan plan, DerivedColumns derived, long portalGeneration,
                long statementGeneration, List<Integer> resultFormats) {
    }

    /** The Describe messages of this unit, in order: their answers are RowDescription or NoData. */
    final ArrayDeque<PendingDescribe> describes = new ArrayDeque<>();

    final List<RawMessage> pending = new ArrayList<>();
    final ArrayDeque<Slot> slots = new ArrayDeque<>();
    BackendMessage.ErrorResponse refusal;
    BackendMessage.ErrorResponse injectBeforeReady;
    /** The refusal the client gets in place of the server's error on {@link PgRefusals#REFUSED_PORTAL}. */
    BackendMessage.ErrorResponse replaceError;
    /** Nothing else of this unit reached the server: whatever error it answers is the refusal's. */
    boolean replaceAnyError;
    boolean forwardedAny;
    boolean queued;
    /**
     * Where the next statement's time at the server starts ({@link System#nanoTime}): when the unit's first
     * message went, then each answer of the unit. Set before the unit is queued, then the relay thread's.
     */
    private long answerClockNanos;
    boolean complete;
    private MaskPlan union = MaskPlan.NONE;

    /** The unit's first message goes to the server now. */
    void sent(long nanos) {
        answerClockNanos = nanos;
    }

    void addSlot(Gate.Judged judged, SqlStatement statement, MaskPlan plan, DerivedColumns derived) {
        addSlot(judged, statement, plan, derived, -1, -1, List.of());
    }

    void addSlot(Gate.Judged judged, SqlStatement statement, MaskPlan plan, DerivedColumns derived, long portalGeneration,
                 long statementGeneration, List<Integer> resultFormats) {
        slots.addLast(new Slot(judged, statement, plan, derived, portalGeneration, statementGeneration, resultFormats));
        union = union(union, plan);
    }

    boolean replaces(BackendMessage.ErrorResponse error) {
        if (replaceError == null) return false;
        return replaceAnyError || ("34000".equals(error.sqlState()) && error.message().contains(PgRefusals.REFUSED_PORTAL));
    }

    Slot currentSlot() {
        return slots.peekFirst();
    }

    /**
     * The plan for the next result of this unit: the next statement's, or, for a Describe'd
     * statement whose execution comes later, every plan of the unit (over-masking, never under).
     */
    MaskPlan planForNextResult() {
        Slot next = slots.peekFirst();
        return next == null ? union : next.plan();
    }

    SqlStatement currentStatement() {
        Slot next = slots.peekFirst();
        return next == null ? null : next.statement();
    }

    /** The next result's derived columns to mask; null when none are known (no lineage was needed). */
    DerivedColumns derivedForNextResult() {
        Slot next = slots.peekFirst();
        return next == null ? null : next.derived();
    }

    /**
     * Records the statement's outcome; a recording failure ends the session (fail closed). Its time at the
     * server runs from when the unit was sent, or from the answer to the statement before it in the unit,
     * to now; its total from when the gateway began judging it (an approval's wait included).
     */
    void completeSlot(String tag, ResultCapture result) throws IOException {
        Slot slot = slots.pollFirst();
        long now = System.nanoTime();
        long atServer = now - answerClockNanos;
        answerClockNanos = now;
        if (slot == null || slot.judged() == null) return;
        try {
            slot.judged().upstreamLatency(atServer);
            slot.judged().completeForwarded(0, result.excerpt(tag), slot.judged().startedNanos());
        } catch (GateUnavailableException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    void failRemaining(String why) {
        Slot slot;
        boolean first = true;
        while ((slot = slots.pollFirst()) != null) {
            if (slot.judged() != null) {
                slot.judged().completeUpstreamFailed(first ? why : "not executed: an earlier statement failed", System.nanoTime());
            }
            first = false;
        }
    }

    static MaskPlan union(MaskPlan a, MaskPlan b) {
        if (b.isEmpty()) return a;
        if (a.isEmpty()) return b;
        List<String> fields = new ArrayList<>(a.fields());
        for (String f : b.fields()) if (!fields.contains(f)) fields.add(f);
        Set<Detector> detectors = EnumSet.noneOf(Detector.class);
        detectors.addAll(a.detectors());
        detectors.addAll(b.detectors());
        // the stricter predicate mode of the two: REFUSE before EQUALITY before ALLOW
        var predicates = a.predicates().compareTo(b.predicates()) <= 0 ? a.predicates() : b.predicates();
        return new MaskPlan(fields, detectors, predicates);
    }
}
