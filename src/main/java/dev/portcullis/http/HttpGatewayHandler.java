package dev.portcullis.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.config.HttpConnectionConfig;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.identity.BearerCredentials;
import dev.portcullis.identity.TokenRejectedException;
import dev.portcullis.masking.JsonMasker;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.policy.Decision;
import dev.portcullis.policy.Verdict;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * authenticate → read the bounded body into an {@link HttpCall} → decide → refuse, or inject the
 * target's credential and forward → mask the response while streaming it → record → release.
 *
 * <p>Runs on a virtual thread per request (blocking I/O is cheap there), so the code reads in order.
 */
final class HttpGatewayHandler extends Handler.Abstract {
    private static final Logger log = LoggerFactory.getLogger(HttpGatewayHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonMasker MASKER = new JsonMasker();

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
            (switch (e.reason()) {
                case MISSING -> HttpProblem.missingToken(name);
                // Not the token's fault: the gateway cannot check it right now. Still refused.
                case IDP_UNAVAILABLE -> HttpProblem.unavailable(name, e.getMessage());
                default -> HttpProblem.unauthorized(name, e.reason().label(), e.getMessage());
            }).send(response, callback);
            return true;
        } catch (GateUnavailableException e) {
            HttpProblem.unavailable(name, e.getMessage()).send(response, callback);
            return true;
        }

        // 2. What does it want to do? The body is read whole, up to the limit: policy may judge it.
        byte[] body;
        try {
            body = readBounded(request, connection.maxRequestBytes());
        } catch (TooLargeException e) {
            gate.refuseUnjudged(name, "http", clientAddress, identity, toOperation(request, new byte[0]),
                    "request body over " + connection.maxRequestBytes() + " bytes");
            HttpProblem.tooLarge(name, connection.maxRequestBytes()).send(response, callback);
            return true;
        }
        HttpCall call = toOperation(request, body);
        Gate.Judged judged;
        try {
            judged = gate.judge(name, "http", clientAddress, identity, call, connection.policy(),
                    body.length == 0 ? "" : maskedRequestExcerpt(call, body));
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
                judged.completeRefused(startNanos);
                HttpProblem.approvalRequired(name, hold.ruleId(), hold.reason(), call.summary(), hold.approverGroups())
                        .send(response, callback);
            }
            case Verdict.Allow allow -> upstream.forward(request, response, callback, call, body, MaskPlan.NONE, judged, startNanos);
            case Verdict.Mask mask -> upstream.forward(request, response, callback, call, body, mask.plan(), judged, startNanos);
        }
        return true;
    }

    /** What the recording keeps of the request body: JSON bodies masked like responses would be. */
    private static String maskedRequestExcerpt(HttpCall call, byte[] body) {
        int keep = Math.min(body.length, 16 * 1024);
        if (call.json().isPresent()) {
            return HttpUpstream.maskForRecording(MASKER, new String(body, StandardCharsets.UTF_8), keep);
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
                request.getHttpURI().getDecodedPath(), rawQuery, parseQuery(rawQuery), contentType, json, body.length);
    }

    static Map<String, List<String>> parseQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) return Map.of();
        Map<String, List<String>> params = new LinkedHashMap<>();
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            params.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    private static byte[] readBounded(Request request, long maxBytes) throws IOException, TooLargeException {
        long declared = request.getLength();
        if (declared > maxBytes) throw new TooLargeException();
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

    private static final class TooLargeException extends Exception {
        TooLargeException() {
            super(null, null, false, false);
        }
    }
}
