package dev.portcullis.postgres;

import dev.portcullis.approval.ApprovalRequest;
import dev.portcullis.core.Identity;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.gate.ApprovalFlow;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.identity.TokenRejectedException;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.policy.Decision;
import dev.portcullis.policy.Verdict;
import dev.portcullis.postgres.BackendMessage.TransactionStatus;
import dev.portcullis.recording.ConnectionSession;
import dev.portcullis.sql.SqlParseException;
import dev.portcullis.sql.SqlParser;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent's PostgreSQL connection through the gateway: the session state machine.
 *
 * <pre>
 *  startup   SSLRequest → 'S' + TLS | 'N';  StartupMessage → AuthenticationCleartextPassword
 *            password = agent token → Gate.authenticate → upstream login with the gateway's credentials
 *            → AuthenticationOk, the upstream's ParameterStatus, our own BackendKeyData, ReadyForQuery
 *  running   client thread: Query | Parse..Sync batches → judged → forwarded, or refused in order
 *            server thread: responses → rows masked → client; outcomes recorded per statement
 * </pre>
 * A response <em>unit</em> is what the server answers up to one ReadyForQuery: a simple Query, or an
 * extended-protocol batch up to Sync. Units are answered strictly in order. None of a refused unit's
 * messages reach the server; in their place goes an Execute of a portal that does not exist, so the
 * server fails as it would have on an error of its own (an open transaction is aborted, and COMMIT
 * cannot keep half of it), and the refusal takes the place of the server's ErrorResponse.
 */
final class PgSession implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(PgSession.class);
    /** Startup parameters passed upstream; anything else (notably {@code options}, which can set a role) is dropped. */
    private static final Set<String> FORWARDED_PARAMETERS = Set.of("application_name", "DateStyle", "TimeZone",
            "IntervalStyle", "extra_float_digits", "datestyle", "timezone", "intervalstyle");
    /** The portal a refused unit executes instead: it never exists, so the server answers with an error. */
    static final String REFUSED_PORTAL = "portcullis: refused statement, not sent";

    private final Socket socket;
    private final PostgresConnectionConfig config;
    private final Gate gate;
    private final CancelRegistry cancels;
    private final ColumnCatalog catalog;
    private final SSLContext tls;
    private final String clientAddress;

    private PgFrameReader clientIn;
    private PgMessageWriter clientOut;
    private final Object clientWriteLock = new Object();
    private UpstreamConnection upstream;
    private Identity identity;
    private ConnectionSession recording;
    private int[] cancelKey;
    private volatile TransactionStatus lastStatus = TransactionStatus.IDLE;
    /**
     * Set once the client side ends the session: the relay thread then stays quiet, so the client gets
     * the reason of the end (a protocol error's 08P01), not a misleading "upstream closed" 08006.
     */
    private volatile boolean ending;

    /** Response units in flight, oldest first; guarded by {@link #clientWriteLock}. */
    private final ArrayDeque<ResponseUnit> units = new ArrayDeque<>();
    /** The extended-protocol batch being assembled, until Sync. */
    private ResponseUnit building;
    /** Statements prepared with Parse, by name ("" is the unnamed one). */
    private final Map<String, SqlStatement> prepared = new HashMap<>();
    /** Portals bound with Bind: statement and its text parameters. */
    private final Map<String, SqlStatement> portals = new HashMap<>();
    /**
     * Each Parse and Bind gets a generation number, so what the server describes is tied to that very
     * statement or portal, not to a name that is reused (the unnamed ones are, constantly).
     */
    private long generation;
    private final Map<String, Long> statementGeneration = new HashMap<>();
    private final Map<String, Bound> bound = new HashMap<>();

    private record Bound(long portalGeneration, long statementGeneration, List<Integer> resultFormats) {
    }


    /** Parameter type OIDs of each statement from Parse, to render binary bind parameters in recordings. */
    private final Map<String, List<Integer>> parameterTypes = new HashMap<>();
    /** SQL-level PREPAREd statements, so EXECUTE is judged by what it runs. */
    private final Map<String, SqlStatement> sqlPrepared = new HashMap<>();

    PgSession(Socket socket, PostgresConnectionConfig config, Gate gate, CancelRegistry cancels, ColumnCatalog catalog,
              SSLContext tls) {
        this.socket = socket;
        this.config = config;
        this.gate = gate;
        this.cancels = cancels;
        this.catalog = catalog;
        this.tls = tls;
        this.clientAddress = socket.getInetAddress().getHostAddress();
    }

    @Override
    public void run() {
        String endReason = "client disconnected";
        try {
            if (!startup()) return;
            Thread server = Thread.ofVirtual().name("pg-" + config.name() + "-server").start(this::serverLoop);
            try {
                clientLoop();
            } catch (PgProtocolException e) {
                ending = true;
                endReason = "protocol error: " + e.getMessage();
                log.warn("protocol error from {} on {}: {}", clientAddress, config.name(), e.getMessage());
                sendFatal(PgErrors.fatal(PgProtocolException.SQLSTATE, "Portcullis: " + e.getMessage()));
            } finally {
                ending = true;
                upstream.close();
                server.join(5_000);
            }
        } catch (EOFException e) {
            log.debug("client {} on {} went away", clientAddress, config.name());
        } catch (java.net.SocketTimeoutException e) {
            endReason = "login timed out";
            log.info("client {} on {} did not log in within {} s", clientAddress, config.name(), LOGIN_TIMEOUT_MILLIS / 1000);
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
            if (cancelKey != null) cancels.unregister(cancelKey[0], cancelKey[1]);
            if (upstream != null) upstream.close();
            if (recording != null) {
                try {
                    recording.end(endReason);
                } catch (RuntimeException e) {
                    log.warn("could not record the end of a session: {}", e.getMessage());
                }
            }
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Startup: TLS, the agent's token as password, the upstream login with the gateway's credentials.

    /** Like the server's authentication_timeout: a client that does not finish logging in is dropped. */
    static final int LOGIN_TIMEOUT_MILLIS = 60_000;

    private boolean startup() throws IOException {
        socket.setSoTimeout(LOGIN_TIMEOUT_MILLIS);
        clientIn = PgFrameReader.fromClient(socket.getInputStream(), config.maxMessageBytes());
        clientOut = new PgMessageWriter(socket.getOutputStream());
        boolean secure = false;
        FrontendMessage.Startup startup = null;
        while (startup == null) {
            switch (clientIn.readStartupPacket()) {
                case FrontendMessage.SslRequest ssl -> {
                    if (tls == null || secure) {
                        clientOut.writeNegotiationByte('N');
                        clientOut.flush();
                    } else {
                        clientOut.writeNegotiationByte('S');
                        clientOut.flush();
                        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(socket,
                                socket.getInetAddress().getHostAddress(), socket.getPort(), true);
                        s.setUseClientMode(false);
                        s.startHandshake();
                        clientIn = PgFrameReader.fromClient(s.getInputStream(), config.maxMessageBytes());
                        clientOut = new PgMessageWriter(s.getOutputStream());
                        secure = true;
                    }
                }
                case FrontendMessage.GssEncRequest gss -> {
                    clientOut.writeNegotiationByte('N');
                    clientOut.flush();
                }
                case FrontendMessage.CancelRequest cancel -> {
                    boolean known = cancels.cancel(cancel.processId(), cancel.secretKey());
                    log.info("cancel request from {} on {}: {}", clientAddress, config.name(), known ? "forwarded" : "unknown key, ignored");
                    return false;
                }
                case FrontendMessage.Startup s -> startup = s;
            }
        }
        if (!secure && !config.allowPlaintext()) {
            sendFatal(PgErrors.fatal("28000", "Portcullis: connection '" + config.name() + "' requires TLS",
                    null, "connect with sslmode=require"));
            return false;
        }

        // The agent's OIDC token is its password; cleartext is how a password reaches us intact.
        clientOut.write(new BackendMessage.AuthenticationCleartextPassword());
        clientOut.flush();
        byte type = clientIn.readHeader();
        if (type != 'p') throw new PgProtocolException("expected a password message, got '" + (char) type + "'");
        String token = ((FrontendMessage.PasswordMessage) FrontendMessage.decode(clientIn.readPayload())).asPassword();
        try {
            identity = gate.authenticate(config.name(), "postgres", clientAddress,
                    token.isBlank() ? Optional.empty() : Optional.of(token.strip()));
        } catch (TokenRejectedException e) {
            sendFatal(PgErrors.fatal("28P01", "Portcullis refused the token (" + e.reason().label() + "): " + e.getMessage(),
                    null, "use your OIDC access token as the password"));
            return false;
        } catch (GateUnavailableException e) {
            sendFatal(PgErrors.fatal("08006", "Portcullis: " + e.getMessage()));
            return false;
        }

        Map<String, String> params = new LinkedHashMap<>();
        startup.parameters().forEach((k, v) -> {
            if (FORWARDED_PARAMETERS.contains(k)) params.put(k, v);
        });
        params.putIfAbsent("application_name", "portcullis");
        PostgresConnectionConfig.Upstream u = config.upstream();
        try {
            upstream = UpstreamConnection.open(u.host(), u.port(), u.database(), u.user(), u.password(), params);
        } catch (IOException e) {
            log.warn("connection '{}': upstream login failed: {}", config.name(), e.getMessage());
            sendFatal(PgErrors.fatal("08006", "Portcullis: connection '" + config.name()
                    + "' cannot reach its database: " + e.getMessage()));
            return false;
        }
        try {
            recording = gate.openSession(identity, config.name(), "postgres", clientAddress);
        } catch (GateUnavailableException e) {
            sendFatal(PgErrors.fatal("08006", "Portcullis: " + e.getMessage()));
            return false;
        }
        socket.setSoTimeout(0); // logged in: an idle session may stay, as with the server itself
        cancelKey = cancels.register(this);
        clientOut.write(new BackendMessage.AuthenticationOk());
        for (var p : upstream.parameters().entrySet()) {
            clientOut.write(new BackendMessage.ParameterStatus(p.getKey(), p.getValue()));
        }
        clientOut.write(new BackendMessage.BackendKeyData(cancelKey[0], cancelKey[1]));
        lastStatus = upstream.transactionStatus();
        clientOut.write(PgErrors.readyForQuery(lastStatus));
        clientOut.flush();
        log.info("{} connected to '{}' from {}", identity.subject(), config.name(), clientAddress);
        return true;
    }

    /** Whether the client closed its connection (a short, non-destructive look). */
    private boolean clientLeft() throws IOException {
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
        List<SqlStatement> statements;
        try {
            statements = SqlParser.parse(query.sql());
        } catch (SqlParseException e) {
            recordUnparseable(query.sql(), e);
            refuseUnit(PgErrors.error("42601", "Portcullis could not parse this statement, so it is refused: "
                    + e.getMessage()));
            return;
        }
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
            SqlStatement statement = resolveExecute(raw);
            Gate.Judged j;
            try {
                j = gate.judge(recording, config.name(), identity, statement, config.policy(), excerpt(statement));
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
                refusal = refusal(j.decision().verdict(), statement);
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
                    holdForApproval(held, heldStatement, hold, query.sql().getBytes(StandardCharsets.UTF_8));
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
        remember(statements);
        forwardUnit(unit, () -> {
            toServer.write(query);
            toServer.flush();
        });
    }

    /**
     * Holds this client's thread (a virtual thread) until the held statement is approved and released,
     * denied, or expires (the one approval flow, {@link ApprovalFlow}). The client is told at once, by a
     * NoticeResponse, which request it waits for and where it is decided; between waits the session
     * looks whether the client is still there, so an approval given after it left runs nothing.
     *
     * @return empty once released: forward the statement; else the refusal the client gets instead
     */
    private Optional<BackendMessage.ErrorResponse> holdForApproval(Gate.Judged judged, SqlStatement statement,
                                                                   Verdict.HoldForApproval hold, byte[] body) throws IOException {
        String groups = String.join(", ", hold.approverGroups());
        ApprovalFlow.Outcome outcome;
        try {
            outcome = gate.approvals().hold(judged, identity, body, hold, hold.holdTimeout(), new ApprovalFlow.Client() {
                @Override
                public void held(ApprovalRequest request, String page) throws IOException {
                    synchronized (clientWriteLock) {
                        clientOut.write(PgErrors.notice("01000",
                                "Portcullis: statement waits for approval by " + groups + " (request " + request.id() + ")",
                                "statement: " + statement.summary() + "\nrule " + hold.ruleId() + ": " + hold.reason()
                                        + hold.grant().map(g -> "\nonce approved, statements of this rule run without asking for "
                                                + ApprovalFlow.human(g)).orElse(""),
                                "approve or deny at " + page + "; this session waits up to " + ApprovalFlow.human(hold.holdTimeout())));
                        clientOut.flush();
                    }
                }

                @Override
                public boolean left() throws IOException {
                    return clientLeft();
                }
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while a statement was held for approval");
        }
        String detail = "statement: " + statement.summary() + "\nrule " + hold.ruleId() + ": " + hold.reason();
        return switch (outcome) {
            case ApprovalFlow.Outcome.Released released -> Optional.empty();
            case ApprovalFlow.Outcome.ClientLeft left -> throw new EOFException("the client left while " + left.approvalId() + " was held");
            case ApprovalFlow.Outcome.Unavailable u -> Optional.of(PgErrors.error("08006", "Portcullis: " + u.message()));
            case ApprovalFlow.Outcome.Pending p -> throw new IllegalStateException("a hold as long as its timeout ended pending");
            case ApprovalFlow.Outcome.Refused r -> Optional.of(PgErrors.error("42501", "Portcullis: " + r.message()
                    + (r.why() == ApprovalFlow.Refusal.EXPIRED ? ", so the statement was not run" : ""), detail,
                    r.why() == ApprovalFlow.Refusal.EXPIRED ? "send it again to request a new approval" : null));
        };
    }

    private void extended(RawMessage raw, PgMessageWriter toServer) throws IOException {
        FrontendMessage message = FrontendMessage.decode(raw);
        if (building == null) building = new ResponseUnit();
        ResponseUnit unit = building;
        if (unit.refusal != null && !(message instanceof FrontendMessage.Sync)) return; // skipping to Sync
        switch (message) {
            case FrontendMessage.Parse parse -> {
                List<SqlStatement> statements;
                try {
                    statements = SqlParser.parse(parse.sql());
                } catch (SqlParseException e) {
                    recordUnparseable(parse.sql(), e);
                    unit.refusal = PgErrors.error("42601", "Portcullis could not parse this statement, so it is refused: "
                            + e.getMessage());
                    return;
                }
                for (SqlStatement s : statements) {
                    Decision d = gate.decide(config.name(), identity, resolveExecute(s), config.policy());
                    // Preparing a statement that needs approval runs nothing: it is held when Executed,
                    // with its bind parameters, so the approval names exactly what runs.
                    if (d.verdict() instanceof Verdict.HoldForApproval && statements.size() == 1) continue;
                    Optional<BackendMessage.ErrorResponse> refusal = refusal(d.verdict(), s);
                    // a mask rule's lineage check refuses when the statement is prepared, not only when it runs
                    MaskCheck masking = refusal.isEmpty() ? maskCheck(d.verdict(), resolveExecute(s)) : MaskCheck.NONE;
                    if (masking.refused()) refusal = Optional.of(masking.error());
                    if (refusal.isPresent()) {
                        recordRefusal(s, masking);
                        unit.refusal = refusal.get();
                        return;
                    }
                }
                statementGeneration.put(parse.statement(), ++generation);
                parameterTypes.put(parse.statement(), parse.paramTypeOids());
                if (statements.size() == 1) prepared.put(parse.statement(), resolveExecute(statements.getFirst()));
                else prepared.remove(parse.statement()); // the server refuses several statements in one Parse
                unit.pending.add(raw);
            }
            case FrontendMessage.Bind bind -> {
                SqlStatement statement = prepared.get(bind.statement());
                if (statement != null) {
                    portals.put(bind.portal(), statement.withParameters(
                            BindParameters.render(bind, parameterTypes.getOrDefault(bind.statement(), List.of()))));
                }
                bound.put(bind.portal(), new Bound(++generation, statementGeneration.getOrDefault(bind.statement(), -1L),
                        bind.resultFormats()));
                unit.pending.add(raw);
            }
            case FrontendMessage.Execute execute -> {
                SqlStatement statement = portals.get(execute.portal());
                if (statement != null) {
                    try {
                        Gate.Judged j = gate.judge(recording, config.name(), identity, statement, config.policy(),
                                excerpt(statement));
                        Optional<BackendMessage.ErrorResponse> refusal;
                        if (j.decision().verdict() instanceof Verdict.HoldForApproval h) {
                            // Held before this Execute joins the batch: what went before it in the batch is
                            // still unsent (unless the client flushed), and nothing after it is read meanwhile.
                            refusal = holdForApproval(j, statement, h, statement.text().getBytes(StandardCharsets.UTF_8));
                        } else {
                            refusal = refusal(j.decision().verdict(), statement);
                        }
                        MaskCheck masking = refusal.isEmpty() ? maskCheck(j.decision().verdict(), statement) : MaskCheck.NONE;
                        if (masking.refused()) refusal = Optional.of(masking.error());
                        if (refusal.isPresent()) {
                            masking.completeRefused(j);
                            unit.refusal = refusal.get();
                            return;
                        }
                        remember(List.of(statement)); // a PREPARE or DEALLOCATE sent with the extended protocol
                        Bound b = bound.get(execute.portal());
                        unit.addSlot(j, statement, maskPlan(j.decision().verdict()), masking.derived(), b == null ? -1 : b.portalGeneration(),
                                b == null ? -1 : b.statementGeneration(), b == null ? List.of() : b.resultFormats());
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
                Bound b = bound.get(d.name());
                unit.describes.addLast(d.target() == FrontendMessage.Target.STATEMENT
                        ? new ResponseUnit.PendingDescribe(d.target(), statementGeneration.getOrDefault(d.name(), -1L), -1L)
                        : new ResponseUnit.PendingDescribe(d.target(), b == null ? -1L : b.portalGeneration(),
                                b == null ? -1L : b.statementGeneration()));
                unit.pending.add(raw);
            }
            case FrontendMessage.Close close -> {
                if (close.target() == FrontendMessage.Target.STATEMENT) prepared.remove(close.name());
                else portals.remove(close.name());
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
                            toServer.write(new FrontendMessage.Execute(REFUSED_PORTAL, 0));
                            toServer.write(new FrontendMessage.Sync());
                            toServer.flush();
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
            if (!unit.queued) {
                units.addLast(unit);
                unit.queued = true;
            }
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
            if (!unit.queued) {
                units.addLast(unit);
                unit.queued = true;
            }
            unit.complete = true;
        }
        send.run();
    }

    /**
     * Answers a refused unit in order, behind whatever is in flight: the server fails an Execute of
     * {@link #REFUSED_PORTAL} (aborting an open transaction, as its own error would), and the client
     * gets the refusal in place of that error.
     */
    private void refuseUnit(BackendMessage.ErrorResponse refusal) throws IOException {
        ResponseUnit unit = new ResponseUnit();
        unit.replaceError = refusal;
        unit.replaceAnyError = true;
        PgMessageWriter toServer = upstream.writer();
        forwardUnit(unit, () -> {
            toServer.write(new FrontendMessage.Execute(REFUSED_PORTAL, 0));
            toServer.write(new FrontendMessage.Sync());
            toServer.flush();
        });
    }

    private Optional<BackendMessage.ErrorResponse> refusal(Verdict verdict, SqlStatement statement) {
        return switch (verdict) {
            case Verdict.Allow a -> Optional.empty();
            case Verdict.Mask m -> Optional.empty();
            case Verdict.Granted g -> Optional.empty();
            case Verdict.Deny d -> Optional.of(PgErrors.error("42501",
                    "Portcullis: refused by rule " + d.ruleId() + ": " + d.reason(),
                    "statement: " + statement.summary(), null));
            case Verdict.HoldForApproval h -> Optional.of(PgErrors.error("42501",
                    "Portcullis: rule " + h.ruleId() + " requires approval by " + String.join(", ", h.approverGroups())
                            + ": " + h.reason(),
                    "statement: " + statement.summary(),
                    "a statement that needs approval is held only when it is prepared and executed on its own, "
                            + "so it is refused here"));
        };
    }

    /** The lineage check of a statement allowed with masking; EXECUTE name is checked as the query it runs. */
    private MaskCheck maskCheck(Verdict verdict, SqlStatement statement) {
        String text = statement.text();
        if (statement.preparedName().isPresent() && statement.preparedQuery().isEmpty()) {
            SqlStatement prepare = sqlPrepared.get(statement.preparedName().get());
            if (prepare != null && statement.kind() != SqlStatement.Kind.EXECUTE
                    && statement.kind() != SqlStatement.Kind.DEALLOCATE) {
                text = prepare.text();
            }
        }
        return MaskCheck.of(verdict, statement, text, catalog);
    }

    private static MaskPlan maskPlan(Verdict verdict) {
        return verdict instanceof Verdict.Mask m ? m.plan() : MaskPlan.NONE;
    }

    /** EXECUTE name is judged by the statement it runs, when this session PREPAREd it. */
    private SqlStatement resolveExecute(SqlStatement statement) {
        if (statement.kind() == SqlStatement.Kind.EXECUTE && statement.preparedName().isPresent()) {
            SqlStatement prepare = sqlPrepared.get(statement.preparedName().get());
            if (prepare != null) return statement.executing(prepare);
        }
        return statement;
    }

    private void remember(List<SqlStatement> statements) {
        for (SqlStatement s : statements) {
            if (s.kind() == SqlStatement.Kind.PREPARE && s.preparedName().isPresent() && s.preparedQuery().isPresent()) {
                sqlPrepared.put(s.preparedName().get(), s);
            } else if (s.kind() == SqlStatement.Kind.DEALLOCATE && s.preparedName().isPresent()) {
                sqlPrepared.remove(s.preparedName().get());
            }
        }
    }

    /** What the recording keeps of a statement, and approvers read: its text and parameters as sent, minus secrets. */
    private String excerpt(SqlStatement statement) {
        var redactor = config.redactor();
        String params = statement.bindParameters().isEmpty() ? ""
                : "\nparameters: " + statement.bindParameters().stream().map(redactor::value).toList();
        return redactor.sql(statement.text()) + params;
    }

    private void recordRefusal(SqlStatement statement, MaskCheck masking) {
        try {
            masking.completeRefused(gate.judge(recording, config.name(), identity, statement, config.policy(), excerpt(statement)));
        } catch (GateUnavailableException e) {
            log.error("could not record a refusal on {}: {}", config.name(), e.getMessage());
        }
    }

    private void recordUnparseable(String sql, SqlParseException e) {
        gate.refuseUnjudged(recording, config.name(), SqlStatement.unparseable(config.redactor().sql(sql)),
                "unparseable SQL: " + e.getMessage());
    }

    // ---------------------------------------------------------------------------------------------
    // Server → client: rows masked, outcomes recorded, refusals in place of the server's own errors.

    /** Server-thread state: what Describe told about statements and portals, and suspended portals' maskers. */
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
            if (fields != null) return RowMasker.of(fields, plan, catalog, slot.derived());
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

    private void serverLoop() {
        PgFrameReader fromServer = upstream.reader();
        ResultCapture result = new ResultCapture(config.recordedRows());
        try {
            while (true) {
                byte type = fromServer.readHeader();
                ResponseUnit unit;
                synchronized (clientWriteLock) {
                    unit = units.peekFirst();
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
                                synchronized (clientWriteLock) {
                                    fromServer.forwardPayload(clientOut);
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
                                    unit == null ? null : unit.derivedForNextResult(), catalog);
                        }
                        writeToClient(raw);
                    }
                    case 'n' -> { // NoData answers a Describe too
                        if (unit != null) unit.describes.pollFirst();
                        synchronized (clientWriteLock) {
                            fromServer.forwardPayload(clientOut);
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
                                unit == null ? null : unit.derivedForNextResult(), catalog);
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
                            catalog.invalidate();
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
                            synchronized (clientWriteLock) {
                                clientOut.write(unit.replaceError);
                            }
                            unit.replaceError = null;
                            unit.injectBeforeReady = null;
                        } else if (withheld != null) {
                            synchronized (clientWriteLock) {
                                clientOut.write(withheld);
                            }
                        } else {
                            writeToClient(raw);
                        }
                    }
                    case 'Z' -> {
                        RawMessage raw = fromServer.readPayload();
                        lastStatus = ((BackendMessage.ReadyForQuery) BackendMessage.decode(raw)).status();
                        synchronized (clientWriteLock) {
                            ResponseUnit done = units.pollFirst();
                            if (done != null && done.injectBeforeReady != null) clientOut.write(done.injectBeforeReady);
                            if (done != null) done.failRemaining("not executed");
                            clientOut.write(raw);
                            if (!fromServer.hasBufferedInput()) clientOut.flush();
                        }
                        result.reset();
                    }
                    default -> {
                        synchronized (clientWriteLock) {
                            fromServer.forwardPayload(clientOut);
                        }
                    }
                }
                if (!fromServer.hasBufferedInput()) {
                    synchronized (clientWriteLock) {
                        clientOut.flush();
                    }
                }
            }
        } catch (EOFException e) {
            log.debug("upstream closed the connection for {}", config.name());
        } catch (IOException e) {
            if (!ending) {
                log.info("relay from upstream ended on {}: {}", config.name(), e.getMessage());
                sendFatal(PgErrors.fatal("08006", "Portcullis: " + e.getMessage()));
            }
        } finally {
            synchronized (clientWriteLock) {
                for (ResponseUnit u : units) u.failRemaining("connection ended");
            }
            if (!ending) {
                try {
                    socket.close(); // unblocks the client thread
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }

    private void writeToClient(RawMessage message) throws IOException {
        synchronized (clientWriteLock) {
            clientOut.write(message);
        }
    }

    private void sendFatal(BackendMessage.ErrorResponse error) {
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
