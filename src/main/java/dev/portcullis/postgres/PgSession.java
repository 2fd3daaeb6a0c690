package dev.portcullis.postgres;

import dev.portcullis.core.Identity;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.policy.Decision;
import dev.portcullis.policy.Verdict;
import dev.portcullis.postgres.BackendMessage.TransactionStatus;
import dev.portcullis.recording.ConnectionSession;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent's PostgreSQL connection through the gateway: the session state machine.
 *
 * <pre>
 *  startup   SSLRequest → 'S' + TLS | 'N';  StartupMessage → AuthenticationCleartextPassword
 *            password = agent token → Gate.authenticate → upstream login with the gateway's credentials
 *            → AuthenticationOk, the upstream's ParameterStatus, our own BackendKeyData, ReadyForQuery
 *  running   session thread: Query | Parse..Sync batches → judged → forwarded, or refused in order
 *            relay (on an event loop, or its own thread): responses → rows masked → client; outcomes recorded
 * </pre>
 * A response <em>unit</em> is what the server answers up to one ReadyForQuery: a simple Query, or an
 * extended-protocol batch up to Sync. Units are answered strictly in order. None of a refused unit's
 * messages reach the server; in their place goes an Execute of a portal that does not exist, so the
 * server fails as it would have on an error of its own (an open transaction is aborted, and COMMIT
 * cannot keep half of it), and the refusal takes the place of the server's ErrorResponse.
 */
final class PgSession implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(PgSession.class);

    final Socket socket;
    final PostgresConnectionConfig config;
    final Gate gate;
    final CancelRegistry cancels;
    final ColumnCatalog catalog;
    final UpstreamDialer dialer;
    final SSLContext tls;
    final String clientAddress;

    PgFrameReader clientIn;
    PgMessageWriter clientOut;
    final Object clientWriteLock = new Object();
    UpstreamConnection upstream;
    Identity identity;
    ConnectionSession recording;
    int[] cancelKey;
    volatile TransactionStatus lastStatus = TransactionStatus.IDLE;
    /** Whether the client's connection was upgraded to TLS at startup (it then stays off the event loop). */
    boolean clientTls;
    /**
     * Set once the client side ends the session: the relay thread then stays quiet, so the client gets
     * the reason of the end (a protocol error's 08P01), not a misleading "upstream closed" 08006.
     */
    volatile boolean ending;
    /** Set when a session admin ended the session: what its recording says at the end. */
    private volatile String terminated;

    /** Response units in flight, oldest first; guarded by {@link #clientWriteLock}. */
    final ArrayDeque<ResponseUnit> units = new ArrayDeque<>();
    /** The extended-protocol batch being assembled, until Sync. */
    private ResponseUnit building;
    /** Judges this session's statements; set once logged in. */
    private SessionJudge judge;
    /** Statements, portals and PREPAREs of this session. */
    private final SessionStatements state = new SessionStatements();

    PgSession(Socket socket, PostgresConnectionConfig config, Gate gate, CancelRegistry cancels, ColumnCatalog catalog,
              SSLContext tls, UpstreamDialer dialer) {
        this.socket = socket;
        this.config = config;
        this.gate = gate;
        this.cancels = cancels;
        this.catalog = catalog;
        this.dialer = dialer;
        this.tls = tls;
        this.clientAddress = socket.getInetAddress().getHostAddress();
    }

    @Override
    public void run() {
        String endReason = "client disconnected";
        try {
            if (!PgStartup.run(this)) return;
            live = gate.live().register(recording.sessionId(), identity, config.name(), "postgres", this::terminate);
            PgLoop.attach(this); // sets loop, when the session's connections can go there
            Thread server = (loop != null ? loop.threads() : Thread.ofVirtual()).name("pg-" + config.name() + "-server")
                    .start(new PgRelay(this));
            try {
                judge = new SessionJudge(gate, recording, config, identity);
                if (loop != null) loop.runSessionThread(this::clientLoop); // where the loop wakes it, not here
                else clientLoop();
            } catch (PgProtocolException e) {
                ending = true;
                endReason = "protocol error: " + e.getMessage();
                log.warn("protocol error from {} on {}: {}", clientAddress, config.name(), e.getMessage());
                sendFatal(PgErrors.fatal(PgProtocolException.SQLSTATE, "Portcullis: " + e.getMessage()));
            } finally {
                ending = true;
                upstream.close();
                if (loop != null) loop.closeServer();
                server.join(5_000);
            }
        } catch (EOFException e) {
            log.debug("client {} on {} went away", clientAddress, config.name());
        } catch (java.net.SocketTimeoutException e) {
            endReason = "login timed out";
            log.info("client {} on {} did not log in within {} s", clientAddress, config.name(), PgStartup.LOGIN_TIMEOUT_MILLIS / 1000);
            sendFatal(PgErrors.fatal("08006", "Portcullis: login timed out"));
        } catch (PgProtocolException e) {
            endReason = "protocol error: " + e.getMessage();
            log.warn("protocol error from {} on {}: {}", clientAddress, config.name(), e.getMessage());
            sendFatal(PgErrors.fatal(PgProtocolException.SQLSTATE, "Portcullis: " + e.getMessage()));
        } catch (IOException e) {
            endReason = "connection error: " + e.getMessage();
            log.debug("connection error with {} on {}: {}", clientAddress, config.name(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            endReason = "internal error: " + e;
            log.error("session with {} on {} failed", clientAddress, config.name(), e);
            sendFatal(PgErrors.fatal("XX000", "Portcullis: internal error; the session is closed"));
        } finally {
            if (terminated != null) endReason = terminated;
            if (live != null) live.close();
            if (cancelKey != null) cancels.unregister(cancelKey[0], cancelKey[1]);
            if (upstream != null) upstream.close();
            if (recording != null) {
                try {
                    recording.end(endReason);
                } catch (RuntimeException e) {
                    log.warn("could not record the end of a session: {}", e.getMessage());
                }
            }
            closeClientSide();
        }
    }

    /** Closes the client's connection; a read of it waiting in the session's thread ends. */
    void closeClientSide() {
        if (loop != null) {
            loop.closeClient(); // by the loop, after what was written to the client went out
            return;
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private dev.portcullis.gate.LiveSessions.Registration live;
    /** The session's connections on an event loop, once logged in; null while starting, or when they cannot go. */
    volatile PgLoop loop;

    /** A session admin ends the session: the client hears why (FATAL 57P01, as for pg_terminate_backend), then both sides close. */
    private void terminate(String by, String reason) {
        terminated = "terminated by " + by + ": " + reason;
        ending = true;
        log.info("session of {} on {} terminated by {}: {}", identity.subject(), config.name(), by, reason);
        synchronized (clientWriteLock) { // not while the connections move onto the loop (PgLoop.attach)
            sendFatal(PgErrors.fatal("57P01", "Portcullis: this session was ended by " + by + ": " + reason));
            if (upstream != null) upstream.close();
            closeClientSide();
        }
    }

    /** Whether the client closed its connection (a short, non-destructive look). */
    boolean clientLeft() throws IOException {
        if (loop != null) return loop.clientLeft(); // set once, never unset
        int previous = socket.getSoTimeout();
        socket.setSoTimeout(20);
        try {
            return clientIn.peerClosed();
        } finally {
            socket.setSoTimeout(previous);
        }
    }

    void cancelUpstream() {
        UpstreamConnection u = upstream;
        if (u == null) return;
        try {
            u.cancel();
        } catch (IOException e) {
            log.warn("cancel on {} failed: {}", config.name(), e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Client → server: every statement judged before anything of its unit is forwarded.

    private void clientLoop() throws IOException {
        PgMessageWriter toServer = upstream.writer();
        while (true) {
            byte type = clientIn.readHeader();
            switch (type) {
                case 'Q' -> simpleQuery((FrontendMessage.Query) FrontendMessage.decode(clientIn.readPayload()), toServer);
                case 'P', 'B', 'D', 'E', 'C', 'H', 'S' -> extended(clientIn.readPayload(), toServer);
                case 'd', 'c', 'f' -> {
                    // COPY FROM STDIN data: its COPY statement was judged and allowed already.
                    clientIn.forwardPayload(toServer);
                    if (!clientIn.hasBufferedInput()) toServer.flush();
                }
                case 'X' -> {
                    clientIn.skipPayload();
                    return;
                }
                case 'F' -> {
                    clientIn.skipPayload();
                    refuseUnit(PgErrors.error("42501",
                            "Portcullis: the fast-path function call interface is not allowed", null,
                            "call functions with SELECT, so policy can judge them"));
                }
                default -> throw new PgProtocolException("unexpected message '" + (char) type + "' from the client");
            }
        }
    }

    private void simpleQuery(FrontendMessage.Query query, PgMessageWriter toServer) throws IOException {
        SessionJudge.Statements parsed = judge.parse(query.sql());
        if (parsed.refusal() != null) {
            refuseUnit(parsed.refusal());
            return;
        }
        List<SqlStatement> statements = parsed.list();
        ResponseUnit unit = new ResponseUnit();
        List<Gate.Judged> judged = new ArrayList<>();
        // A query with one statement that needs approval is held as a whole on that one approval: the
        // statements of one Query run in one implicit transaction, so running the others without it (or
        // splitting the query) would change what the client asked for. The others are judged by policy
        // as usual, and were allowed, so the approval adds nothing to them. Two held statements in one
        // query are refused: each approval names exactly one statement.
        Gate.Judged held = null;
        SqlStatement heldStatement = null;
        Verdict.HoldForApproval hold = null;
        for (SqlStatement raw : statements) {
            SqlStatement statement = state.resolveExecute(raw);
            Gate.Judged j;
            try {
                j = judge.judge(statement);
            } catch (GateUnavailableException e) {
                if (held != null) held.completeRefused(System.nanoTime());
                for (Gate.Judged done : judged) done.completeUpstreamFailed("not sent: " + e.getMessage(), System.nanoTime());
                refuseUnit(PgErrors.error("08006", "Portcullis: " + e.getMessage()));
                return;
            }
            Optional<BackendMessage.ErrorResponse> refusal;
            if (j.decision().verdict() instanceof Verdict.HoldForApproval h && held == null) {
                held = j;
                heldStatement = statement;
                hold = h;
                refusal = Optional.empty();
            } else if (j.decision().verdict() instanceof Verdict.HoldForApproval h) {
                refusal = Optional.of(PgErrors.error("42501",
                        "Portcullis: rule " + h.ruleId() + " requires approval of this statement, and the query holds "
                                + "another one that needs approval too",
                        "statement: " + statement.summary(), "send statements that need approval one query at a time"));
            } else {
                refusal = PgRefusals.of(j.decision().verdict(), statement);
            }
            MaskCheck masking = refusal.isEmpty() ? maskCheck(j.decision().verdict(), statement) : MaskCheck.NONE;
            if (masking.refused()) refusal = Optional.of(masking.error());
            if (refusal.isPresent()) {
                masking.completeRefused(j);
                if (held != null) held.completeRefused(System.nanoTime());
                for (Gate.Judged done : judged) done.completeUpstreamFailed("not sent: another statement of the query was refused", System.nanoTime());
                refuseUnit(refusal.get());
                return;
            }
            if (j != held) judged.add(j);
            unit.addSlot(j, statement, maskPlan(j.decision().verdict()), masking.derived());
        }
        if (held != null) {
            // Held before the unit is queued: nothing of this query reaches the server until it is released,
            // and the client's later queries wait behind it, in order.
            Optional<BackendMessage.ErrorResponse> notReleased =
                    PgApprovalHold.hold(this, held, heldStatement, hold, query.sql().getBytes(StandardCharsets.UTF_8));
            if (notReleased.isPresent()) {
                held.completeRefused(System.nanoTime());
                for (Gate.Judged done : judged) {
                    done.completeUpstreamFailed("not sent: the query's held statement was not approved", System.nanoTime());
                }
                refuseUnit(notReleased.get());
                return;
            }
            // Released (PC4004 is durable): the held statement now goes as an allowed one would, and its
            // outcome is recorded in its slot when the server answers.
        }
        state.remember(statements);
        forwardUnit(unit, () -> {
            toServer.write(query);
            toServer.flush();
        });
    }

    private void extended(RawMessage raw, PgMessageWriter toServer) throws IOException {
        FrontendMessage message = FrontendMessage.decode(raw);
        if (building == null) building = new ResponseUnit();
        ResponseUnit unit = building;
        if (unit.refusal != null && !(message instanceof FrontendMessage.Sync)) return; // skipping to Sync
        switch (message) {
            case FrontendMessage.Parse parse -> {
                SessionJudge.Statements parsed = judge.parse(parse.sql());
                if (parsed.refusal() != null) {
                    unit.refusal = parsed.refusal();
                    return;
                }
                List<SqlStatement> statements = parsed.list();
                for (SqlStatement s : statements) {
                    Decision d = judge.decide(state.resolveExecute(s));
                    // Preparing a statement that needs approval runs nothing: it is held when Executed,
                    // with its bind parameters, so the approval names exactly what runs.
                    if (d.verdict() instanceof Verdict.HoldForApproval && statements.size() == 1) continue;
                    Optional<BackendMessage.ErrorResponse> refusal = PgRefusals.of(d.verdict(), s);
                    // a mask rule's lineage check refuses when the statement is prepared, not only when it runs
                    MaskCheck masking = refusal.isEmpty() ? maskCheck(d.verdict(), state.resolveExecute(s)) : MaskCheck.NONE;
                    if (masking.refused()) refusal = Optional.of(masking.error());
                    if (refusal.isPresent()) {
                        judge.recordRefusal(s, masking);
                        unit.refusal = refusal.get();
                        return;
                    }
                }
                state.parsed(parse, statements);
                unit.pending.add(raw);
            }
            case FrontendMessage.Bind bind -> {
                state.bound(bind);
                unit.pending.add(raw);
            }
            case FrontendMessage.Execute execute -> {
                SqlStatement statement = state.portal(execute.portal());
                if (statement != null) {
                    try {
                        Gate.Judged j = judge.judge(statement);
                        Optional<BackendMessage.ErrorResponse> refusal;
                        if (j.decision().verdict() instanceof Verdict.HoldForApproval h) {
                            // Held before this Execute joins the batch: what went before it in the batch is
                            // still unsent (unless the client flushed), and nothing after it is read meanwhile.
                            refusal = PgApprovalHold.hold(this, j, statement, h, statement.text().getBytes(StandardCharsets.UTF_8));
                        } else {
                            refusal = PgRefusals.of(j.decision().verdict(), statement);
                        }
                        MaskCheck masking = refusal.isEmpty() ? maskCheck(j.decision().verdict(), statement) : MaskCheck.NONE;
                        if (masking.refused()) refusal = Optional.of(masking.error());
                        if (refusal.isPresent()) {
                            masking.completeRefused(j);
                            unit.refusal = refusal.get();
                            return;
                        }
                        state.remember(List.of(statement)); // a PREPARE or DEALLOCATE sent with the extended protocol
                        SessionStatements.Bound b = state.boundPortal(execute.portal());
                        unit.addSlot(j, statement, maskPlan(j.decision().verdict()), masking.derived(), b.portalGeneration(),
                                b.statementGeneration(), b.resultFormats());
                    } catch (GateUnavailableException e) {
                        unit.refusal = PgErrors.error("08006", "Portcullis: " + e.getMessage());
                        return;
                    }
                } else {
                    unit.addSlot(null, null, MaskPlan.NONE, null); // the server reports the unknown portal
                }
                unit.pending.add(raw);
            }
            case FrontendMessage.Describe d -> {
                unit.describes.addLast(state.describe(d));
                unit.pending.add(raw);
            }
            case FrontendMessage.Close close -> {
                state.closed(close);
                unit.pending.add(raw);
            }
            case FrontendMessage.Flush flush -> {
                unit.pending.add(raw);
                flushPartial(unit, toServer);
            }
            case FrontendMessage.Sync sync -> {
                building = null;
                if (unit.refusal != null) {
                    if (!unit.forwardedAny) {
                        for (ResponseUnit.Slot s : unit.slots) if (s.judged() != null) s.judged().completeUpstreamFailed("not sent: the batch was refused", System.nanoTime());
                        refuseUnit(unit.refusal);
                    } else {
                        // Part of the batch already reached the server (the client flushed mid-batch): end
                        // it there, and put the refusal just before its ReadyForQuery.
                        unit.injectBeforeReady = unit.refusal;
                        unit.replaceError = unit.refusal;
                        forwardUnit(unit, () -> {
                            PgRefusals.failInPlace(toServer);
                        });
                    }
                    return;
                }
                unit.pending.add(raw);
                forwardUnit(unit, () -> {
                    for (RawMessage m : unit.pending) toServer.write(m);
                    toServer.flush();
                });
            }
            default -> throw new PgProtocolException("unexpected message " + message.getClass().getSimpleName());
        }
    }

    /** A Flush mid-batch: what is judged so far goes now; the unit stays open until its Sync. */
    private void flushPartial(ResponseUnit unit, PgMessageWriter toServer) throws IOException {
        synchronized (clientWriteLock) {
            queue(unit);
        }
        for (RawMessage m : unit.pending) toServer.write(m);
        toServer.flush();
        unit.pending.clear();
        unit.forwardedAny = true;
    }

    private interface Send {
        void run() throws IOException;
    }

    private void forwardUnit(ResponseUnit unit, Send send) throws IOException {
        synchronized (clientWriteLock) {
            queue(unit);
            unit.complete = true;
        }
        send.run();
    }

    /** Puts the unit in line for the server's answers, once, as its first message goes; under {@link #clientWriteLock}. */
    private void queue(ResponseUnit unit) {
        if (unit.queued) return;
        units.addLast(unit);
        unit.queued = true;
        unit.sent(System.nanoTime());
    }

    /**
     * Answers a refused unit in order, behind whatever is in flight: the server fails an Execute of
     * {@link PgRefusals#REFUSED_PORTAL} (aborting an open transaction, as its own error would), and the client
     * gets the refusal in place of that error.
     */
    private void refuseUnit(BackendMessage.ErrorResponse refusal) throws IOException {
        ResponseUnit unit = new ResponseUnit();
        unit.replaceError = refusal;
        unit.replaceAnyError = true;
        PgMessageWriter toServer = upstream.writer();
        forwardUnit(unit, () -> {
            PgRefusals.failInPlace(toServer);
        });
    }

    /** The lineage check of a statement allowed with masking; EXECUTE name is checked as the query it runs. */
    private MaskCheck maskCheck(Verdict verdict, SqlStatement statement) {
        return MaskCheck.of(verdict, statement, state.lineageText(statement), catalog);
    }

    private static MaskPlan maskPlan(Verdict verdict) {
        return verdict instanceof Verdict.Mask m ? m.plan() : MaskPlan.NONE;
    }

    void sendFatal(BackendMessage.ErrorResponse error) {
        try {
            synchronized (clientWriteLock) {
                if (clientOut == null) return;
                clientOut.write(error);
                clientOut.flush();
            }
        } catch (IOException ignored) {
            // the client is gone already
        }
    }
}
