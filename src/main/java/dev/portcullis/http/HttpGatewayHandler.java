package dev.portcullis.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.gate.ApprovalFlow;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.identity.BearerCredentials;
import dev.portcullis.identity.TokenRejectedException;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.policy.Decision;
import dev.portcullis.policy.Verdict;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP adapter's pipeline for one request, top to bottom:
 * authenticate → read the bounded body into an {@link HttpCall} → decide → refuse (under a mask rule, also
 * a search on a masked field: {@link MaskedFieldSearch}), or inject the target's credential and forward →
 * mask the response while streaming it → record → release.
 *
 * <p>Runs on a virtual thread per request (blocking I/O is cheap there), so the code reads in order.
 */
final class HttpGatewayHandler extends Handler.Abstract {
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

    HttpGatewayHandler(HttpConnectionConfig connection, Gate gate, HttpUpstream upstream) {
        this.connection = connection;
        this.gate = gate;
        this.upstream = upstream;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        long startNanos = System.nanoTime();
        String name = connection.name();
        String clientAddress = Request.getRemoteAddr(request);

        // 1. Who is calling? Without a valid token nothing else happens.
        Identity identity;
        try {
            Optional<String> token = BearerCredentials.fromAuthorizationHeader(
                    request.getHeaders().get(HttpHeader.AUTHORIZATION));
            identity = gate.authenticate(name, "http", clientAddress, token);
        } catch (TokenRejectedException e) {
            lingeringClose(request, response);
            (switch (e.reason()) {
                case MISSING -> HttpProblem.missingToken(name);
                // Not the token's fault: the gateway cannot check it right now. Still refused.
                case IDP_UNAVAILABLE -> HttpProblem.unavailable(name, e.getMessage());
                default -> HttpProblem.unauthorized(name, e.reason().label(), e.getMessage());
            }).send(response, callback);
            return true;
        } catch (GateUnavailableException e) {
            lingeringClose(request, response);
            HttpProblem.unavailable(name, e.getMessage()).send(response, callback);
            return true;
        }

        // 2. What does it want to do? The body is read whole, up to the limit: policy may judge it.
        byte[] body;
        try {
            body = readBounded(request, connection.maxRequestBytes());
        } catch (TooLargeException e) {
            lingeringClose(request, response);
            gate.refuseUnjudged(name, "http", clientAddress, identity, toOperation(request, new byte[0]),
                    "request body over " + connection.maxRequestBytes() + " bytes");
            HttpProblem.tooLarge(name, connection.maxRequestBytes()).send(response, callback);
            return true;
        }
        HttpCall call = toOperation(request, body);
        Gate.Judged judged;
        try {
            judged = gate.judge(name, "http", clientAddress, identity, call, connection.policy(),
                    body.length == 0 ? "" : requestExcerpt(call, body));
        } catch (GateUnavailableException e) {
            HttpProblem.unavailable(name, e.getMessage()).send(response, callback);
            return true;
        }
        Decision decision = judged.decision();

        // 3. Refuse, or forward.
        switch (decision.verdict()) {
            case Verdict.Deny deny -> {
                judged.completeRefused(startNanos);
                HttpProblem.denied(name, deny.ruleId(), deny.reason(), call.summary()).send(response, callback);
            }
            case Verdict.HoldForApproval hold -> {
                String presented = request.getHeaders().get(APPROVAL_HEADER);
                if (presented == null) {
                    hold(request, response, callback, identity, call, body, hold, judged, startNanos);
                } else {
                    retry(request, response, callback, identity, call, body, hold, presented.strip(), judged, startNanos);
                }
            }
            case Verdict.Allow allow -> upstream.forward(request, response, callback, call, body, MaskPlan.NONE, judged, startNanos);
            case Verdict.Granted granted -> {
                response.getHeaders().put(APPROVAL_HEADER, granted.approvalId());
                upstream.forward(request, response, callback, call, body, MaskPlan.NONE, judged, startNanos);
            }
            case Verdict.Mask mask -> {
                // A masked field must not be searched or sorted by either: it leaks by which rows come back, or in what order.
                Optional<MaskedFieldSearch> oracle = MaskedFieldSearch.find(connection.filterParams(), connection.sortParams(),
                        call.query(), mask.ruleId(), mask.plan());
                if (oracle.isPresent()) {
                    judged.completeRefused(new Verdict.Deny(mask.ruleId(), oracle.get().detail()), startNanos);
                    HttpProblem.maskedFieldSearch(name, mask.ruleId(), call.summary(), oracle.get()).send(response, callback);
                } else {
                    upstream.forward(request, response, callback, call, body, mask.plan(), judged, startNanos);
                }
            }
        }
        return true;
    }

    /**
     * Holds a call policy wants approved: opens the approval request, then keeps the HTTP request
     * open up to {@link #holdWait(Duration)} for a decision. Approved in time: forwarded as an allowed
     * call would be. Otherwise refused with a problem naming the approval id, so the agent can retry:
     * still pending, with the connection's {@code approval-pending-status} (403 or 202); denied or
     * otherwise unusable, always 403.
     */
    private void hold(Request request, Response response, Callback callback, Identity identity, HttpCall call,
                      byte[] body, Verdict.HoldForApproval hold, Gate.Judged judged, long startNanos) {
        ApprovalFlow.Outcome outcome;
        try {
            // The approval's events join the agent's session, beside the call they are about.
            outcome = gate.approvals().hold(judged, identity, body, hold, holdWait(hold.holdTimeout()), new ApprovalFlow.Client() {
            });
        } catch (InterruptedException | IOException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            judged.completeRefused(startNanos);
            HttpProblem.unavailable(connection.name(), "the gateway stopped while the call was waiting for approval; repeat it"
                    + " with header '" + APPROVAL_HEADER + ": <approval id>' once it is approved").send(response, callback);
            return;
        }
        answer(outcome, false, request, response, callback, call, body, hold, judged, startNanos);
    }

    /** The agent repeats a held call with {@value #APPROVAL_HEADER}: forwarded once, only if approved for exactly it. */
    private void retry(Request request, Response response, Callback callback, Identity identity, HttpCall call,
                       byte[] body, Verdict.HoldForApproval hold, String id, Gate.Judged judged, long startNanos) {
        answer(gate.approvals().release(judged, identity, body, id), true, request, response, callback, call, body, hold,
                judged, startNanos);
    }

    /** Forwards a released call; answers every other outcome of a hold with a problem that names the approval. */
    private void answer(ApprovalFlow.Outcome outcome, boolean retried, Request request, Response response, Callback callback,
                        HttpCall call, byte[] body, Verdict.HoldForApproval hold, Gate.Judged judged, long startNanos) {
        String name = connection.name();
        String rule = hold.ruleId();
        if (outcome instanceof ApprovalFlow.Outcome.Released released) {
            response.getHeaders().put(APPROVAL_HEADER, released.approvalId());
            upstream.forward(request, response, callback, call, body, MaskPlan.NONE, judged, startNanos);
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
                    HttpProblem.approvalNotUsable(name, rule, call.summary(), p.request().id(), "not-approved",
                            "approval request " + p.request().id() + " is not approved yet (" + p.request().approvals().size()
                                    + " of " + p.request().approvalsRequired() + " approvals); approve it at " + p.page()
                                    + ", then repeat the request");
            case ApprovalFlow.Outcome.Pending p -> HttpProblem.approvalPending(connection.approvalPendingStatus(), name, rule,
                    hold.reason(), call.summary(), hold.approverGroups(), p.request().id(), p.page(), p.request().expiresAt());
            case ApprovalFlow.Outcome.Refused r when r.why() == ApprovalFlow.Refusal.DENIED -> {
                var denial = r.request().orElseThrow().denial().orElseThrow();
                yield HttpProblem.approvalDenied(name, r.request().get().ruleId(), call.summary(), r.approvalId(),
                        denial.subject(), denial.reason());
            }
            case ApprovalFlow.Outcome.Refused r -> HttpProblem.approvalNotUsable(name, rule, call.summary(), r.approvalId(),
                    r.why().label(), r.message() + hint(r.why()));
        };
        problem.send(response, callback);
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
            String recorded = connection.redactor().json(new String(body, StandardCharsets.UTF_8));
            return recorded.length() <= MAX_REQUEST_EXCERPT_CHARS ? recorded : recorded.substring(0, MAX_REQUEST_EXCERPT_CHARS);
        }
        return "(" + body.length + " bytes of " + (call.contentType().isEmpty() ? "unknown type" : call.contentType()) + ")";
    }

    private static HttpCall toOperation(Request request, byte[] body) {
        String rawQuery = request.getHttpURI().getQuery();
        String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        Optional<JsonNode> json = Optional.empty();
        if (body.length > 0 && HttpUpstream.isJson(contentType)) {
            try {
                json = Optional.of(JSON.readTree(body));
            } catch (IOException e) {
                // Not JSON after all: rules with body conditions will not match it.
                json = Optional.empty();
            }
        }
        return new HttpCall(request.getMethod().toUpperCase(java.util.Locale.ROOT),
                request.getHttpURI().getDecodedPath(), rawQuery, HttpCall.parseQuery(rawQuery), contentType, json, body.length);
    }

    private static final byte[] NO_BODY = new byte[0];

    private static byte[] readBounded(Request request, long maxBytes) throws IOException, TooLargeException {
        long declared = request.getLength();
        if (declared > maxBytes) throw new TooLargeException();
        // Neither Content-Length nor Transfer-Encoding: HTTP/1.1 says there is no body (RFC 9112, 6.3).
        if (declared == 0 || (declared < 0 && !request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING))) return NO_BODY;
        try (InputStream in = Content.Source.asInputStream(request)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 256);
            byte[] buf = new byte[8192];
            long total = 0;
            int n;
            while ((n = in.read(buf)) != -1) {
                total += n;
                if (total > maxBytes) throw new TooLargeException();
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }
    }

    /** How much of a refused request's body is read and dropped so that its refusal arrives (see {@link #lingeringClose}). */
    static final long LINGER_MAX_BYTES = 16L * 1024 * 1024;

    /**
     * Before answering a request whose body the gateway will not read (too large, no valid token): reads
     * and drops what the client is still sending, up to {@link #LINGER_MAX_BYTES}, and closes the
     * connection after the answer, as nginx's lingering close does. Closing with the client's bytes unread
     * makes the kernel reset the connection, and a client reading late sees the reset, not the 413 or
     * 401. A client that sends more than the bound is cut off.
     */
    private static void lingeringClose(Request request, Response response) {
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        try {
            InputStream in = Content.Source.asInputStream(request);
            byte[] drop = new byte[16 * 1024];
            long total = 0;
            int n;
            while (total < LINGER_MAX_BYTES && (n = in.read(drop)) != -1) total += n;
        } catch (IOException | RuntimeException e) {
            // the client went away or sent garbage: the answer is written anyway, and the connection closed
        }
    }

    private static final class TooLargeException extends Exception {
        TooLargeException() {
            super(null, null, false, false);
        }
    }
}
