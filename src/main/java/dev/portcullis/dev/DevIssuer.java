package dev.portcullis.dev;

import com.fasterxml.jackson.core.JsonGenerator;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.FormFields;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * A development OIDC issuer on 127.0.0.1: discovery, JWKS and RS256 access tokens for any subject asked for.
 * NOT FOR PRODUCTION: it authenticates nobody, and every response says so in {@value #DEV_HEADER}.
 *
 * <p>Keys are generated in memory at start-up and lost on {@link #close()}. {@link #rotateKey()} signs with a new
 * key from then on and keeps publishing the previous one, as a real issuer does during rotation.
 */
public final class DevIssuer implements AutoCloseable {
    public static final String DEV_HEADER = "X-Portcullis-Dev";
    public static final String DEFAULT_AUDIENCE = "portcullis";
    public static final String DEFAULT_CLIENT_ID = "portcullis-dev-agent";
    static final Duration TOKEN_ENDPOINT_TTL = Duration.ofHours(1);

    private static final Logger log = LoggerFactory.getLogger(DevIssuer.class);
    private static final String NOT_FOR_PRODUCTION = "not-for-production";

    private final LocalServer server;
    private final URI issuer;
    private final String audience;
    private final Clock clock;
    private final DevAuthorizationCodes codes;
    /** Signing key first, then the previous one (if rotated); replaced whole, never mutated. */
    private volatile List<RSAKey> keys;

    private DevIssuer(String bind, int port, URI publicUrl, String audience, Clock clock) {
        this.audience = Objects.requireNonNull(audience, "audience");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.keys = List.of(generateKey());
        this.codes = new DevAuthorizationCodes(clock);
        this.server = LocalServer.start("dev-issuer", bind, port, publicUrl, new Routes());
        this.issuer = server.baseUri();
        log.warn("DEV ISSUER at {} is NOT FOR PRODUCTION: it signs a token for any subject and groups anyone asks for",
                issuer);
    }

    /** Starts on a random port with audience {@value #DEFAULT_AUDIENCE}. */
    public static DevIssuer start() {
        return start(0, DEFAULT_AUDIENCE);
    }

    /** @param port 0 for a random free port */
    public static DevIssuer start(int port, String audience) {
        return start(port, audience, Clock.systemUTC());
    }

    public static DevIssuer start(int port, String audience, Clock clock) {
        return new DevIssuer("127.0.0.1", port, null, audience, clock);
    }

    /** On {@code bind} (a container network), its tokens' {@code iss} being {@code publicUrl}, as the gateway reaches it. */
    public static DevIssuer start(String bind, int port, URI publicUrl, String audience) {
        return new DevIssuer(bind, port, publicUrl, audience, Clock.systemUTC());
    }

    /** {@code http://127.0.0.1:PORT}, exactly the {@code iss} of minted tokens. */
    public URI issuer() {
        return issuer;
    }

    public String audience() {
        return audience;
    }

    public URI discoveryUri() {
        return URI.create(issuer + "/.well-known/openid-configuration");
    }

    public URI jwksUri() {
        return URI.create(issuer + "/jwks");
    }

    public URI tokenEndpoint() {
        return URI.create(issuer + "/token");
    }

    /** Where a browser signs in (authorization code flow with PKCE S256; "sign in as" choices, dev only). */
    public URI authorizationEndpoint() {
        return URI.create(issuer + "/authorize");
    }

    /** The {@code kid} new tokens are signed with. */
    public String signingKeyId() {
        return keys.getFirst().getKeyID();
    }

    /** An RS256 access token for {@code subject}, signed with the current key, with client id {@value #DEFAULT_CLIENT_ID}. */
    public String mint(String subject, List<String> groups, Duration ttl) {
        return mint(subject, groups, ttl, DEFAULT_CLIENT_ID);
    }

    public String mint(String subject, List<String> groups, Duration ttl, String clientId) {
        return sign(subject, groups, ttl, clientId, audience, null);
    }

    /** An ID token for a sign-in: audience the client, with the request's nonce. */
    String idToken(String subject, List<String> groups, Duration ttl, String clientId, String nonce) {
        return sign(subject, groups, ttl, clientId, clientId, nonce.isEmpty() ? null : nonce);
    }

    private String sign(String subject, List<String> groups, Duration ttl, String clientId, String aud, String nonce) {
        Objects.requireNonNull(subject, "subject");
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive, was " + ttl);
        }
        Instant now = clock.instant();
        var claims = new JWTClaimsSet.Builder()
                .issuer(issuer.toString())
                .audience(aud)
                .subject(subject)
                .claim("groups", List.copyOf(groups))
                .claim("client_id", clientId)
                .jwtID(UUID.randomUUID().toString())
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .claim("nonce", nonce)
                .build();
        RSAKey key = keys.getFirst();
        var header = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build();
        var jwt = new SignedJWT(header, claims);
        try {
            jwt.sign(new RSASSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException("signing a dev token", e);
        }
        return jwt.serialize();
    }

    /** Signs with a fresh key from now on; the JWKS publishes the new key and the one before it. Returns the new kid. */
    public synchronized String rotateKey() {
        RSAKey next = generateKey();
        keys = List.of(next, keys.getFirst());
        log.info("dev issuer rotated its signing key to kid {}", next.getKeyID());
        return next.getKeyID();
    }

    /** The public keys served at {@link #jwksUri()}. */
    public JWKSet publicKeys() {
        return new JWKSet(new ArrayList<JWK>(keys)).toPublicJWKSet();
    }

    @Override
    public void close() {
        server.close();
    }

    private static RSAKey generateKey() {
        try {
            return new RSAKeyGenerator(2048)
                    .keyID(UUID.randomUUID().toString())
                    .keyUse(KeyUse.SIGNATURE)
                    .algorithm(JWSAlgorithm.RS256)
                    .generate();
        } catch (JOSEException e) {
            throw new IllegalStateException("generating the dev issuer's RSA key", e);
        }
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            response.getHeaders().put(DEV_HEADER, NOT_FOR_PRODUCTION);
            String path = Request.getPathInContext(request);
            String method = request.getMethod();
            switch (path) {
                case "/.well-known/openid-configuration" -> {
                    if (!HttpMethod.GET.is(method)) return methodNotAllowed(response, callback);
                    JsonResponses.send(response, callback, 200, this::writeDiscovery);
                }
                case "/jwks" -> {
                    if (!HttpMethod.GET.is(method)) return methodNotAllowed(response, callback);
                    response.setStatus(200);
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/jwk-set+json");
                    response.write(true, StandardCharsets.UTF_8.encode(publicKeys().toString()), callback);
                }
                case "/token" -> {
                    if (!HttpMethod.POST.is(method)) return methodNotAllowed(response, callback);
                    token(request, response, callback);
                }
                case "/authorize" -> authorize(request, response, callback);
                default -> oauthError(response, callback, 404, "not_found", "no such endpoint: " + path);
            }
            return true;
        }

        private void writeDiscovery(JsonGenerator json) throws IOException {
            json.writeStartObject();
            json.writeStringField("issuer", issuer.toString());
            json.writeStringField("jwks_uri", jwksUri().toString());
            json.writeStringField("token_endpoint", tokenEndpoint().toString());
            json.writeStringField("authorization_endpoint", authorizationEndpoint().toString());
            writeArray(json, "id_token_signing_alg_values_supported", "RS256");
            writeArray(json, "token_endpoint_auth_methods_supported", "none");
            writeArray(json, "grant_types_supported", "urn:portcullis:dev", "authorization_code");
            writeArray(json, "response_types_supported", "token", "code");
            writeArray(json, "code_challenge_methods_supported", "S256");
            writeArray(json, "scopes_supported", "openid", "profile", "email", "groups");
            writeArray(json, "subject_types_supported", "public");
            writeArray(json, "claims_supported", "iss", "aud", "sub", "groups", "client_id", "jti", "iat", "nbf", "exp");
            json.writeStringField("portcullis_dev", NOT_FOR_PRODUCTION);
            json.writeEndObject();
        }

        /**
         * GET: the "sign in as" page for a checked authorization request; POST (the page's forms): a one-time
         * code for the chosen subject, and a 303 back to the client's redirect URI with it and the state.
         */
        private void authorize(Request request, Response response, Callback callback) throws Exception {
            Map<String, String> p = new java.util.HashMap<>();
            var fields = HttpMethod.POST.is(request.getMethod()) ? FormFields.getFields(request)
                    : org.eclipse.jetty.server.Request.extractQueryParameters(request);
            for (var f : fields) p.put(f.getName(), f.getValue());
            Object checked = DevAuthorizationCodes.check(p);
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            if (!(checked instanceof DevAuthorizationCodes.Authorization authorization)) {
                oauthError(response, callback, 400, "invalid_request", (String) checked); // never redirected to an unchecked URI
                return;
            }
            if (HttpMethod.GET.is(request.getMethod())) {
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
                // The form posts here, and the answer redirects to the client: a browser holds the redirect to form-action too.
                URI back = authorization.redirectUri();
                String client = back.getScheme() + "://" + back.getRawAuthority();
                response.getHeaders().put("Content-Security-Policy", "default-src 'none'; form-action 'self' " + client + "; frame-ancestors 'none'");
                response.write(true, StandardCharsets.UTF_8.encode(DevAuthorizationCodes.page(p, java.util.Optional.empty())), callback);
                return;
            }
            if (!HttpMethod.POST.is(request.getMethod())) {
                methodNotAllowed(response, callback);
                return;
            }
            String subject = p.getOrDefault("subject", "").strip();
            if (subject.isEmpty()) {
                oauthError(response, callback, 400, "invalid_request", "choose who to sign in as");
                return;
            }
            List<String> groups = Arrays.stream(p.getOrDefault("groups", "").split(",")).map(String::strip).filter(g -> !g.isEmpty()).toList();
            response.setStatus(303);
            response.getHeaders().put(HttpHeader.LOCATION, codes.issue(authorization, subject, groups).toString());
            response.write(true, null, callback);
        }

        /** The code's exchange: an ID token (audience the client, the nonce) and an access token, for the PKCE verifier's holder. */
        private void redeem(Fields form, Response response, Callback callback) {
            Object redeemed = codes.redeem(form.getValue("code"), form.getValue("client_id"), form.getValue("redirect_uri"), form.getValue("code_verifier"));
            if (!(redeemed instanceof DevAuthorizationCodes.Issued issued)) {
                oauthError(response, callback, 400, "invalid_grant", (String) redeemed);
                return;
            }
            var a = issued.request();
            String id = idToken(issued.subject(), issued.groups(), TOKEN_ENDPOINT_TTL, a.clientId(), a.nonce());
            String access = mint(issued.subject(), issued.groups(), TOKEN_ENDPOINT_TTL, a.clientId());
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            JsonResponses.send(response, callback, 200, json -> {
                json.writeStartObject();
                json.writeStringField("access_token", access);
                json.writeStringField("id_token", id);
                json.writeStringField("token_type", "Bearer");
                json.writeNumberField("expires_in", TOKEN_ENDPOINT_TTL.toSeconds());
                json.writeEndObject();
            });
        }

        /** Form fields {@code subject} (required), {@code groups} (comma-separated), {@code client_id}, {@code ttl_seconds}. */
        private void token(Request request, Response response, Callback callback) {
            var form = FormFields.getFields(request);
            if ("authorization_code".equals(form.getValue("grant_type"))) {
                redeem(form, response, callback);
                return;
            }
            String subject = form.getValue("subject");
            if (subject == null || subject.isBlank()) {
                oauthError(response, callback, 400, "invalid_request", "form field 'subject' is required");
                return;
            }
            String groupsField = form.getValue("groups");
            List<String> groups = groupsField == null ? List.of()
                    : Arrays.stream(groupsField.split(",")).map(String::strip).filter(g -> !g.isEmpty()).toList();
            String clientId = form.getValue("client_id");
            Duration ttl = TOKEN_ENDPOINT_TTL;
            String ttlField = form.getValue("ttl_seconds");
            if (ttlField != null) {
                try {
                    ttl = Duration.ofSeconds(Long.parseLong(ttlField));
                } catch (NumberFormatException e) {
                    oauthError(response, callback, 400, "invalid_request", "ttl_seconds must be a whole number");
                    return;
                }
                if (ttl.isNegative() || ttl.isZero()) {
                    oauthError(response, callback, 400, "invalid_request", "ttl_seconds must be positive");
                    return;
                }
            }
            String token = mint(subject, groups, ttl, clientId == null || clientId.isBlank() ? DEFAULT_CLIENT_ID : clientId);
            long expiresIn = ttl.toSeconds();
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            JsonResponses.send(response, callback, 200, json -> {
                json.writeStartObject();
                json.writeStringField("access_token", token);
                json.writeStringField("token_type", "Bearer");
                json.writeNumberField("expires_in", expiresIn);
                json.writeEndObject();
            });
        }

        private boolean methodNotAllowed(Response response, Callback callback) {
            oauthError(response, callback, 405, "invalid_request", "method not allowed");
            return true;
        }

        private void oauthError(Response response, Callback callback, int status, String error, String description) {
            JsonResponses.send(response, callback, status, json -> {
                json.writeStartObject();
                json.writeStringField("error", error);
                json.writeStringField("error_description", description);
                json.writeEndObject();
            });
        }

        private static void writeArray(JsonGenerator json, String field, String... values)
                throws IOException {
            json.writeArrayFieldStart(field);
            for (String value : values) {
                json.writeString(value);
            }
            json.writeEndArray();
        }
    }
}
