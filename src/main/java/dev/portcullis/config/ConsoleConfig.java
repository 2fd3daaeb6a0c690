package dev.portcullis.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The console's sign-in: people sign in with the identity provider (OIDC authorization code flow with
 * PKCE) as an OAuth client of their own, and hold a server-side session in a cookie.
 *
 * @param clientId     the console's client id at the identity provider
 * @param clientSecret its secret (confidential client; {@code client_secret_basic}); empty for a public client,
 *                     which PKCE alone protects
 * @param redirectUri  where the provider sends the browser back: the admin listener's {@value #CALLBACK_PATH},
 *                     as people's browsers reach it (https behind a TLS terminator); https makes the cookie Secure
 * @param scopes       asked for at sign-in; {@code openid} is always among them
 * @param sessionTtl   how long a console session lasts at most, whatever the tokens' lifetime
 * @param idleTimeout  a session unused this long ends
 */
public record ConsoleConfig(String clientId, Optional<String> clientSecret, URI redirectUri, List<String> scopes,
                            Duration sessionTtl, Duration idleTimeout) {
    public static final String CALLBACK_PATH = "/console/callback";
    public static final List<String> DEFAULT_SCOPES = List.of("openid", "profile", "email", "groups");
    public static final Duration DEFAULT_SESSION_TTL = Duration.ofHours(8);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);

    public ConsoleConfig {
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(clientSecret, "clientSecret");
        Objects.requireNonNull(redirectUri, "redirectUri");
        scopes = List.copyOf(scopes);
        if (!scopes.contains("openid")) throw new IllegalArgumentException("scopes must include openid");
        Objects.requireNonNull(sessionTtl, "sessionTtl");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
    }

    /** Whether the console is reached over https (the cookie is then Secure and {@code __Host-} prefixed). */
    public boolean secure() {
        return "https".equalsIgnoreCase(redirectUri.getScheme());
    }

    /** The console's origin (scheme, host, port), which every state-changing request must come from. */
    public String origin() {
        int port = redirectUri.getPort();
        String scheme = redirectUri.getScheme().toLowerCase(java.util.Locale.ROOT);
        boolean defaultPort = port == -1 || (scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80);
        return scheme + "://" + redirectUri.getHost().toLowerCase(java.util.Locale.ROOT) + (defaultPort ? "" : ":" + port);
    }
}
