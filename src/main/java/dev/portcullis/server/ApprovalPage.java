package dev.portcullis.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The approval web page on the admin listener: {@code /approvals} (pending requests, or another state
 * with {@code ?state=}) and {@code /approvals/{id}} (one request) serve the same static page, whose
 * script calls the approvals REST API with the approver's own token: approve, deny with a reason, and
 * revoke a running time-boxed grant with a reason. The page never decides anything on GET.
 */
final class ApprovalPage {
    static final String PAGE = "/approvals";
    private static final String BASE = "/dev/portcullis/approval/web/";
    private static final Pattern ITEM = Pattern.compile("^/approvals/[A-Za-z0-9_-]{1,64}$");
    /** Scripts and styles only from this origin (no inline code), fetch only to this origin, never framed. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private record Asset(String type, byte[] bytes) {
    }

    private static final Map<String, Asset> ASSETS = Map.of(
            "/approvals/app.js", load("app.js", "text/javascript; charset=utf-8"),
            "/approvals/app.css", load("app.css", "text/css; charset=utf-8"));
    private static final Asset INDEX = load("index.html", "text/html; charset=utf-8");

    private ApprovalPage() {
    }

    private static Asset load(String name, String type) {
        try (InputStream in = ApprovalPage.class.getResourceAsStream(BASE + name)) {
            if (in == null) throw new IllegalStateException("missing resource " + BASE + name);
            return new Asset(type, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean serves(String path) {
        return path.equals(PAGE) || path.equals(PAGE + "/") || ASSETS.containsKey(path) || ITEM.matcher(path).matches();
    }

    static void serve(String method, String path, Response response, Callback callback) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
            AdminServer.send(response, callback, 405, "application/problem+json",
                    "{\"type\":\"about:blank\",\"title\":\"Method not allowed\",\"status\":405,\"detail\":\"the approval page only answers GET\"}");
            return;
        }
        Asset asset = ASSETS.getOrDefault(path, INDEX);
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, asset.type());
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put("Content-Security-Policy", CSP);
        response.getHeaders().put("X-Frame-Options", "DENY");
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        response.getHeaders().put("Referrer-Policy", "no-referrer");
        response.getHeaders().put("Cross-Origin-Opener-Policy", "same-origin");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, String.valueOf(asset.bytes().length));
        response.write(true, method.equals("HEAD") ? ByteBuffer.allocate(0) : ByteBuffer.wrap(asset.bytes()), callback);
    }
}
