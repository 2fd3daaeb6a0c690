package dev.portcullis.console;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWT;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.GeneralException;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientAuthenticationMethod;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.ClientSecretPost;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.token.BearerAccessToken;
import com.nimbusds.openid.connect.sdk.AuthenticationErrorResponse;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.AuthenticationResponse;
import com.nimbusds.openid.connect.sdk.AuthenticationResponseParser;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.UserInfoRequest;
import com.nimbusds.openid.connect.sdk.UserInfoResponse;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.claims.UserInfo;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;
import dev.portcullis.config.ConsoleConfig;
import dev.portcullis.identity.IdentityConfig;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's sign-in with the gateway's identity provider: the OpenID Connect authorization code flow
 * with PKCE (S256), a state bound to the browser that started it and a nonce bound to the ID token, all
 * through Nimbus's OAuth 2.0 SDK. The ID token is checked as the SDK's validator does (signature with
 * the provider's keys, issuer, audience = the console's client, expiry, nonce); groups come from the
 * identity's groups claim, in the ID token or else from userinfo, exactly as for agents' tokens. No
 * token is kept: the session records who signed in.
 */
public final class OidcSignIn {
    private static final Logger log = LoggerFactory.getLogger(OidcSignIn.class);
    private static final int TIMEOUT_MILLIS = (int) Duration.ofSeconds(10).toMillis();

    private final IdentityConfig identity;
    private final ConsoleConfig console;
    private final ConsoleSessions sessions;
    private volatile Provider provider;

    /** What discovery told, and the validator built from it. */
    private record Provider(OIDCProviderMetadata metadata, IDTokenValidator validator) {
    }

    public OidcSignIn(IdentityConfig identity, ConsoleConfig console, ConsoleSessions sessions) {
        this.identity = Objects.requireNonNull(identity, "identity");
        this.console = Objects.requireNonNull(console, "console");
        this.sessions = Objects.requireNonNull(sessions, "sessions");
    }

    /** Where the browser goes to sign in, and the value of the cookie that binds the sign-in to it. */
    public record Start(URI authorizationRequest, String browserBinding) {
    }

    /** How a sign-in ended: a session's cookie value and where to go, or a refusal to show. */
    public sealed interface Outcome permits SignedIn, Refused {
    }

    /** @param session the session the cookie opens, as the API will see it */
    public record SignedIn(String sessionCookie, ConsoleSessions.Session session, String next) implements Outcome {
    }

    /** @param status the HTTP status of the page that says it */
    public record Refused(int status, String title, String detail) implements Outcome {
    }

    /** Starts a sign-in that returns to {@code next} (a console path, already checked). */
    public Start begin(String next) throws SignInUnavailableException {
        Provider p = provider();
        State state = new State();
        Nonce nonce = new Nonce();
        CodeVerifier verifier = new CodeVerifier();
        String browser = sessions.randomToken();
        sessions.savePending(state.getValue(), browser, new ConsoleSessions.PendingLogin(verifier.getValue(), nonce.getValue(), next));
        AuthenticationRequest request = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope(console.scopes().toArray(String[]::new)),
                new ClientID(console.clientId()), console.redirectUri())
                .endpointURI(p.metadata().getAuthorizationEndpointURI())
                .state(state)
                .nonce(nonce)
                .codeChallenge(verifier, CodeChallengeMethod.S256)
                .build();
        return new Start(request.toURI(), browser);
    }

    /**
     * Finishes a sign-in from the provider's redirect ({@code callback}: the whole URI the browser was sent
     * to) in the browser holding {@code browserBinding}. Every failure is a {@link Refused} naming what was
     * wrong; nothing is signed in then.
     */
    public Outcome finish(URI callback, String browserBinding) {
        AuthenticationResponse response;
        try {
            response = AuthenticationResponseParser.parse(callback);
        } catch (ParseException e) {
            return new Refused(400, "Sign-in failed", "the identity provider's answer is not an OpenID Connect response: " + e.getMessage());
        }
        // A state is used once, whatever the outcome: taken before anything else.
        String state = response.getState() == null ? null : response.getState().getValue();
        var pending = sessions.takePending(state, browserBinding);
        if (response instanceof AuthenticationErrorResponse error) {
            ErrorObject e = error.getErrorObject();
            return new Refused(400, "The identity provider did not sign you in", describe(e));
        }
        if (pending.isEmpty()) {
            return new Refused(400, "Sign-in refused", "this sign-in was not started in this browser, was used already, or is over "
                    + ConsoleSessions.LOGIN_TTL.toMinutes() + " minutes old (the state does not match). Nothing was changed; sign in again.");
        }
        AuthorizationCode code = response.toSuccessResponse().getAuthorizationCode();
        if (code == null) return new Refused(400, "Sign-in failed", "the identity provider sent no authorization code");
        Provider p;
        try {
            p = provider();
        } catch (SignInUnavailableException e) {
            return new Refused(503, "Identity provider unavailable", e.getMessage());
        }
        OIDCTokenResponse tokens;
        try {
            HTTPRequest http = tokenRequest(p, code, new CodeVerifier(pending.get().codeVerifier())).toHTTPRequest();
            http.setConnectTimeout(TIMEOUT_MILLIS);
            http.setReadTimeout(TIMEOUT_MILLIS);
            TokenResponse answer = OIDCTokenResponseParser.parse(http.send());
            if (!answer.indicatesSuccess()) {
                return new Refused(400, "Sign-in refused", "the identity provider would not exchange the code: "
                        + describe(answer.toErrorResponse().getErrorObject()));
            }
            tokens = (OIDCTokenResponse) answer.toSuccessResponse();
        } catch (IOException e) {
            return new Refused(503, "Identity provider unavailable", "cannot reach its token endpoint: " + e.getMessage());
        } catch (ParseException | ClassCastException e) {
            return new Refused(502, "Sign-in failed", "the identity provider's token response is not an OpenID Connect one: " + e.getMessage());
        }
        JWT idToken = tokens.getOIDCTokens().getIDToken();
        if (idToken == null) return new Refused(502, "Sign-in failed", "the identity provider sent no ID token");
        IDTokenClaimsSet claims;
        try {
            claims = p.validator().validate(idToken, new Nonce(pending.get().nonce()));
        } catch (BadJOSEException | com.nimbusds.jose.JOSEException e) {
            return new Refused(400, "Sign-in refused", "the ID token was refused: " + e.getMessage());
        }
        Map<String, Object> all = new LinkedHashMap<>(claims.toJSONObject());
        Set<String> groups = groups(all.get(identity.groupsClaim()));
        if (!all.containsKey(identity.groupsClaim()) && p.metadata().getUserInfoEndpointURI() != null) {
            try {
                UserInfo info = userInfo(p, tokens.getOIDCTokens().getBearerAccessToken());
                if (!info.getSubject().getValue().equals(claims.getSubject().getValue())) {
                    return new Refused(502, "Sign-in failed", "userinfo answered for another subject than the ID token's");
                }
                groups = groups(info.toJSONObject().get(identity.groupsClaim()));
            } catch (IOException | ParseException e) {
                return new Refused(503, "Identity provider unavailable", "cannot read your groups from userinfo: " + e.getMessage());
            }
        }
        Map<String, String> strings = new LinkedHashMap<>();
        for (String name : List.of("name", "email", "preferred_username")) {
            if (all.get(name) instanceof String s && s.length() <= 512) strings.put(name, s);
        }
        String subject = claims.getSubject().getValue();
        ConsoleSessions.Started started = sessions.start(new ConsoleSessions.SignedIn(subject, groups, strings, claims.getIssuer().getValue(),
                console.clientId()));
        log.info("console: {} signed in (groups {})", subject, groups);
        return new SignedIn(started.cookie(), started.session(), pending.get().next());
    }

    private TokenRequest tokenRequest(Provider p, AuthorizationCode code, CodeVerifier verifier) {
        URI endpoint = p.metadata().getTokenEndpointURI();
        AuthorizationCodeGrant grant = new AuthorizationCodeGrant(code, console.redirectUri(), verifier);
        if (console.clientSecret().isEmpty()) return new TokenRequest(endpoint, new ClientID(console.clientId()), grant);
        ClientID id = new ClientID(console.clientId());
        Secret secret = new Secret(console.clientSecret().get());
        List<ClientAuthenticationMethod> supported = p.metadata().getTokenEndpointAuthMethods();
        boolean postOnly = supported != null && !supported.contains(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                && supported.contains(ClientAuthenticationMethod.CLIENT_SECRET_POST);
        return new TokenRequest(endpoint, postOnly ? new ClientSecretPost(id, secret) : new ClientSecretBasic(id, secret), grant);
    }

    private static UserInfo userInfo(Provider p, BearerAccessToken token) throws IOException, ParseException {
        HTTPRequest http = new UserInfoRequest(p.metadata().getUserInfoEndpointURI(), token).toHTTPRequest();
        http.setConnectTimeout(TIMEOUT_MILLIS);
        http.setReadTimeout(TIMEOUT_MILLIS);
        HTTPResponse answer = http.send();
        UserInfoResponse parsed = UserInfoResponse.parse(answer);
        if (!parsed.indicatesSuccess()) throw new ParseException("userinfo refused: " + describe(parsed.toErrorResponse().getErrorObject()));
        return parsed.toSuccessResponse().getUserInfo();
    }

    private static Set<String> groups(Object value) {
        Set<String> groups = new LinkedHashSet<>();
        if (value instanceof String s) groups.add(s);
        else if (value instanceof List<?> list) for (Object o : list) if (o instanceof String s) groups.add(s);
        return groups;
    }

    /** An OAuth error for a page: its code and description, bounded and without control characters. */
    private static String describe(ErrorObject e) {
        if (e == null) return "no error code";
        String text = String.valueOf(e.getCode()) + (e.getDescription() == null ? "" : ": " + e.getDescription());
        text = text.replaceAll("\\p{Cntrl}", " ");
        return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    }

    /** Discovery and the ID token validator, once they could be had (retried at the next sign-in otherwise). */
    private Provider provider() throws SignInUnavailableException {
        Provider p = provider;
        if (p != null) return p;
        synchronized (this) {
            if (provider != null) return provider;
            try {
                Issuer issuer = new Issuer(identity.issuer());
                OIDCProviderMetadata metadata = OIDCProviderMetadata.resolve(issuer, TIMEOUT_MILLIS, TIMEOUT_MILLIS);
                if (metadata.getAuthorizationEndpointURI() == null || metadata.getTokenEndpointURI() == null) {
                    throw new SignInUnavailableException("the identity provider " + issuer + " offers no authorization code flow "
                            + "(no authorization or token endpoint in its discovery document)");
                }
                JWKSource<SecurityContext> keys = JWKSourceBuilder.<SecurityContext>create(metadata.getJWKSetURI().toURL(),
                        new DefaultResourceRetriever(TIMEOUT_MILLIS, TIMEOUT_MILLIS, 512 * 1024)).build();
                Set<JWSAlgorithm> algorithms = identity.algorithms().stream().map(JWSAlgorithm::parse).collect(Collectors.toSet());
                IDTokenValidator validator = new IDTokenValidator(issuer, new ClientID(console.clientId()),
                        new JWSVerificationKeySelector<>(algorithms, keys), null);
                validator.setMaxClockSkew((int) identity.clockSkew().toSeconds());
                provider = new Provider(metadata, validator);
                return provider;
            } catch (GeneralException | IOException | IllegalArgumentException e) {
                throw new SignInUnavailableException("cannot discover the identity provider " + identity.issuer() + ": " + e.getMessage());
            }
        }
    }

    /** The identity provider cannot be used for a sign-in now (discovery failed); nothing was started. */
    public static final class SignInUnavailableException extends Exception {
        public SignInUnavailableException(String message) {
            super(message);
        }
    }
}
