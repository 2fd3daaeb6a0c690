package dev.portcullis.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Operation;
import dev.portcullis.core.Json;
import dev.portcullis.gate.ApprovalFlow;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.identity.BearerCredentials;
import dev.portcullis.identity.TokenRejectedException;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.policy.Decision;
import dev.portcullis.policy.Verdict;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP adapter's pipeline for one request, top to bottom:
 * authenticate → turn the request into an {@link HttpCall} → decide → refuse (under a mask rule, also a
 * search on a masked field: {@link MaskedFieldSearch}), or inject the target's credential and forward →
 * mask the response → record → release.
 *
 * <p>Where it runs: a read whose token the gateway verified before is decided on the agent connection's
 * event loop, with nothing to wait for, and forwarded from there ({@link HttpUpstream}). Everything that
 * may wait (a token to check with the issuer, a change to make durable before it is forwarded, an
 * approval to wait for or to redeem) runs on a virtual thread of its own, where blocking is cheap.
 */
final class HttpGatewayHandler {
    private static final Logger log = LoggerFactory.getLogger(HttpGatewayHandler.class);
    private static final ObjectMapper JSON = Json.mapper();
    private static final int MAX_REQUEST_EXCERPT_CHARS = 16 * 1024;

    /** The header an agent repeats a held call with, carrying the approval id; never forwarded upstream. */
    static final String APPROVAL_HEADER = "Portcullis-Approval";

    /**
     * The longest a held HTTP request is kept open waiting for approval. HTTP clients and proxies in
     * between commonly give up after 30 to 60 seconds, so the gateway answers
     * before that: with the upstream's response when approved in time, otherwise with an
     * {@code approval-pending} problem and the id to retry with.
     */
    static final Duration MAX_HOLD_WAIT = Duration.ofSeconds(25);

    private final HttpConnectionConfig connection;
    private final Gate gate;
    private final HttpUpstream upstream;
    private final Executor blocking;
    private final HttpDialect dialect;

    HttpGatewayHandler(HttpConnectionConfig connection, Gate gate, HttpUpstream upstream, Executor blocking, HttpDialect dialect) {
        this.connection = connection;
        this.gate = gate;
        this.upstream = upstream;
        this.blocking = blocking;
        this.dialect = dialect;
    }

    HttpDialect dialect() {
        return dialect;
    }

    String connectionName() {
        return connection.name();
    }

    /** Takes a whole request, on its connection's event loop. */
    void handle(AgentExchange exchange) {
        long startNanos = System.nanoTime();
        Optional<String> token = BearerCredentials.fromAuthorizationHeader(exchange.header(HttpHeaderNames.AUTHORIZATION));
        // The body is parsed only once the caller is known: a stranger's megabyte of JSON costs nothing.
        HttpCall call = toOperation(exchange, false);
        Operation operation;
        try {
            operation = dialect.operation(call, exchange.uri().getPath(), exchange.request().headers());
        } catch (HttpDialect.Refused refused) {
            blocking.execute(() -> refuseUnjudged(exchange, token, call, refused));
            return;
        }
        if (operation.mayChangeTarget() || exchange.tooLarge() || exchange.header(APPROVAL_HEADER) != null) {
            blocking.execute(() -> process(exchange, token, call, operation, startNanos, null));
            return;
        }
        Optional<Identity> known;
        try {
            known = gate.authenticateInPlace(connection.name(), dialect.protocol(), exchange.clientAddress(), token);
        } catch (TokenRejectedException e) {
            exchange.problem(tokenProblem(e));
            return;
        } catch (GateUnavailableException e) {
            exchange.problem(HttpProblem.unavailable(connection.name(), e.getMessage()));
            return;
        }
        if (known.isPresent()) {
            process(exchange, token, call, operation, startNanos, known.get());
        } else {
            blocking.execute(() -> process(exchange, token, call, operation, startNanos, null));
        }
    }

    /** A request the dialect refuses before judging: recorded against its caller (once known), then answered. */
    private void refuseUnjudged(AgentExchange exchange, Optional<String> token, HttpCall call, HttpDialect.Refused refused) {
        String name = connection.name();
        try {
            Identity identity = gate.authenticate(name, dialect.protocol(), exchange.clientAddress(), token);
            gate.refuseUnjudged(name, dialect.protocol(), exchange.clientAddress(), identity, call, refused.getMessage());
        } catch (TokenRejectedException e) {
            exchange.problem(tokenProblem(e));
            return;
        } catch (GateUnavailableException e) {
            exchange.problem(HttpProblem.unavailable(name, e.getMessage()));
            return;
        }
        exchange.problem(HttpProblem.refused(name, refused.status(), refused.type(), refused.getMessage(), call.summary()));
    }

    /** {@code known}: the caller's identity, checked in place on the event loop; null: check it here, on a virtual thread. */
    private void process(AgentExchange exchange, Optional<String> token, HttpCall call, Operation operation, long startNanos, Identity known) {
        try {
            decide(exchange, token, call, operation, startNanos, known);
        } catch (RuntimeException e) {
            log.error("request on {} failed: {}", connection.name(), e.toString(), e);
            exchange.problem(HttpProblem.unavailable(connection.name(), "the gateway failed to handle the request: " + e));
        }
    }

    private HttpProblem tokenProblem(TokenRejectedException e) {
        String name = connection.name();
        return switch (e.reason()) {
            case MISSING -> HttpProblem.missingToken(name);
            // Not the token's fault: the gateway cannot check it right now. Still refused.
            case IDP_UNAVAILABLE -> HttpProblem.unavailable(name, e.getMessage());
            default -> HttpProblem.unauthorized(name, e.reason().label(), e.getMessage());
        };
    }

    private void decide(AgentExchange exchange, Optional<String> token, HttpCall light, Operation judgedAs, long startNanos, Identity known) {
        String name = connection.name();
        String clientAddress = exchange.clientAddress();
        boolean onLoop = known != null;

        // 1. Who is calling? Without a valid token nothing else happens.
        Identity identity = known;
        if (identity == null) {
            try {
                identity = gate.authenticate(name, dialect.protocol(), clientAddress, token);
            } catch (TokenRejectedException e) {
                exchange.problem(tokenProblem(e));
                return;
            } catch (GateUnavailableException e) {
                exchange.problem(HttpProblem.unavailable(name, e.getMessage()));
                return;
            }
        }

        // 2. What does it want to do? Policy may judge the body, which was read whole, up to the limit.
        boolean readBody = judgedAs == light && !exchange.tooLarge() && exchange.body().length > 0;
        HttpCall call = readBody ? toOperation(exchange, true) : light; // the caller is known now: the JSON body may be read
        Operation operation = readBody ? call : judgedAs;
        if (exchange.tooLarge()) {
            gate.refuseUnjudged(name, dialect.protocol(), clientAddress, identity, operation,
                    "request body over " + connection.maxRequestBytes() + " bytes");
            exchange.problem(HttpProblem.tooLarge(name, connection.maxRequestBytes()));
            return;
        }
        byte[] body = exchange.body();
        Gate.Judged judged;
        try {
            judged = gate.judge(name, dialect.protocol(), clientAddress, identity, operation, connection.policy(),
                    body.length == 0 ? "" : requestExcerpt(call, body));
        } catch (GateUnavailableException e) {
            exchange.problem(HttpProblem.unavailable(name, e.getMessage()));
            return;
        }
        Decision decision = judged.decision();

        // 3. Refuse, or forward.
        switch (decision.verdict()) {
            case Verdict.Deny deny -> {
                judged.completeRefused(startNanos);
                exchange.problem(HttpProblem.denied(name, deny.ruleId(), deny.reason(), operation.summary()));
            }
            case Verdict.HoldForApproval hold -> {
                Identity caller = identity;
                Runnable held = () -> {
                    String presented = exchange.header(APPROVAL_HEADER);
                    if (presented == null) {
                        hold(exchange, caller, call, operation, body, hold, judged, startNanos);
                    } else {
                        retry(exchange, caller, call, operation, body, hold, presented.strip(), judged, startNanos);
                    }
                };
                // Waiting for people is for a virtual thread, never for the event loop.
                if (onLoop) blocking.execute(held); else held.run();
            }
            case Verdict.Allow allow -> {
                Optional<byte[]> local = dialect.answerLocally(operation, body, identity, connection.policy());
                if (local.isPresent()) answerLocally(exchange, local.get(), judged, startNanos);
                else upstream.forward(exchange, call, operation, body, MaskPlan.NONE, judged, startNanos);
            }
            case Verdict.Granted granted -> {
                exchange.answerHeader(APPROVAL_HEADER, granted.approvalId());
                upstream.forward(exchange, call, operation, body, MaskPlan.NONE, judged, startNanos);
            }
            case Verdict.Mask mask when dialect != HttpDialect.REST -> upstream.forward(exchange, call, operation, body, mask.plan(), judged, startNanos);
            case Verdict.Mask mask -> {
                // A masked field must not be searched or sorted by either: it leaks by which rows come back, or in what order.
                Optional<MaskedFieldSearch> oracle = MaskedFieldSearch.find(connection.filterParams(), connection.sortParams(),
                        call.query(), mask.ruleId(), mask.plan());
                if (oracle.isPresent()) {
                    judged.completeRefused(new Verdict.Deny(mask.ruleId(), oracle.get().detail()), startNanos);
                    exchange.problem(HttpProblem.maskedFieldSearch(name, mask.ruleId(), operation.summary(), oracle.get()));
                } else {
                    upstream.forward(exchange, call, operation, body, mask.plan(), judged, startNanos);
                }
            }
        }
    }

    /** The gateway's own answer (recorded first, as any response), never the upstream's. */
    private void answerLocally(AgentExchange exchange, byte[] json, Gate.Judged judged, long startNanos) {
        try {
            judged.completeForwarded(200, new dev.portcullis.recording.Excerpt(new String(json, StandardCharsets.UTF_8), false, json.length),
                    startNanos);
        } catch (GateUnavailableException e) {
            exchange.problem(HttpProblem.unavailable(connection.name(), e.getMessage()));
            return;
        }
        var response = new io.netty.handler.codec.http.DefaultFullHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpResponseStatus.CREATED, io.netty.buffer.Unpooled.wrappedBuffer(json));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, json.length);
        exchange.respond(response);
    }

    /**
     * Holds a call policy wants approved: opens the approval request, then keeps the HTTP request
     * open up to {@link #holdWait(Duration)} for a decision. Approved in time: forwarded as an allowed
     * call would be. Otherwise refused with a problem naming the approval id, so the agent can retry:
     * still pending, with the connection's {@code approval-pending-status} (403 or 202); denied or
     * otherwise unusable, always 403.
     */
    private void hold(AgentExchange exchange, Identity identity, HttpCall call, Operation operation,
                      byte[] body, Verdict.HoldForApproval hold, Gate.Judged judged, long startNanos) {
        ApprovalFlow.Outcome outcome;
        try {
            // The approval's events join the agent's session, beside the call they are about.
            outcome = gate.approvals().hold(judged, identity, body, hold, dialect.holdWait(hold.holdTimeout()), new ApprovalFlow.Client() {
                @Override
                public boolean left() {
                    return !exchange.agentConnected();
                }
            });
        } catch (InterruptedException | IOException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            judged.completeRefused(startNanos);
            exchange.problem(HttpProblem.unavailable(connection.name(), "the gateway stopped while the call was waiting for approval; repeat it"
                    + " with header '" + APPROVAL_HEADER + ": <approval id>' once it is approved"));
            return;
        }
        answer(outcome, false, exchange, call, operation, body, hold, judged, startNanos);
    }

    /** The agent repeats a held call with {@value #APPROVAL_HEADER}: forwarded once, only if approved for exactly it. */
    private void retry(AgentExchange exchange, Identity identity, HttpCall call, Operation operation,
                       byte[] body, Verdict.HoldForApproval hold, String id, Gate.Judged judged, long startNanos) {
        answer(gate.approvals().release(judged, identity, body, id), true, exchange, call, operation, body, hold,
                judged, startNanos);
    }

    /** Forwards a released call; answers every other outcome of a hold with a problem that names the approval. */
    private void answer(ApprovalFlow.Outcome outcome, boolean retried, AgentExchange exchange,
                        HttpCall call, Operation operation, byte[] body, Verdict.HoldForApproval hold, Gate.Judged judged, long startNanos) {
        String name = connection.name();
        String rule = hold.ruleId();
        if (outcome instanceof ApprovalFlow.Outcome.Released released) {
            exchange.answerHeader(APPROVAL_HEADER, released.approvalId());
            upstream.forward(exchange, call, operation, body, MaskPlan.NONE, judged, startNanos);
            return;
        }
        // Not forwarded, so recorded as refused even when answered 202 (approval-pending-status).
        judged.completeRefused(startNanos);
        HttpProblem problem = switch (outcome) {
            case ApprovalFlow.Outcome.Released r -> throw new AssertionError();
            case ApprovalFlow.Outcome.Unavailable u -> HttpProblem.unavailable(name, u.message());
            case ApprovalFlow.Outcome.ClientLeft left -> HttpProblem.unavailable(name, "the client left while "
                    + left.approvalId() + " was held");
            // A retry before anyone decided: an agent in 202 mode polls (Retry-After) and hears "still pending".
            case ApprovalFlow.Outcome.Pending p when retried && connection.approvalPendingStatus() != 202 ->
                    HttpProblem.approvalNotUsable(name, rule, operation.summary(), p.request().id(), "not-approved",
                            "approval request " + p.request().id() + " is not approved yet (" + p.request().approvals().size()
                                    + " of " + p.request().approvalsRequired() + " approvals); approve it at " + p.page()
                                    + ", then repeat the request");
            case ApprovalFlow.Outcome.Pending p -> HttpProblem.approvalPending(connection.approvalPendingStatus(), name, rule,
                    hold.reason(), operation.summary(), hold.approverGroups(), p.request().id(), p.page(), p.request().expiresAt());
            case ApprovalFlow.Outcome.Refused r when r.why() == ApprovalFlow.Refusal.DENIED -> {
                var denial = r.request().orElseThrow().denial().orElseThrow();
                yield HttpProblem.approvalDenied(name, r.request().get().ruleId(), operation.summary(), r.approvalId(),
                        denial.subject(), denial.reason());
            }
            case ApprovalFlow.Outcome.Refused r -> HttpProblem.approvalNotUsable(name, rule, operation.summary(), r.approvalId(),
                    r.why().label(), r.message() + hint(r.why()));
        };
        exchange.problem(problem);
    }

    /** What the agent can do about a refused approval, in HTTP terms. */
    private static String hint(ApprovalFlow.Refusal why) {
        return switch (why) {
            case EXPIRED -> "; send the request again without the " + APPROVAL_HEADER + " header to ask anew";
            case UNKNOWN, DIFFERENT_OPERATION, ALREADY_USED -> "; send the request again without the " + APPROVAL_HEADER
                    + " header to ask for approval of this call";
            default -> "";
        };
    }

    /**
     * How long a held HTTP request is kept open waiting for a decision: half the rule's
     * {@code hold-timeout}, at most {@link #MAX_HOLD_WAIT}. Half, because the hold-timeout is also
     * when the approval request expires: a call still pending after the wait must leave the agent
     * time to retry with {@value #APPROVAL_HEADER} once it is approved.
     */
    static Duration holdWait(Duration holdTimeout) {
        Duration half = holdTimeout.dividedBy(2);
        return half.compareTo(MAX_HOLD_WAIT) < 0 ? half : MAX_HOLD_WAIT;
    }

    /**
     * What the recording keeps of the request body, and approvers read: a JSON body as sent, minus
     * secrets (the agent's request is its own action, not data it reads), up to 16 KiB.
     */
    private String requestExcerpt(HttpCall call, byte[] body) {
        if (call.json().isPresent()) {
            String recorded = connection.redactor().json(dialect.recordedBody(new String(body, StandardCharsets.UTF_8)));
            return recorded.length() <= MAX_REQUEST_EXCERPT_CHARS ? recorded : recorded.substring(0, MAX_REQUEST_EXCERPT_CHARS);
        }
        return "(" + body.length + " bytes of " + (call.contentType().isEmpty() ? "unknown type" : call.contentType()) + ")";
    }

    /** {@code parseJson}: read a JSON body into the call (for body conditions); false: the call without it. */
    private static HttpCall toOperation(AgentExchange exchange, boolean parseJson) {
        byte[] body = exchange.body();
        String rawQuery = exchange.uri().getQuery();
        String contentType = exchange.header(HttpHeaderNames.CONTENT_TYPE);
        Optional<JsonNode> json = Optional.empty();
        if (parseJson && body.length > 0 && BodyMode.isJson(contentType)) {
            try {
                json = Optional.of(JSON.readTree(body));
            } catch (IOException e) {
                // Not JSON after all: rules with body conditions will not match it.
                json = Optional.empty();
            }
        }
        return new HttpCall(exchange.request().method().name().toUpperCase(java.util.Locale.ROOT),
                exchange.uri().getDecodedPath(), rawQuery, HttpCall.parseQuery(rawQuery), contentType, json, body.length);
    }

    /** How much of a refused request's body is read and dropped so that its refusal arrives ({@link AgentConnection}). */
    static final long LINGER_MAX_BYTES = 16L * 1024 * 1024;
}
