package dev.portcullis.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny OIDC issuer over real HTTP, for what mock-oauth2-server cannot do on demand: rotate its
 * signing keys, count JWKS fetches, and answer RFC 7662 introspection as a test says.
 */
final class StubIssuer implements AutoCloseable {
    static final String CLIENT_ID = "portcullis-gateway";
    static final String CLIENT_SECRET = "s3cret";

    private final HttpServer server;
    private final List<RSAKey> published = new CopyOnWriteArrayList<>();
    final AtomicInteger jwksFetches = new AtomicInteger();
    final AtomicInteger introspections = new AtomicInteger();
    final Set<String> revokedTokens = ConcurrentHashMap.newKeySet();
    volatile boolean introspectionDown;
    volatile String lastIntrospectionAuthorization;

    StubIssuer() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/.well-known/openid-configuration", ex -> reply(ex, 200, """
                {"issuer":"%s","jwks_uri":"%s/jwks","introspection_endpoint":"%s/introspect"}"""
                .formatted(issuer(), issuer(), issuer())));
        server.createContext("/jwks", ex -> {
            jwksFetches.incrementAndGet();
            reply(ex, 200, new JWKSet(List.copyOf(published)).toPublicJWKSet().toString());
        });
        server.createContext("/introspect", ex -> {
            introspections.incrementAndGet();
            lastIntrospectionAuthorization = ex.getRequestHeaders().getFirst("Authorization");
            if (introspectionDown) {
                reply(ex, 503, "{}");
                return;
            }
            Map<String, String> form = form(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.US_ASCII));
            boolean active = form.containsKey("token") && !revokedTokens.contains(form.get("token"))
                    && "access_token".equals(form.get("token_type_hint"));
            reply(ex, 200, "{\"active\":" + active + "}");
        });
        server.start();
    }

    String issuer() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    RSAKey newKey(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    RSAKey publishNewKey(String kid) {
        RSAKey key = newKey(kid);
        published.add(key);
        return key;
    }

    void withdraw(RSAKey key) {
        published.remove(key);
    }

    JWTClaimsSet.Builder claims(Instant now) {
        return new JWTClaimsSet.Builder().issuer(issuer()).subject("ci-bot").audience("portcullis")
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(3600)));
    }

    static String sign(RSAKey key, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
                    .type(JOSEObjectType.JWT).build(), claims);
            jwt.sign(new RSASSASigner(key));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    URI uri() {
        return URI.create(issuer());
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private static Map<String, String> form(String body) {
        Map<String, String> out = new ConcurrentHashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static void reply(HttpExchange ex, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (var out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
