package dev.portcullis.identity;

import dev.portcullis.testing.MutableClock;

import static dev.portcullis.identity.TokenVerifierTest.refused;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.identity.IdentityConfig.IntrospectionConfig;
import dev.portcullis.identity.TokenRejectedException.Reason;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** RFC 7662 introspection answers whether a signature-valid token has been revoked. */
class IntrospectionRevocationTest {
    static final Duration CACHE_TTL = Duration.ofSeconds(30);

    private final MutableClock clock = new MutableClock(Instant.now());
    private final TestIssuer issuer = new TestIssuer().start();
    private RSAKey key;

    @BeforeEach
    void publishKey() {
        key = issuer.publishNewKey("k1");
    }

    @AfterEach
    void stop() {
        issuer.close();
    }

    private TokenVerifier verifier(Optional<URI> endpoint) {
        return TokenVerifier.create(new IdentityConfig(issuer.issuer, TestIssuer.AUDIENCE, "groups", Set.of("RS256"),
                Duration.ofSeconds(30), 8192,
                Optional.of(new IntrospectionConfig(endpoint, TestIssuer.CLIENT_ID, TestIssuer.CLIENT_SECRET, CACHE_TTL)),
                Duration.ofMinutes(1)), clock);
    }

    private String token() {
        return TestIssuer.sign(key, issuer.validClaims(clock.instant()).expirationTime(
                java.util.Date.from(clock.instant().plus(Duration.ofHours(1)))).build());
    }

    @Test
    void tokenTheIdpReportsInactiveIsRevoked() {
        issuer.active = false;
        String token = token();
        refused(verifier(Optional.of(issuer.introspectionEndpoint())), token, Reason.REVOKED);
        assertThat(issuer.introspectedTokens).containsExactly(token);
        String basic = Base64.getEncoder().encodeToString("gateway:s3cret%26%3D".getBytes(StandardCharsets.UTF_8));
        assertThat(issuer.introspectionAuthorizations).containsExactly("Basic " + basic);
    }

    @Test
    void activeAnswerIsReusedForTheCacheTtlThenAskedAgainAndRevocationIsSeen() throws Exception {
        TokenVerifier verifier = verifier(Optional.empty()); // endpoint from discovery
        String token = token();

        verifier.verify(token);
        verifier.verify(token);
        clock.advance(CACHE_TTL.minusSeconds(1));
        verifier.verify(token);
        assertThat(issuer.introspectionRequests).hasValue(1);

        clock.advance(Duration.ofSeconds(1));
        verifier.verify(token);
        assertThat(issuer.introspectionRequests).hasValue(2);

        issuer.active = false;
        verifier.verify(token); // still within the TTL of the last positive answer
        clock.advance(CACHE_TTL);
        refused(verifier, token, Reason.REVOKED);
        refused(verifier, token, Reason.REVOKED);
        assertThat(issuer.introspectionRequests).hasValue(3);
    }

    @Test
    void introspectionFailureFailsClosed() {
        issuer.introspectionStatus = 500;
        refused(verifier(Optional.of(issuer.introspectionEndpoint())), token(), Reason.IDP_UNAVAILABLE);
    }

    @Test
    void forgedTokenNeverReachesTheIntrospectionEndpoint() {
        RSAKey attacker = TestIssuer.newKey("k1");
        refused(verifier(Optional.empty()), TestIssuer.sign(attacker, issuer.validClaims(clock.instant()).build()),
                Reason.BAD_SIGNATURE);
        assertThat(issuer.introspectionRequests).hasValue(0);
    }
}
