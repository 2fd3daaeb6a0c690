package dev.portcullis.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
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
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small OIDC issuer for what mock-oauth2-server cannot stage: key rotation, counted JWKS and
 * introspection requests, an answer that changes, and an IdP that is down and comes back on the same port.
 */
final class TestIssuer implements AutoCloseable {
    static final String AUDIENCE = "portcullis";
    static final String CLIENT_ID = "gateway";
    static final String CLIENT_SECRET = "s3cret&=";

    final int port;
    final URI issuer;
    final AtomicInteger jwksRequests = new AtomicInteger();
    final AtomicInteger introspectionRequests = new AtomicInteger();
    final List<String> introspectedTokens = new CopyOnWriteArrayList<>();
    final List<String> introspectionAuthorizations = new CopyOnWriteArrayList<>();
    volatile boolean active = true;
    volatile int introspectionStatus = 200;
    volatile int jwksStatus = 200;
    private final List<RSAKey> published = new CopyOnWriteArrayList<>();
    private HttpServer server;

    /** Reserves a free port without listening on it yet; {@link #start()} begins answering. */
    TestIssuer() {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        issuer = URI.create("http://127.0.0.1:" + port);
    }

    static RSAKey newKey(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).algorithm(JWSAlgorithm.RS256).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    RSAKey publishNewKey(String kid) {
        RSAKey key = newKey(kid);
        published.add(key);
        return key;
    }

    URI introspectionEndpoint() {
        return URI.create(issuer + "/introspect");
    }

    TestIssuer start() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/.well-known/openid-configuration", ex -> json(ex, 200, """
                {"issuer":"%s","jwks_uri":"%s/jwks","introspection_endpoint":"%s"}"""
                .formatted(issuer, issuer, introspectionEndpoint())));
        server.createContext("/jwks", ex -> {
            jwksRequests.incrementAndGet();
            json(ex, jwksStatus, new JWKSet(published.stream().map(k -> (JWK) k.toPublicJWK()).toList()).toString());
        });
        server.createContext("/introspect", ex -> {
            introspectionRequests.incrementAndGet();
            introspectionAuthorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            String form = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            for (String pair : form.split("&")) {
                if (pair.startsWith("token=")) introspectedTokens.add(URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8));
            }
            json(ex, introspectionStatus, "{\"active\":" + active + "}");
        });
        server.start();
        return this;
    }

    /** Claims of a token the verifier should accept at {@code now}. */
    JWTClaimsSet.Builder validClaims(Instant now) {
        return new JWTClaimsSet.Builder()
                .issuer(issuer.toString())
                .audience(AUDIENCE)
                .subject("agent-7")
                .claim("client_id", "agent-client")
                .jwtID(UUID.randomUUID().toString())
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(10))));
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

    private static void json(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (var out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        if (server != null) server.stop(0);
    }
}
