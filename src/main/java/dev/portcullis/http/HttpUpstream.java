package dev.portcullis.http;

import dev.portcullis.core.HttpCall;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.masking.CappedCapture;
import dev.portcullis.masking.JsonMasker;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.MaskingException;
import dev.portcullis.masking.TextStreamMasker;
import dev.portcullis.masking.TextMasker;
import dev.portcullis.recording.Excerpt;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.client.transport.internal.HttpConnectionOverHTTP;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards an allowed call to the connection's upstream with the target's credential injected, and
 * streams the response back through the masker, with the upstream's URLs in headers and JSON bodies
 * pointed at the gateway ({@link UpstreamLinks}). The agent's own credential never leaves the gateway.
 */
final class HttpUpstream implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpUpstream.class);

    private final HttpConnectionConfig connection;
    private final HttpClient client;
    private final URI base;
    private final int maxRecordedResponseBytes;
    private final JsonMasker jsonMasker = new JsonMasker();

    HttpUpstream(HttpConnectionConfig connection, int maxRecordedResponseBytes) throws Exception {
        this.connection = connection;
        this.base = connection.upstreamUrl();
        this.maxRecordedResponseBytes = maxRecordedResponseBytes;
        this.client = new HttpClient(new SelectorRunTransport());
        client.setFollowRedirects(false);
        client.setConnectTimeout(connection.connectTimeout().toMillis());
        client.setMaxConnectionsPerDestination(1024);
        client.setUserAgentField(null);
        // The body must come back uncompressed so it can be masked: no transparent decoding.
        client.getContentDecoderFactories().clear();
        client.start();
    }

    void forward(Request request, Response response, Callback callback, HttpCall call, byte[] body,
                 MaskPlan plan, Gate.Judged judged, long startNanos) {
        String name = connection.name();
        org.eclipse.jetty.client.Request up = client.newRequest(target(call))
                .method(call.method())
                .timeout(connection.responseTimeout().toMillis(), TimeUnit.MILLISECONDS);
        up.headers(h -> {
            h.remove(HttpHeader.USER_AGENT);
            h.remove(HttpHeader.ACCEPT_ENCODING);
            for (HttpField f : request.getHeaders()) {
                if (UpstreamHeaders.forwardUpstream(f.getName(), connection.credentials().header())) h.add(f);
            }
            h.put(connection.credentials().header(), connection.credentials().value());
        });
        if (body.length > 0 || hasBody(call.method())) {
            up.body(new BytesRequestContent(call.contentType().isEmpty() ? "application/octet-stream" : call.contentType(), body));
        }

        long upstreamStart = System.nanoTime();
        InputStreamResponseListener listener = new InputStreamResponseListener();
        up.send(listener);
        org.eclipse.jetty.client.Response upResponse;
        try {
            upResponse = listener.get(connection.responseTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException | TimeoutException | ExecutionException e) {
            up.abort(e);
            String detail = "connection '" + name + "': upstream " + UpstreamHeaders.origin(base) + " did not answer: "
                    + describe(e);
            log.warn("upstream failure on {}: {}", name, describe(e));
            judged.completeUpstreamFailed(detail, startNanos); // recorded before the agent hears of it
            HttpProblem.badGateway(name, detail).send(response, callback);
            return;
        }
        long upstreamNanos = System.nanoTime() - upstreamStart;
        judged.upstreamLatency(upstreamNanos);

        String contentType = upResponse.getHeaders().get(HttpHeader.CONTENT_TYPE);
        String contentEncoding = upResponse.getHeaders().get(HttpHeader.CONTENT_ENCODING);
        BodyMode mode = BodyMode.of(plan, contentType, contentEncoding);
        if (mode == BodyMode.UNMASKABLE) {
            // Masking was required but this body cannot be masked: fail closed, say why.
            drain(listener);
            String detail = "connection '" + name + "': the response (" + (contentType == null ? "no content type" : contentType)
                    + (contentEncoding == null ? "" : ", " + contentEncoding) + ") must be masked but cannot be; refused";
            judged.completeUpstreamFailed(detail, startNanos);
            HttpProblem.badGateway(name, detail).send(response, callback);
            return;
        }

        response.setStatus(upResponse.getStatus());
        HttpFields.Mutable headers = response.getHeaders();
        // Links point back at the gateway, as the agent addressed it, never around it.
        UpstreamLinks links = new UpstreamLinks(base,
                request.getHttpURI().getScheme() + "://" + request.getHttpURI().getAuthority());
        for (HttpField f : upResponse.getHeaders()) {
            if (!UpstreamHeaders.forwardDownstream(f.getName())) continue;
            if (UpstreamLinks.carriesUrls(f.getName())) {
                headers.add(f.getName(), links.header(f.getName(), f.getValue()));
            } else {
                headers.add(f);
            }
        }
        if (mode == BodyMode.PASS_THROUGH) {
            long length = upResponse.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
            if (length >= 0) headers.put(HttpHeader.CONTENT_LENGTH, length);
        }

        OutputStream clientOut = Content.Sink.asOutputStream(response);
        CappedCapture capture = new CappedCapture(clientOut, maxRecordedResponseBytes);
        try (InputStream in = listener.getInputStream()) {
            switch (mode) {
                // Every string value that is an upstream URL, not only hrefs under _links: HAL links
                // nest anywhere (_embedded resources carry their own), and other APIs put them in
                // next cursors, "self", "url" or SCIM's meta.location. A string that names the upstream
                // as data (an authorization server's issuer) reads as the gateway's too; an agent
                // that follows it lands on the gateway, which is the safe side to err on.
                case JSON -> jsonMasker.mask(in, capture, plan, links::url);
                case TEXT -> new TextStreamMasker(TextMasker.of(plan.detectors())).mask(in, capture);
                case PASS_THROUGH -> in.transferTo(capture);
                case UNMASKABLE -> throw new IllegalStateException("handled above");
            }
            capture.flush();
        } catch (MaskingException | IOException e) {
            // Part of the body may be on its way: abort the response rather than complete it.
            log.warn("response on {} aborted: {}", name, e.getMessage());
            judged.completeAborted(upResponse.getStatus(), "response aborted: " + e.getMessage(), startNanos);
            callback.failed(e);
            return;
        }
        // Recorded (durably) before the response is released to the agent.
        try {
            judged.completeForwarded(upResponse.getStatus(),
                    new Excerpt(new String(capture.captured(), StandardCharsets.UTF_8), capture.truncated(), capture.totalBytes()), startNanos);
        } catch (GateUnavailableException e) {
            log.error("recording failed on {}; aborting the response: {}", name, e.getMessage());
            callback.failed(e);
            return;
        }
        try {
            clientOut.close();
            callback.succeeded();
        } catch (IOException e) {
            callback.failed(e);
        }
    }

    private URI target(HttpCall call) {
        String basePath = base.getRawPath() == null ? "" : base.getRawPath();
        if (basePath.endsWith("/")) basePath = basePath.substring(0, basePath.length() - 1);
        String q = call.rawQuery().isEmpty() ? "" : "?" + call.rawQuery();
        return URI.create(UpstreamHeaders.origin(base) + basePath + encodePath(call.path()) + q);
    }

    private static String encodePath(String decodedPath) {
        // Re-encode what policy judged (the decoded path), so upstream sees exactly that path.
        StringBuilder sb = new StringBuilder(decodedPath.length() + 8);
        for (byte b : decodedPath.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-._~/!$&'()*+,;=:@".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    private static boolean hasBody(String method) {
        return method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
    }

    private static void drain(InputStreamResponseListener listener) {
        try (InputStream in = listener.getInputStream()) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException ignored) {
            // the upstream response is discarded anyway
        }
    }

    private static String describe(Throwable e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof TimeoutException) return "timed out";
        String message = cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    static boolean isJson(String contentType) {
        if (contentType == null) return false;
        String ct = contentType.toLowerCase(Locale.ROOT);
        int semi = ct.indexOf(';');
        if (semi >= 0) ct = ct.substring(0, semi);
        ct = ct.trim();
        return ct.equals("application/json") || ct.endsWith("+json");
    }

    static boolean isText(String contentType) {
        if (contentType == null) return false;
        String ct = contentType.toLowerCase(Locale.ROOT);
        return ct.startsWith("text/") || ct.startsWith("application/xml") || ct.contains("+xml")
                || ct.startsWith("application/x-www-form-urlencoded") || ct.startsWith("application/csv");
    }

    private enum BodyMode {
        JSON, TEXT, PASS_THROUGH, UNMASKABLE;

        static BodyMode of(MaskPlan plan, String contentType, String contentEncoding) {
            boolean encoded = contentEncoding != null && !contentEncoding.equalsIgnoreCase("identity");
            // Nothing to mask, but a JSON body's links must still point at the gateway: it is copied
            // token by token too (and, like a masked one, aborted if it turns out not to be JSON).
            if (plan.isEmpty()) return isJson(contentType) && !encoded ? JSON : PASS_THROUGH;
            if (encoded) return UNMASKABLE;
            if (isJson(contentType)) return JSON;
            if (isText(contentType)) return TEXT;
            if (contentType == null) return JSON; // sniffed by the parser: non-JSON fails closed
            return UNMASKABLE;
        }
    }

    @Override
    public void close() throws Exception {
        client.stop();
    }

    /**
     * HTTP/1.1 to the upstream, with a response's bytes parsed on the selector thread that read them.
     * Jetty's default hands every readable connection to a pool thread first, which then wakes the
     * request's virtual thread: one more thread hop per call. Parsing and handing the content to the
     * waiting {@link InputStreamResponseListener} never block, so the selector can do it itself.
     */
    private static final class SelectorRunTransport extends HttpClientTransportOverHTTP {
        @Override
        public org.eclipse.jetty.io.Connection newConnection(EndPoint endPoint, Map<String, Object> context) {
            return customize(new HttpConnectionOverHTTP(endPoint, context) {
                @Override
                public InvocationType getInvocationType() {
                    return InvocationType.NON_BLOCKING;
                }
            }, context);
        }
    }
}
