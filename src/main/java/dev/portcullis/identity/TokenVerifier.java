package dev.portcullis.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.core.Sha256;
import dev.portcullis.core.Text;
import dev.portcullis.identity.TokenRejectedException.Reason;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies agents' OIDC access tokens against one issuer: discovery, JWKS (cached, refreshed at most
 * once per {@code jwksMinRefresh} when an unknown {@code kid} appears), an allow-list of asymmetric
 * algorithms, {@code iss}, {@code aud}, {@code exp}/{@code nbf} with clock skew, a size limit, and
 * optional RFC 7662 introspection for revocation. All signature work is Nimbus JOSE+JWT's.
 *
 * <p>Tokens that verified are cached by their SHA-256 (never by the token itself) so an agent's
 * repeated calls cost a hash, not a signature check; expiry is still checked on every call.
 */
public final class TokenVerifier {
    private static final Logger log = LoggerFactory.getLogger(TokenVerifier.class);
    private static final ObjectMapper JSON = Json.mapper();
    private static final Set<JWSAlgorithm> ASYMMETRIC = new HashSet<>();
    private static final int MAX_CACHED_TOKENS = 50_000;
    private static final Duration DISCOVERY_RETRY = Duration.ofSeconds(5);
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(5);

    static {
        ASYMMETRIC.addAll(JWSAlgorithm.Family.RSA);
        ASYMMETRIC.addAll(JWSAlgorithm.Family.EC);
    }

    private final IdentityConfig config;
    private final Clock clock;
    private final Set<JWSAlgorithm> algorithms;
    private final HttpClient http;
    private final DefaultJWSVerifierFactory verifiers = new DefaultJWSVerifierFactory();
    private final Map<String, CachedIdentity> verified = new ConcurrentHashMap<>();
    private final Introspection introspection;
    private final AtomicLong nextDiscoveryAttemptMillis = new AtomicLong();
    private volatile Discovered discovered;

    private record Discovered(JWSVerificationKeySelector<SecurityContext> keys, URI introspectionEndpoint) {
    }

    private record CachedIdentity(Identity identity, Instant notBefore) {
    }

    private TokenVerifier(IdentityConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        Set<JWSAlgorithm> algs = new LinkedHashSet<>();
        for (String name : config.algorithms()) {
            JWSAlgorithm alg = JWSAlgorithm.parse(name);
            if (!ASYMMETRIC.contains(alg)) {
                throw new IllegalArgumentException("algorithm " + name + " is not an asymmetric JWS algorithm");
            }
            algs.add(alg);
        }
        if (algs.isEmpty()) throw new IllegalArgumentException("no token algorithms allowed");
        this.algorithms = Set.copyOf(algs);
        this.http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
        this.introspection = new Introspection(config.introspection(), http, HTTP_TIMEOUT, MAX_CACHED_TOKENS);
    }

    /**
     * Creates the verifier and tries discovery once. An unreachable IdP does not fail start-up: the
     * verifier is not {@link #ready()} and refuses every token (fail closed) until discovery succeeds.
     */
    public static TokenVerifier create(IdentityConfig config, Clock clock) {
        TokenVerifier verifier = new TokenVerifier(config, clock);
        try {
            verifier.discover();
        } catch (TokenRejectedException e) {
            log.warn("identity provider not ready: {}", e.getMessage());
        }
        return verifier;
    }

    /** Whether discovery succeeded and the key set could be fetched. */
    public boolean ready() {
        Discovered d = discovered;
        if (d == null) {
            try {
                d = discover();
            } catch (TokenRejectedException e) {
                return false;
            }
        }
        return d != null;
    }

    /** Verifies a token and returns who it identifies, or says exactly why not. */
    public Identity verify(String token) throws TokenRejectedException {
        String fingerprint = fingerprint(token);
        Instant now = clock.instant();
        CachedIdentity cached = verified.get(fingerprint);
        Identity identity;
        if (cached != null) {
            identity = cached.identity();
            checkTime(identity.expiresAt(), cached.notBefore(), now);
        } else {
            identity = verifyFully(token, fingerprint, now);
        }
        if (config.introspection().isPresent()) introspect(token, fingerprint, now);
        return identity;
    }

    /**
     * {@link #verify(String)} answered from memory only, without asking the issuer anything (keys,
     * discovery, introspection): the identity of a token that verified before (and, with introspection,
     * whose answer is still fresh), or empty when the issuer would have to be asked. Refusals as
     * {@code verify}. An adapter on an event loop calls this in place and hands an empty answer to a
     * thread that may wait.
     */
    public Optional<Identity> verifyFromMemory(String token) throws TokenRejectedException {
        String fingerprint = fingerprint(token);
        Instant now = clock.instant();
        CachedIdentity cached = verified.get(fingerprint);
        if (cached == null || !introspection.fresh(fingerprint, now)) return Optional.empty();
        checkTime(cached.identity().expiresAt(), cached.notBefore(), now);
        if (config.introspection().isPresent()) introspect(token, fingerprint, now); // fresh: from memory
        return Optional.of(cached.identity());
    }

    /** The cache key of a token that is present and within the size limit (refused otherwise). */
    private String fingerprint(String token) throws TokenRejectedException {
        if (token == null || token.isBlank()) throw new TokenRejectedException(Reason.MISSING, "no token");
        // The length check first spares encoding a huge token; characters never outnumber UTF-8 bytes.
        if (token.length() > config.maxTokenBytes() || token.getBytes(StandardCharsets.UTF_8).length > config.maxTokenBytes()) {
            throw new TokenRejectedException(Reason.OVERSIZED, "token is over the limit of " + config.maxTokenBytes() + " bytes");
        }
        return Sha256.hex(token);
    }

    private Identity verifyFully(String token, String fingerprint, Instant now) throws TokenRejectedException {
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (ParseException e) {
            throw new TokenRejectedException(Reason.MALFORMED, "token is not a JWT");
        }
        if (jwt instanceof PlainJWT) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED, "unsigned token (alg 'none') refused");
        }
        if (jwt instanceof EncryptedJWT || !(jwt instanceof SignedJWT signed)) {
            throw new TokenRejectedException(Reason.MALFORMED, "encrypted tokens are not accepted; send a signed access token");
        }
        JWSHeader header = signed.getHeader();
        if (!algorithms.contains(header.getAlgorithm())) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED,
                    "algorithm " + printable(header.getAlgorithm().getName()) + " is not allowed (allowed: " + config.algorithms() + ")");
        }
        if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
            throw new TokenRejectedException(Reason.MALFORMED, "token has critical header parameters this gateway does not understand");
        }

        JOSEObjectType type = header.getType();
        if (type != null && !ACCEPTED_TYPES.contains(type.getType().toLowerCase(java.util.Locale.ROOT))) {
            throw new TokenRejectedException(Reason.MALFORMED, "token type '" + printable(type.getType())
                    + "' is not an access token (expected JWT or at+jwt)");
        }
        // Unverified, but only ever used to refuse: another issuer's token must not make us fetch keys.
        String claimedIssuer = unverifiedIssuer(signed);
        if (!config.issuer().toString().equals(claimedIssuer)) {
            throw new TokenRejectedException(Reason.WRONG_ISSUER,
                    "issuer '" + printable(String.valueOf(claimedIssuer)) + "' is not the configured issuer '" + config.issuer() + "'");
        }

        Discovered d = discovered != null ? discovered : discover();
        List<Key> keys;
        try {
            keys = d.keys().selectJWSKeys(header, null);
        } catch (RateLimitReachedException e) {
            // The key set was fetched moments ago and had no such kid: an unknown key, not an outage.
            throw new TokenRejectedException(Reason.UNKNOWN_KEY, "no key of the issuer matches kid '"
                    + printable(header.getKeyID()) + "' (key set refreshed within the last " + config.jwksMinRefresh() + ")");
        } catch (KeySourceException e) {
            throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "cannot fetch the issuer's keys: " + e.getMessage());
        }
        if (keys.isEmpty()) {
            throw new TokenRejectedException(Reason.UNKNOWN_KEY, "no key of the issuer matches kid '"
                    + printable(header.getKeyID()) + "' and alg " + header.getAlgorithm());
        }
        boolean valid = false;
        for (Key key : keys) {
            try {
                JWSVerifier verifier = verifiers.createJWSVerifier(header, key);
                if (signed.verify(verifier)) {
                    valid = true;
                    break;
                }
            } catch (JOSEException e) {
                log.debug("key did not verify: {}", e.getMessage());
            }
        }
        if (!valid) throw new TokenRejectedException(Reason.BAD_SIGNATURE, "signature does not verify with the issuer's key");

        JWTClaimsSet claims;
        try {
            claims = signed.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new TokenRejectedException(Reason.MALFORMED, "token claims are not a JSON object");
        }
        String issuer = claims.getIssuer();
        if (!config.issuer().toString().equals(issuer)) {
            throw new TokenRejectedException(Reason.WRONG_ISSUER,
                    "issuer '" + issuer + "' is not the configured issuer '" + config.issuer() + "'");
        }
        List<String> audience = claims.getAudience();
        if (audience == null || !audience.contains(config.audience())) {
            throw new TokenRejectedException(Reason.WRONG_AUDIENCE,
                    "audience " + audience + " does not include '" + config.audience() + "'");
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) throw new TokenRejectedException(Reason.MALFORMED, "token has no expiry (exp)");
        Date nbf = claims.getNotBeforeTime();
        Instant notBefore = nbf == null ? Instant.MIN : nbf.toInstant();
        checkTime(exp.toInstant(), notBefore, now);
        Date iat = claims.getIssueTime();
        if (iat != null && iat.toInstant().isAfter(now.plus(config.clockSkew()))) {
            throw new TokenRejectedException(Reason.NOT_YET_VALID, "token issued in the future (iat " + iat.toInstant() + ")");
        }
        String subject = claims.getSubject();
        if (subject == null || subject.isBlank()) throw new TokenRejectedException(Reason.MALFORMED, "token has no subject (sub)");

        Identity identity = new Identity(subject, groups(claims), tokenId(claims, fingerprint), clientId(claims), issuer,
                stringClaims(claims), exp.toInstant());
        cache(fingerprint, new CachedIdentity(identity, notBefore), now);
        return identity;
    }

    /** Header values are the caller's choice: bounded and without control characters before they reach a message or log. */
    private static String printable(String headerValue) {
        return headerValue == null ? "none" : Text.printable(headerValue, 64);
    }

    private static final Set<String> ACCEPTED_TYPES = Set.of("jwt", "at+jwt", "application/at+jwt", "application/jwt");

    private static String unverifiedIssuer(SignedJWT signed) throws TokenRejectedException {
        try {
            return signed.getJWTClaimsSet().getIssuer();
        } catch (ParseException e) {
            throw new TokenRejectedException(Reason.MALFORMED, "token claims are not a JSON object");
        }
    }

    private void checkTime(Instant expiresAt, Instant notBefore, Instant now) throws TokenRejectedException {
        if (!now.isBefore(expiresAt.plus(config.clockSkew()))) {
            throw new TokenRejectedException(Reason.EXPIRED, "token expired at " + expiresAt);
        }
        if (notBefore != Instant.MIN && now.plus(config.clockSkew()).isBefore(notBefore)) {
            throw new TokenRejectedException(Reason.NOT_YET_VALID, "token not valid before " + notBefore);
        }
    }

    private void cache(String fingerprint, CachedIdentity entry, Instant now) {
        if (verified.size() >= MAX_CACHED_TOKENS) {
            verified.values().removeIf(c -> !now.isBefore(c.identity().expiresAt()));
            if (verified.size() >= MAX_CACHED_TOKENS) verified.clear();
        }
        verified.put(fingerprint, entry);
    }

    private Set<String> groups(JWTClaimsSet claims) {
        Object value = claims.getClaim(config.groupsClaim());
        Set<String> groups = new LinkedHashSet<>();
        if (value instanceof String s) {
            groups.add(s);
        } else if (value instanceof List<?> list) {
            for (Object o : list) if (o instanceof String s) groups.add(s);
        }
        return groups;
    }

    private static String tokenId(JWTClaimsSet claims, String fingerprint) {
        String jti = claims.getJWTID();
        return jti == null || jti.isBlank() ? "sha256:" + fingerprint : jti;
    }

    private static String clientId(JWTClaimsSet claims) {
        for (String name : List.of("client_id", "azp", "cid")) {
            Object v = claims.getClaim(name);
            if (v instanceof String s && !s.isBlank()) return s;
        }
        return "";
    }

    private static Map<String, String> stringClaims(JWTClaimsSet claims) {
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, Object> e : claims.toJSONObject().entrySet()) {
            Object v = e.getValue();
            if (v == null) continue;
            try {
                out.put(e.getKey(), v instanceof String s ? s : JSON.writeValueAsString(v));
            } catch (IOException ex) {
                out.put(e.getKey(), String.valueOf(v));
            }
        }
        return out;
    }

    /** Discovery, at most every few seconds (by the injected clock) while the IdP is unreachable. */
    private Discovered discover() throws TokenRejectedException {
        Discovered d = discovered;
        if (d != null) return d;
        long nowMillis = clock.millis();
        long next = nextDiscoveryAttemptMillis.get();
        if (nowMillis < next || !nextDiscoveryAttemptMillis.compareAndSet(next, nowMillis + DISCOVERY_RETRY.toMillis())) {
            throw new TokenRejectedException(Reason.IDP_UNAVAILABLE,
                    "identity provider " + config.issuer() + " has not answered discovery yet; retrying");
        }
        synchronized (this) {
            if (discovered != null) return discovered;
            String base = config.issuer().toString();
            URI uri = URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base)
                    + "/.well-known/openid-configuration");
            JsonNode doc;
            try {
                HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(uri).timeout(HTTP_TIMEOUT).GET().build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                if (response.statusCode() != 200) {
                    throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "discovery at " + uri + " answered " + response.statusCode());
                }
                doc = JSON.readTree(response.body());
            } catch (IOException e) {
                throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "discovery at " + uri + " failed: " + describe(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "interrupted during discovery");
            }
            String issuer = doc.path("issuer").asText("");
            if (!issuer.equals(config.issuer().toString())) {
                throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "discovery document names issuer '" + issuer
                        + "', not the configured '" + config.issuer() + "'");
            }
            String jwksUri = doc.path("jwks_uri").asText("");
            if (jwksUri.isEmpty()) throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "discovery document has no jwks_uri");
            URI introspection;
            try {
                introspection = config.introspection().flatMap(IdentityConfig.IntrospectionConfig::endpoint)
                        .orElseGet(() -> doc.hasNonNull("introspection_endpoint") ? URI.create(doc.get("introspection_endpoint").asText()) : null);
            } catch (IllegalArgumentException e) {
                throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "discovery document has a bad introspection_endpoint");
            }
            JWKSource<SecurityContext> source;
            try {
                URL url = URI.create(jwksUri).toURL();
                source = JWKSourceBuilder.<SecurityContext>create(url, new DefaultResourceRetriever(
                                (int) HTTP_TIMEOUT.toMillis(), (int) HTTP_TIMEOUT.toMillis(), 512 * 1024))
                        .retrying(false)
                        // Nimbus requires the cache to outlive the rate-limit interval; its 5 min default
                        // would make a jwks-min-refresh of 5 min or more throw from here, at run time.
                        .cache(jwksCacheTtl(config.jwksMinRefresh()).toMillis(), JWKSourceBuilder.DEFAULT_CACHE_REFRESH_TIMEOUT)
                        .rateLimited(config.jwksMinRefresh().toMillis())
                        .build();
            } catch (IOException | IllegalArgumentException e) {
                throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "bad jwks_uri '" + jwksUri + "': " + e.getMessage());
            }
            try {
                // Fetched now so that ready() means tokens can be checked, and a later IdP outage is
                // bridged by the cached key set.
                source.get(new JWKSelector(new JWKMatcher.Builder().build()), null);
            } catch (KeySourceException e) {
                throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "cannot fetch the issuer's keys from " + jwksUri + ": " + e.getMessage());
            }
            Discovered result = new Discovered(new JWSVerificationKeySelector<>(algorithms, source), introspection);
            discovered = result;
            log.info("identity provider {} discovered (keys at {})", config.issuer(), jwksUri);
            return result;
        }
    }

    private static Duration jwksCacheTtl(Duration jwksMinRefresh) {
        Duration floor = Duration.ofMillis(JWKSourceBuilder.DEFAULT_CACHE_TIME_TO_LIVE);
        Duration twice = jwksMinRefresh.multipliedBy(2);
        return twice.compareTo(floor) > 0 ? twice : floor;
    }

    private void introspect(String token, String fingerprint, Instant now) throws TokenRejectedException {
        if (!introspection.active(token, fingerprint, now, () -> {
            Discovered d = discovered != null ? discovered : discover();
            return java.util.Optional.ofNullable(d.introspectionEndpoint());
        })) {
            verified.remove(fingerprint);
            throw new TokenRejectedException(Reason.REVOKED, "the identity provider reports this token inactive (revoked)");
        }
    }

    static String describe(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

}
