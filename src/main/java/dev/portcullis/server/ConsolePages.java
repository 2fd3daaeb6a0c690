package dev.portcullis.server;

import dev.portcullis.config.ConsoleConfig;
import dev.portcullis.core.Text;
import dev.portcullis.console.OidcSignIn;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's pages on the admin listener: the single-page application under {@code /console/} (its
 * script and styles from this origin only, asciinema's player vendored at build time), the sign-in
 * ({@code /console/login} to the identity provider, {@code /console/callback} back), sign-out, and the
 * approval links of notifications sent before the console existed ({@code /approvals/ID}), redirected.
 * Everything the pages show comes from the REST API; the pages themselves hold no data.
 */
final class ConsolePages {
    private static final Logger log = LoggerFactory.getLogger(ConsolePages.class);
    static final String ROOT = "/console";
    static final String LOGIN = "/console/login";
    static final String LOGOUT = "/console/logout";
    static final String SIGNED_OUT = "/console/signed-out";
    static final String DEFAULT_NEXT = "/console/approvals";
    private static final String BASE = "/dev/portcullis/console/web/";
    /**
     * Scripts and styles from this origin only, never inline; WebAssembly compiled (the terminal player's
     * emulator) but no eval; fetch to this origin only; never framed; forms post here only.
     */
    static final String CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    /** A path inside the console, with an optional simple query: where a sign-in may return to. */
    private static final Pattern NEXT = Pattern.compile("^/console(/[A-Za-z0-9._~-]+)*/?(\\?[A-Za-z0-9._~=&%-]{0,256})?$");
    private static final Pattern PAGE = Pattern.compile("^/console(/(approvals|sessions|live|trail|policy)(/[A-Za-z0-9_.:-]{1,128})?)?/?$");
    private static final Pattern LEGACY = Pattern.compile("^/approvals(/([A-Za-z0-9_-]{1,64}))?/?$");

    private record Asset(String type, byte[] bytes) {
    }

    private static final Map<String, Asset> ASSETS = Map.of(
            "/console/assets/app.js", load("app.js", "text/javascript; charset=utf-8"),
            "/console/assets/app.css", load("app.css", "text/css; charset=utf-8"),
            "/console/assets/vendor/asciinema-player.min.js", load("vendor/asciinema-player.min.js", "text/javascript; charset=utf-8"),
            "/console/assets/vendor/asciinema-player.css", load("vendor/asciinema-player.css", "text/css; charset=utf-8"));
    private static final Asset INDEX = load("index.html", "text/html; charset=utf-8");

    private final AdminCallers callers;
    private final Optional<OidcSignIn> signIn;

    ConsolePages(AdminCallers callers, Optional<OidcSignIn> signIn) {
        this.callers = callers;
        this.signIn = signIn;
    }

    private static Asset load(String name, String type) {
        try (InputStream in = ConsolePages.class.getResourceAsStream(BASE + name)) {
            if (in == null) throw new IllegalStateException("the console's " + name + " is missing from the build (" + BASE + name + ")");
            return new Asset(type, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean serves(String path) {
        return path.equals(ROOT) || path.startsWith(ROOT + "/") || LEGACY.matcher(path).matches();
    }

    void serve(Request request, Response response, Callback callback) {
        String path = request.getHttpURI().getPath();
        String method = request.getMethod();
        var legacy = LEGACY.matcher(path);
        if (legacy.matches()) {
            // Links in notifications sent before the console: the same request, in the console.
            String decision = Request.extractQueryParameters(request).getValue("decision");
            String query = "approve".equals(decision) || "deny".equals(decision) ? "?decision=" + decision : "";
            redirect(response, callback, 302, "/console/approvals" + (legacy.group(2) == null ? "" : "/" + legacy.group(2)) + query);
            return;
        }
        if (signIn.isEmpty() || callers.console().isEmpty()) {
            page(response, callback, 404, "The console is not configured",
                    "Set admin.console (the console's client at your identity provider) in the gateway's configuration: see docs/console.md. "
                            + "The REST API under /api/v1 takes your own OIDC access token meanwhile.", false);
            return;
        }
        switch (path) {
            case LOGIN -> login(request, response, callback);
            case ConsoleConfig.CALLBACK_PATH -> callback(request, response, callback);
            case LOGOUT -> logout(request, response, callback);
            case SIGNED_OUT -> page(response, callback, 200, "Signed out", "Your console session has ended.", true);
            default -> {
                Asset asset = ASSETS.get(path);
                if (asset == null && !PAGE.matcher(path).matches()) {
                    page(response, callback, 404, "Not found", "There is no console page at this address.", true);
                    return;
                }
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
                    page(response, callback, 405, "Method not allowed", "Console pages only answer GET.", false);
                    return;
                }
                if (path.equals(ROOT) || path.equals(ROOT + "/")) {
                    redirect(response, callback, 302, DEFAULT_NEXT);
                    return;
                }
                Asset a = asset == null ? INDEX : asset;
                securityHeaders(response);
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, a.type());
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, String.valueOf(a.bytes().length));
                response.write(true, method.equals("HEAD") ? ByteBuffer.allocate(0) : ByteBuffer.wrap(a.bytes()), callback);
            }
        }
    }

    private void login(Request request, Response response, Callback callback) {
        if (!request.getMethod().equals("GET")) {
            page(response, callback, 405, "Method not allowed", "Sign in with GET " + LOGIN + ".", false);
            return;
        }
        var query = Request.extractQueryParameters(request);
        // "redirect" is what other consoles call it: the same rule for both, so neither is a way out.
        String next = query.getValue("next") != null ? query.getValue("next") : query.getValue("redirect");
        if (next == null || next.isEmpty()) next = DEFAULT_NEXT;
        if (!safeNext(next)) {
            log.info("console: sign-in asked to return to '{}', refused", Text.printable(next, 120));
            page(response, callback, 400, "Sign-in refused", "This link asks to go to \u201c" + Text.printable(next, 120) + "\u201d after signing in, "
                    + "which is not a page of this console. Nothing was done. Sign in from the console itself.", true);
            return;
        }
        OidcSignIn.Start start;
        try {
            start = signIn.get().begin(next);
        } catch (OidcSignIn.SignInUnavailableException e) {
            page(response, callback, 503, "Identity provider unavailable", e.getMessage() + ". Try again in a moment.", true);
            return;
        } catch (dev.portcullis.console.ConsoleSessions.TooManySignInsException e) {
            log.warn("console: sign-in refused: {}", e.getMessage());
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "60");
            page(response, callback, 503, "Too many sign-ins under way", e.getMessage() + ". Try again in a minute.", true);
            return;
        } catch (RuntimeException e) {
            page(response, callback, 503, "Sign-in unavailable", "the sign-in could not be started: " + e.getMessage(), true);
            return;
        }
        response.getHeaders().add(HttpHeader.SET_COOKIE, cookie(bindingCookie(), start.browserBinding(), Duration.ofMinutes(10)));
        redirect(response, callback, 303, start.authorizationRequest().toString());
    }

    private void callback(Request request, Response response, Callback callback) {
        if (!request.getMethod().equals("GET")) {
            page(response, callback, 405, "Method not allowed", "The identity provider returns here with GET.", false);
            return;
        }
        ConsoleConfig config = callers.console().get().config();
        String query = request.getHttpURI().getQuery();
        if (query == null || query.length() > 8192) {
            page(response, callback, 400, "Sign-in failed", "The identity provider's answer is missing (no code and state).", true);
            return;
        }
        String binding = AdminCallers.cookie(request, bindingCookie()).orElse(null);
        OidcSignIn.Outcome outcome;
        try {
            outcome = signIn.get().finish(URI.create(config.redirectUri() + "?" + query), binding);
        } catch (IllegalArgumentException e) {
            outcome = new OidcSignIn.Refused(400, "Sign-in failed", "the identity provider's answer is not a valid address");
        } catch (RuntimeException e) {
            outcome = new OidcSignIn.Refused(503, "Sign-in unavailable", "the sign-in could not be finished: " + e.getMessage());
        }
        response.getHeaders().add(HttpHeader.SET_COOKIE, cookie(bindingCookie(), "", Duration.ZERO));
        switch (outcome) {
            case OidcSignIn.SignedIn s -> {
                try {
                    callers.audit().signedIn(s.session().identity(), Request.getRemoteAddr(request), s.session().expiresAt());
                } catch (dev.portcullis.gate.GateUnavailableException e) {
                    // Fail closed: a sign-in the trail cannot record does not stand.
                    callers.console().get().sessions().end(s.sessionCookie());
                    page(response, callback, 503, "Sign-in not recorded", "the audit trail cannot record your sign-in now, so it was undone: "
                            + e.getMessage(), true);
                    return;
                }
                response.getHeaders().add(HttpHeader.SET_COOKIE, cookie(callers.console().get().cookieName(), s.sessionCookie(),
                        config.sessionTtl()));
                redirect(response, callback, 303, safeNext(s.next()) ? s.next() : DEFAULT_NEXT);
            }
            case OidcSignIn.Refused r -> {
                log.info("console: sign-in refused ({}): {}", r.title(), r.detail());
                if (r.status() == 400) callers.audit().refused(Request.getRemoteAddr(request), "console-sign-in-refused", r.title() + ": " + r.detail());
                page(response, callback, r.status(), r.title(), r.detail(), true);
            }
        }
    }

    private void logout(Request request, Response response, Callback callback) {
        if (!request.getMethod().equals("POST")) {
            response.getHeaders().put(HttpHeader.ALLOW, "POST");
            page(response, callback, 405, "Method not allowed", "Sign out with the console's Sign out button.", false);
            return;
        }
        AdminCallers.Result who = callers.authenticate(request, false);
        if (who instanceof AdminCallers.Refused r && r.status() == 403) {
            AdminServer.problem(response, callback, r);
            return;
        }
        AdminCallers.cookie(request, callers.console().get().cookieName()).ifPresent(c -> callers.console().get().sessions().end(c));
        if (who instanceof AdminCallers.Caller c) {
            log.info("console: {} signed out", c.identity().subject());
            callers.audit().signedOut(c.identity(), Request.getRemoteAddr(request));
        }
        response.getHeaders().add(HttpHeader.SET_COOKIE, cookie(callers.console().get().cookieName(), "", Duration.ZERO));
        response.setStatus(204);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, null, callback);
    }

    /** Whether a sign-in may return there: a console page, nothing that leaves this origin or climbs out. */
    static boolean safeNext(String next) {
        return next.length() <= 512 && NEXT.matcher(next).matches() && !next.contains("/../") && !next.endsWith("/..")
                && !next.contains("/./");
    }

    private String bindingCookie() {
        return callers.console().get().cookieName(AdminCallers.Console.LOGIN_COOKIE);
    }

    /** A cookie for the console: HttpOnly, SameSite=Lax (the identity provider's redirect back is a cross-site navigation), Secure over https. */
    private String cookie(String name, String value, Duration maxAge) {
        boolean secure = callers.console().get().config().secure();
        return name + "=" + value + "; Path=/; Max-Age=" + maxAge.toSeconds() + "; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "");
    }

    private static void redirect(Response response, Callback callback, int status, String location) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.LOCATION, location);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put("Referrer-Policy", "no-referrer");
        response.write(true, null, callback);
    }

    static void securityHeaders(Response response) {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put("Content-Security-Policy", CSP);
        response.getHeaders().put("X-Frame-Options", "DENY");
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        response.getHeaders().put("Referrer-Policy", "no-referrer");
        response.getHeaders().put("Cross-Origin-Opener-Policy", "same-origin");
        response.getHeaders().put("Cross-Origin-Resource-Policy", "same-origin");
        response.getHeaders().put("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
    }

    /** A page that says one thing clearly, without script; {@code signInLink}: offer to sign in again. */
    private static void page(Response response, Callback callback, int status, String title, String detail, boolean signInLink) {
        String html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" + Text.html(title) + " \u2014 Portcullis</title>"
                + "<link rel=\"stylesheet\" href=\"/console/assets/app.css\"></head><body class=\"plain\"><main id=\"main\">"
                + "<h1 id=\"page-title\">" + Text.html(title) + "</h1><p id=\"page-detail\">" + Text.html(detail) + "</p>"
                + (signInLink ? "<p><a id=\"sign-in\" href=\"" + LOGIN + "\">Sign in</a></p>" : "") + "</main></body></html>\n";
        byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
        securityHeaders(response);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, String.valueOf(bytes.length));
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }
}
