package dev.portcullis.server;

import dev.portcullis.config.ConsoleConfig;
import dev.portcullis.console.ConsoleSessions;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Text;
import dev.portcullis.identity.BearerCredentials;
import dev.portcullis.identity.TokenRejectedException;
import dev.portcullis.identity.TokenVerifier;
import dev.portcullis.store.AuditStoreException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

/**
 * Who calls the admin API: the one place that answers it. Automation sends its own OIDC access token
 * ({@code Authorization: Bearer}); people in the console send their session cookie, and every request of
 * theirs that changes something must also carry the session's CSRF token ({@code X-CSRF-Token}) and, when
 * the browser says where it comes from ({@code Origin}), come from the console's own origin.
 */
final class AdminCallers {
    static final String CSRF_HEADER = "X-CSRF-Token";

    /** The caller, or the problem that refuses them. */
    sealed interface Result permits Caller, Refused {
    }

    /** @param session present when the caller came with a console session (then {@link #csrfToken} is its token) */
    record Caller(Identity identity, Optional<ConsoleSessions.Session> session) implements Result {
        String via() {
            return session.isPresent() ? "console" : "token";
        }
    }

    record Refused(int status, String title, String detail, Map<String, String> headers) implements Result {
        Refused(int status, String title, String detail) {
            this(status, title, detail, Map.of());
        }
    }

    private final TokenVerifier verifier;
    private final Optional<Console> console;
    private final ConsoleAudit audit;

    /** The console's half: its sessions and settings. */
    record Console(ConsoleSessions sessions, ConsoleConfig config) {
        static final String SESSION_COOKIE = "portcullis-console";
        /** Binds a sign-in under way to the browser that started it. */
        static final String LOGIN_COOKIE = "portcullis-login";

        String cookieName() {
            return cookieName(SESSION_COOKIE);
        }

        String cookieName(String name) {
            // __Host-: only ever set over https, for this host, path / — no subdomain can plant or shadow it.
            return config.secure() ? "__Host-" + name : name;
        }
    }

    /** @param audit records a refused console request that concerned an approval, and sign-ins and sign-outs */
    AdminCallers(TokenVerifier verifier, Optional<Console> console, ConsoleAudit audit) {
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.console = Objects.requireNonNull(console, "console");
        this.audit = Objects.requireNonNull(audit, "audit");
    }

    Optional<Console> console() {
        return console;
    }

    ConsoleAudit audit() {
        return audit;
    }

    /** @param concernsApproval whether a refusal is to be recorded in the trail (an approval's decision) */
    Result authenticate(Request request, boolean concernsApproval) {
        String authorization = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (authorization != null || console.isEmpty()) return bearer(authorization);
        Optional<String> cookie = cookie(request, console.get().cookieName());
        if (cookie.isEmpty()) {
            return new Refused(401, "Unauthorized", "sign in to the console, or send your own OIDC access token as Authorization: Bearer <token>",
                    Map.of("WWW-Authenticate", "Bearer"));
        }
        Optional<ConsoleSessions.Session> session;
        try {
            session = console.get().sessions().find(cookie.get());
        } catch (AuditStoreException e) {
            return new Refused(503, "Store unavailable", "console sessions cannot be read: " + e.getMessage());
        }
        String address = Request.getRemoteAddr(request);
        if (session.isEmpty()) {
            if (concernsApproval && !safe(request.getMethod())) {
                audit.refused(address, "console-session-refused", "an approval decision came with a console session cookie that opens no session "
                        + "(expired, signed out, or tampered with)");
            }
            return new Refused(401, "Session expired", "your console session has ended (expired, signed out, or not issued here): sign in again");
        }
        if (!safe(request.getMethod())) {
            String origin = request.getHeaders().get(HttpHeader.ORIGIN);
            if (origin != null && !origin.equalsIgnoreCase(console.get().config().origin())) {
                String detail = "this request came from " + Text.printable(origin, 100) + ", not from the console at " + console.get().config().origin();
                if (concernsApproval) audit.refused(address, "console-csrf", session.get().identity().subject() + ": " + detail);
                return new Refused(403, "Cross-site request refused", detail + "; nothing was changed");
            }
            String sent = request.getHeaders().get(CSRF_HEADER);
            if (sent == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
                    session.get().csrfToken().getBytes(StandardCharsets.UTF_8))) {
                String detail = sent == null ? "the request has no " + CSRF_HEADER + " header" : "the " + CSRF_HEADER + " header is not this session's";
                if (concernsApproval) audit.refused(address, "console-csrf", session.get().identity().subject() + ": " + detail);
                return new Refused(403, "CSRF token refused", detail + "; nothing was changed (reload the console)");
            }
        }
        return new Caller(session.get().identity(), session);
    }

    /** A caller with their own token only (the SSH certificate exchange: a certificate is for an agent's token). */
    Result bearerOnly(Request request) {
        return bearer(request.getHeaders().get(HttpHeader.AUTHORIZATION));
    }

    private Result bearer(String authorization) {
        try {
            return new Caller(verifier.verify(BearerCredentials.fromAuthorizationHeader(authorization)
                    .orElseThrow(() -> new TokenRejectedException(TokenRejectedException.Reason.MISSING,
                            "send your own OIDC access token as Authorization: Bearer <token>"))), Optional.empty());
        } catch (TokenRejectedException e) {
            if (e.reason() == TokenRejectedException.Reason.IDP_UNAVAILABLE) return new Refused(503, "Identity provider unavailable", e.getMessage());
            return new Refused(401, "Unauthorized", "token refused (" + e.reason().label() + "): " + e.getMessage(),
                    Map.of("WWW-Authenticate", "Bearer error=\"invalid_token\""));
        }
    }

    static boolean safe(String method) {
        return method.equals("GET") || method.equals("HEAD");
    }

    /** The named cookie's value; with several of that name (one planted by a sibling host), none is trusted. */
    static Optional<String> cookie(Request request, String name) {
        String found = null;
        for (HttpCookie c : Request.getCookies(request)) {
            if (!c.getName().equals(name)) continue;
            if (found != null) return Optional.empty();
            found = c.getValue();
        }
        return Optional.ofNullable(found);
    }
}
