package dev.portcullis.dev;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DevIssuerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private DevIssuer issuer;

    @BeforeEach
    void start() {
        TestLogging.quiet();
        issuer = DevIssuer.start(0, "portcullis-test");
    }

    @AfterEach
    void stop() {
        issuer.close();
        http.close();
    }

    @Test
    void discoveryNamesIssuerJwksAndTokenEndpoint() throws Exception {
        HttpResponse<String> response = get(issuer.discoveryUri());

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode discovery = JSON.readTree(response.body());
        assertThat(discovery.path("issuer").asText()).isEqualTo(issuer.issuer().toString());
        assertThat(discovery.path("jwks_uri").asText()).isEqualTo(issuer.jwksUri().toString());
        assertThat(discovery.path("token_endpoint").asText()).isEqualTo(issuer.tokenEndpoint().toString());
        assertThat(discovery.path("id_token_signing_alg_values_supported").get(0).asText()).isEqualTo("RS256");
    }

    @Test
    void jwksPublishesOnlyThePublicSigningKey() throws Exception {
        JWKSet served = JWKSet.parse(get(issuer.jwksUri()).body());

        assertThat(served.getKeys()).hasSize(1);
        assertThat(served.getKeys().getFirst().getKeyID()).isEqualTo(issuer.signingKeyId());
        assertThat(served.getKeys().getFirst().isPrivate()).isFalse();
    }

    @Test
    void everyResponseSaysNotForProduction() throws Exception {
        for (URI uri : List.of(issuer.discoveryUri(), issuer.jwksUri(), issuer.issuer().resolve("/nope"))) {
            assertThat(get(uri).headers().firstValue(DevIssuer.DEV_HEADER)).contains("not-for-production");
        }
    }

    @Test
    void mintedTokenVerifiesAgainstTheServedJwks() throws Exception {
        String token = issuer.mint("agent-7", List.of("okta-readers", "oncall"), Duration.ofMinutes(5));

        JWTClaimsSet claims = verifier().process(token, null);

        assertThat(claims.getIssuer()).isEqualTo(issuer.issuer().toString());
        assertThat(claims.getAudience()).containsExactly("portcullis-test");
        assertThat(claims.getSubject()).isEqualTo("agent-7");
        assertThat(claims.getStringListClaim("groups")).containsExactly("okta-readers", "oncall");
        assertThat(claims.getStringClaim("client_id")).isEqualTo(DevIssuer.DEFAULT_CLIENT_ID);
        assertThat(claims.getJWTID()).isNotBlank();
        assertThat(Duration.between(claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant()))
                .isEqualTo(Duration.ofMinutes(5));
        assertThat(SignedJWT.parse(token).getHeader().getKeyID()).isEqualTo(issuer.signingKeyId());
    }

    @Test
    void tokenFromAnHourAgoWithATenMinuteLifetimeIsRefused() throws Exception {
        var past = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        try (var stale = DevIssuer.start(0, "portcullis-test", past)) {
            String token = stale.mint("agent-7", List.of(), Duration.ofMinutes(10));

            assertThatThrownBy(() -> verifier(stale).process(token, null))
                    .isInstanceOf(BadJOSEException.class)
                    .hasMessageContaining("Expired");
        }
    }

    @Test
    void tokenEndpointIssuesAVerifiableBearerToken() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(issuer.tokenEndpoint())
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("subject=ci-bot&groups=okta-admins,%20oncall"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue(DevIssuer.DEV_HEADER)).contains("not-for-production");
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.path("token_type").asText()).isEqualTo("Bearer");
        assertThat(body.path("expires_in").asLong()).isEqualTo(3600);
        JWTClaimsSet claims = verifier().process(body.path("access_token").asText(), null);
        assertThat(claims.getSubject()).isEqualTo("ci-bot");
        assertThat(claims.getStringListClaim("groups")).containsExactly("okta-admins", "oncall");
    }

    @Test
    void tokenEndpointWithoutSubjectIsABadRequest() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(issuer.tokenEndpoint())
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("groups=x"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(response.body()).path("error").asText()).isEqualTo("invalid_request");
    }

    @Test
    void rotationPublishesNewAndOldKeysAndBothTokensStillVerify() throws Exception {
        String oldKid = issuer.signingKeyId();
        String before = issuer.mint("agent-7", List.of(), Duration.ofMinutes(5));

        String newKid = issuer.rotateKey();
        String after = issuer.mint("agent-7", List.of(), Duration.ofMinutes(5));

        JWKSet served = JWKSet.parse(get(issuer.jwksUri()).body());
        assertThat(served.getKeys()).extracting(k -> k.getKeyID()).containsExactly(newKid, oldKid);
        assertThat(SignedJWT.parse(after).getHeader().getKeyID()).isEqualTo(newKid);
        var verifier = verifier();
        assertThat(verifier.process(before, null).getSubject()).isEqualTo("agent-7");
        assertThat(verifier.process(after, null).getSubject()).isEqualTo("agent-7");
    }

    private DefaultJWTProcessor<SecurityContext> verifier() throws Exception {
        return verifier(issuer);
    }

    private static DefaultJWTProcessor<SecurityContext> verifier(DevIssuer issuer) throws Exception {
        var processor = new DefaultJWTProcessor<SecurityContext>();
        var keys = JWKSourceBuilder.<SecurityContext>create(issuer.jwksUri().toURL()).build();
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.RS256, keys));
        processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(
                issuer.audience(),
                new JWTClaimsSet.Builder().issuer(issuer.issuer().toString()).build(),
                Set.of("sub", "exp", "iat", "nbf", "jti")));
        return processor;
    }

    private HttpResponse<String> get(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
