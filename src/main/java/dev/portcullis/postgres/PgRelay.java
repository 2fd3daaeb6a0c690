package dev.portcullis.postgres;

import dev.portcullis.masking.MaskPlan;
import dev.portcullis.sql.SqlParser;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server → client half of a {@link PgSession}, on a virtual thread of its own (scheduled on the session's event
 * loop, {@link PgLoop}, when the session runs there): relays the server's answers to the client in order, masks
 * rows and COPY data as each response unit's slots say, records each statement's outcome in its slot, puts a
 * refusal in place of the server's error for a refused unit, and withholds error texts that could quote masked
 * values.
 *
 * <p>Shared with the session's thread, always under {@code session.clientWriteLock}: the client's
 * writer and the queue of response units in flight. Its own: what Describe said about statements and
 * portals, the maskers of suspended portals, the result being captured.
 */
final class PgRelay implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(PgRelay.class);

    private final PgSession session;

    PgRelay(PgSession session) {
        this.session = session;
    }

    /** What Describe told about statements and portals, and suspended portals' maskers: this thread's alone. */
    private final Map<Long, List<BackendMessage.Field>> statementFields = new HashMap<>();
    private final Map<Long, List<BackendMessage.Field>> portalFields = new HashMap<>();
    private final Map<Long, RowMasker> suspended = new HashMap<>();

    /**
     * The masker for rows that arrive without a RowDescription in their unit: a resumed portal, or an
     * Execute whose statement was described in an earlier round trip. Fails closed when masking is
     * required and the columns cannot be known.
     */
    private RowMasker maskerFor(ResponseUnit unit) throws IOException {
        ResponseUnit.Slot slot = unit == null ? null : unit.currentSlot();
        MaskPlan plan = slot == null ? (unit == null ? MaskPlan.NONE : unit.planForNextResult()) : slot.plan();
        if (slot != null && slot.portalGeneration() >= 0) {
            RowMasker resumed = suspended.get(slot.portalGeneration());
            if (resumed != null) return resumed;
            List<BackendMessage.Field> fields = portalFields.get(slot.portalGeneration());
            if (fields == null) {
                List<BackendMessage.Field> described = statementFields.get(slot.statementGeneration());
                if (described != null) fields = withFormats(described, slot.resultFormats());
            }
            if (fields != null) return RowMasker.of(fields, plan, session.catalog, slot.derived());
        }
        if (plan.isEmpty()) return null;
        throw new PgProtocolException("rows arrived for a result whose columns are unknown, so they cannot be masked");
    }

    private static List<BackendMessage.Field> withFormats(List<BackendMessage.Field> fields, List<Integer> formats) {
        List<BackendMessage.Field> out = new ArrayList<>(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            BackendMessage.Field f = fields.get(i);
            int format = formats.isEmpty() ? 0 : formats.size() == 1 ? formats.getFirst() : formats.get(i);
            out.add(new BackendMessage.Field(f.name(), f.tableOid(), f.columnAttr(), f.typeOid(), f.typeLen(), f.typeMod(),
                    (short) format));
        }
        return out;
    }

    private PgFrameReader fromServer;
    private ResultCapture result;

    /** Relays until the server's side ends. */
    @Override
    public void run() {
        fromServer = session.upstream.reader();
        result = new ResultCapture(session.config.recordedRows());
        Throwable cause = null;
        try {
            while (true) step();
        } catch (IOException | RuntimeException e) {
            cause = e; // reported by end(), with its stack when it is not an I/O failure
        } finally {
            end(cause);
        }
    }

    /** Relays one message from the server: masked, recorded, in place of its error when refused. */
    private void step() throws IOException {
        byte type = fromServer.readHeader();
        ResponseUnit unit;
        synchronized (session.clientWriteLock) {
            unit = session.units.peekFirst();
        }
        switch (type) {
            case 'D' -> {
                if (result.masker == null && !result.described) {
                    result.masker = maskerFor(unit);
                    result.described = true;
                }
                if (result.masker == null || result.masker.passThrough()) {
                    if (result.wantsRows()) {
                        RawMessage raw = fromServer.readPayload();
                        result.capture(raw.payload(), result.masker);
                        writeToClient(raw);
                    } else {
                        synchronized (session.clientWriteLock) {
                            fromServer.forwardPayload(session.clientOut);
                        }
                    }
                    result.rows++;
                } else {
                    RawMessage raw = fromServer.readPayload();
                    byte[] masked = result.masker.mask(raw.payload());
                    if (result.wantsRows()) result.capture(masked, result.masker);
                    writeToClient(new RawMessage(raw.type(), masked));
                    result.rows++;
                }
            }
            case 'T' -> {
                RawMessage raw = fromServer.readPayload();
                var description = (BackendMessage.RowDescription) BackendMessage.decode(raw);
                ResponseUnit.PendingDescribe describe = unit == null ? null : unit.describes.pollFirst();
                if (describe != null && describe.target() == FrontendMessage.Target.STATEMENT) {
                    statementFields.put(describe.generation(), description.fields()); // formats come with Bind
                } else {
                    if (describe != null) {
                        portalFields.put(describe.generation(), description.fields());
                        // the statement's columns too: later executions may skip Describe
                        if (describe.statementGeneration() >= 0) {
                            statementFields.put(describe.statementGeneration(), description.fields());
                        }
                    }
                    result.start(description, unit == null ? MaskPlan.NONE : unit.planForNextResult(),
                            unit == null ? null : unit.derivedForNextResult(), session.catalog);
                }
                writeToClient(raw);
            }
            case 'n' -> { // NoData answers a Describe too
                if (unit != null) unit.describes.pollFirst();
                synchronized (session.clientWriteLock) {
                    fromServer.forwardPayload(session.clientOut);
                }
            }
            case 'H' -> { // CopyOutResponse: COPY ... TO STDOUT
                RawMessage raw = fromServer.readPayload();
                var copy = (BackendMessage.CopyOutResponse) BackendMessage.decode(raw);
                MaskPlan plan = unit == null ? MaskPlan.NONE : unit.planForNextResult();
                if (!plan.isEmpty() && copy.format() != 0) {
                    throw new PgProtocolException("binary COPY output cannot be masked; refused");
                }
                result.startCopy(plan, unit == null ? null : unit.currentStatement(),
                        unit == null ? null : unit.derivedForNextResult(), session.catalog);
                writeToClient(raw);
            }
            case 'd' -> {
                RawMessage raw = fromServer.readPayload();
                byte[] data = result.maskCopy(raw.payload());
                if (result.wantsRows()) result.captureText(data);
                result.rows++;
                writeToClient(new RawMessage(raw.type(), data));
            }
            case 'C', 'I', 's' -> { // CommandComplete, EmptyQueryResponse, PortalSuspended
                RawMessage raw = fromServer.readPayload();
                String tag = type == 'C' ? ((BackendMessage.CommandComplete) BackendMessage.decode(raw)).tag()
                        : type == 'I' ? "(empty query)" : "(portal suspended)";
                if (unit != null) {
                    ResponseUnit.Slot slot = unit.currentSlot();
                    if (slot != null && slot.portalGeneration() >= 0) {
                        if (type == 's' && result.masker != null) suspended.put(slot.portalGeneration(), result.masker);
                        else if (type != 's') {
                            suspended.remove(slot.portalGeneration());
                            portalFields.remove(slot.portalGeneration());
                        }
                    }
                    unit.completeSlot(tag, result);
                }
                if (type == 'C' && (tag.startsWith("ALTER") || tag.startsWith("DROP") || tag.startsWith("CREATE"))) {
                    session.catalog.invalidate();
                }
                result.reset();
                writeToClient(raw);
            }
            case 'E' -> {
                RawMessage raw = fromServer.readPayload();
                var error = (BackendMessage.ErrorResponse) BackendMessage.decode(raw);
                DerivedColumns derived = unit == null ? null : unit.derivedForNextResult();
                BackendMessage.ErrorResponse withheld = null;
                if (derived != null && derived.hidesErrors()) {
                    // The server's text can quote a masked value ("invalid input syntax ...: \"a@b.c\"")
                    withheld = PgErrors.error(error.sqlState(), "Portcullis: the server's error (SQLSTATE " + error.sqlState()
                            + ") is withheld: the statement computes on masked columns, and its text could show their values",
                            null, null);
                }
                if (unit != null) unit.failRemaining(error.sqlState() + ": " + (withheld == null ? error : withheld).message());
                result.reset();
                if (unit != null && unit.replaces(error)) {
                    synchronized (session.clientWriteLock) {
                        session.clientOut.write(unit.replaceError);
                    }
                    unit.replaceError = null;
                    unit.injectBeforeReady = null;
                } else if (withheld != null) {
                    synchronized (session.clientWriteLock) {
                        session.clientOut.write(withheld);
                    }
                } else {
                    writeToClient(raw);
                }
            }
            case 'S' -> { // ParameterStatus: a reported setting changed
                RawMessage raw = fromServer.readPayload();
                var status = (BackendMessage.ParameterStatus) BackendMessage.decode(raw);
                if (!SqlParser.readsSqlAsTheParser(status.name(), status.value())) {
                    // A function or procedure changed it (SET and set_config are refused before they run):
                    // nothing more from this client can be judged as the server will read it.
                    throw new PgProtocolException("the server now reads SQL text with " + status.name() + " = "
                            + status.value() + ", which Portcullis cannot judge (it reads UTF-8 with standard "
                            + "conforming strings); the session is closed");
                }
                writeToClient(raw);
            }
            case 'Z' -> {
                RawMessage raw = fromServer.readPayload();
                session.lastStatus = ((BackendMessage.ReadyForQuery) BackendMessage.decode(raw)).status();
                synchronized (session.clientWriteLock) {
                    ResponseUnit done = session.units.pollFirst();
                    if (done != null && done.injectBeforeReady != null) session.clientOut.write(done.injectBeforeReady);
                    if (done != null) done.failRemaining("not executed");
                    session.clientOut.write(raw);
                    if (!fromServer.hasBufferedInput()) session.clientOut.flush();
                }
                result.reset();
            }
            default -> {
                synchronized (session.clientWriteLock) {
                    fromServer.forwardPayload(session.clientOut);
                }
            }
        }
        if (!fromServer.hasBufferedInput()) {
            synchronized (session.clientWriteLock) {
                session.clientOut.flush();
            }
        }
    }

    /**
     * The server's side ended ({@code cause}: why; an EOF is the server closing, null the session ending it): what
     * is in flight fails, and unless the session is ending itself, the client hears why and its side is closed.
     */
    private void end(Throwable cause) {
        try {
            if (cause instanceof EOFException) {
                log.debug("the upstream closed the connection for {}", session.config.name());
            } else if (cause instanceof IOException e) {
                if (!session.ending) {
                    log.info("relay from the upstream ended on {}: {}", session.config.name(), e.getMessage());
                    session.sendFatal(PgErrors.fatal("08006", "Portcullis: " + e.getMessage()));
                }
            } else if (cause != null && !session.ending) {
                log.error("relay from the upstream failed on {}", session.config.name(), cause);
                session.sendFatal(PgErrors.fatal("XX000", "Portcullis: internal error; the session is closed"));
            }
        } finally {
            synchronized (session.clientWriteLock) {
                for (ResponseUnit u : session.units) u.failRemaining("connection ended");
            }
            if (!session.ending) session.closeClientSide(); // unblocks the client's reads
        }
    }

    private void writeToClient(RawMessage message) throws IOException {
        synchronized (session.clientWriteLock) {
            session.clientOut.write(message);
        }
    }
}
