package dev.portcullis.dev;

import dev.portcullis.core.Text;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The development issuer's authorization code flow with PKCE (RFC 7636, S256 only), so that people can
 * sign in to the console in dev mode with one click: its page offers "sign in as" choices (a development
 * issuer authenticates nobody), then the browser returns to the client with a one-time code that only the
 * holder of the PKCE verifier can redeem, within a minute.
 */
final class DevAuthorizationCodes {
    static final Duration CODE_TTL = Duration.ofSeconds(60);

    /** Who one can sign in as on the page, with their groups: an approver, an admin, someone with no rights. */
    static final List<Map.Entry<String, List<String>>> CHOICES = List.of(
            Map.entry("approver-1", List.of("sre", "dba", "okta-admins")),
            Map.entry("admin-1", List.of("platform", "sre", "dba")),
            Map.entry("viewer-1", List.of()));

    /** An authorization request, checked. */
    record Authorization(String clientId, URI redirectUri, String state, String nonce, String codeChallenge) {
    }

    /** A code handed out: for whom, for which request, until when. */
    record Issued(Authorization request, String subject, List<String> groups, Instant until) {
    }

    private final Map<String, Issued> codes = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final Clock clock;

    DevAuthorizationCodes(Clock clock) {
        this.clock = clock;
    }

    /** The request's parameters checked, or why not (an OAuth error description). */
    static Object check(Map<String, String> p) {
        if (!"code".equals(p.get("response_type"))) return "response_type must be code";
        String clientId = p.get("client_id");
        if (clientId == null || clientId.isBlank()) return "client_id is required";
        URI redirect;
        try {
            redirect = URI.create(p.getOrDefault("redirect_uri", ""));
        } catch (IllegalArgumentException e) {
            return "redirect_uri is not a URI";
        }
        if (!redirect.isAbsolute() || !("http".equals(redirect.getScheme()) || "https".equals(redirect.getScheme())) || redirect.getFragment() != null) {
            return "redirect_uri must be an absolute http(s) URI without a fragment";
        }
        String scope = p.getOrDefault("scope", "");
        if (!List.of(scope.split(" ")).contains("openid")) return "scope must include openid";
        String state = p.get("state");
        if (state == null || state.isBlank()) return "state is required";
        String challenge = p.get("code_challenge");
        if (challenge == null || !challenge.matches("[A-Za-z0-9_-]{43}")) return "code_challenge (S256, 43 characters) is required: PKCE";
        if (!"S256".equals(p.get("code_challenge_method"))) return "code_challenge_method must be S256";
        return new Authorization(clientId, redirect, state, p.getOrDefault("nonce", ""), challenge);
    }

    /** A fresh one-time code for {@code subject}, and where the browser goes with it. */
    URI issue(Authorization request, String subject, List<String> groups) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String code = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Instant now = clock.instant();
        codes.values().removeIf(i -> i.until().isBefore(now));
        codes.put(code, new Issued(request, subject, List.copyOf(groups), now.plus(CODE_TTL)));
        String sep = request.redirectUri().getQuery() == null ? "?" : "&";
        return URI.create(request.redirectUri() + sep + "code=" + encode(code) + "&state=" + encode(request.state()));
    }

    /** Redeems a code (once): the issued sign-in, or why not. */
    Object redeem(String code, String clientId, String redirectUri, String verifier) {
        Issued issued = code == null ? null : codes.remove(code);
        if (issued == null) return "unknown or used code";
        if (issued.until().isBefore(clock.instant())) return "the code expired";
        if (!issued.request().clientId().equals(clientId)) return "the code was issued to another client";
        if (!issued.request().redirectUri().toString().equals(redirectUri)) return "redirect_uri differs from the authorization request's";
        if (verifier == null || !verifier.matches("[A-Za-z0-9._~-]{43,128}")) return "code_verifier (43-128 characters) is required";
        if (!s256(verifier).equals(issued.request().codeChallenge())) return "code_verifier does not match the code_challenge";
        return issued;
    }

    static String s256(String verifier) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK must provide SHA-256", e);
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** The "sign in as" page: every value escaped; the request's parameters carried in hidden fields. */
    static String page(Map<String, String> p, Optional<String> error) {
        StringBuilder hidden = new StringBuilder();
        for (String name : List.of("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method")) {
            hidden.append("<input type=\"hidden\" name=\"").append(name).append("\" value=\"").append(Text.html(p.getOrDefault(name, ""))).append("\">");
        }
        StringBuilder choices = new StringBuilder();
        for (var c : CHOICES) {
            choices.append("<form method=\"post\" action=\"/authorize\">").append(hidden)
                    .append("<input type=\"hidden\" name=\"subject\" value=\"").append(Text.html(c.getKey())).append("\">")
                    .append("<input type=\"hidden\" name=\"groups\" value=\"").append(Text.html(String.join(",", c.getValue()))).append("\">")
                    .append("<button type=\"submit\">Sign in as ").append(Text.html(c.getKey()))
                    .append(c.getValue().isEmpty() ? " (no groups)" : " (" + Text.html(String.join(", ", c.getValue())) + ")").append("</button></form>");
        }
        return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Development issuer: sign in</title></head><body>"
                + "<h1>Development issuer: NOT FOR PRODUCTION</h1>"
                + "<p>It authenticates nobody: choose who to be for <code>" + Text.html(p.getOrDefault("client_id", "")) + "</code>.</p>"
                + error.map(e -> "<p role=\"alert\">" + Text.html(e) + "</p>").orElse("")
                + choices
                + "<form method=\"post\" action=\"/authorize\">" + hidden
                + "<label>Subject <input name=\"subject\" required></label> <label>Groups (comma-separated) <input name=\"groups\"></label>"
                + " <button type=\"submit\">Sign in</button></form></body></html>";
    }
}
