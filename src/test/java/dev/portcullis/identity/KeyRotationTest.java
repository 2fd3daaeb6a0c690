package dev.portcullis.identity;

import dev.portcullis.testing.MutableClock;

import static dev.portcullis.identity.TokenVerifierTest.refused;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.identity.TokenRejectedException.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The issuer rotates keys under a running verifier; unknown kids must not turn into a JWKS flood. */
class KeyRotationTest {
    static final Duration JWKS_MIN_REFRESH = Duration.ofMinutes(5);

    private final MutableClock clock = new MutableClock(Instant.now());
    private final TestIssuer issuer = new TestIssuer().start();

    @AfterEach
    void stop() {
        issuer.close();
    }

    private TokenVerifier verifier() {
        return TokenVerifier.create(new IdentityConfig(issuer.issuer, TestIssuer.AUDIENCE, "groups", Set.of("RS256"),
                Duration.ofSeconds(30), 8192, Optional.empty(), JWKS_MIN_REFRESH), clock);
    }

    @Test
    void tokenSignedWithANewlyPublishedKeyVerifiesWithoutANewVerifier() throws Exception {
        RSAKey first = issuer.publishNewKey("k1");
        TokenVerifier verifier = verifier();
        assertThat(verifier.verify(TestIssuer.sign(first, issuer.validClaims(clock.instant()).build())).subject())
                .isEqualTo("agent-7");

        RSAKey second = issuer.publishNewKey("k2");
        assertThat(verifier.verify(TestIssuer.sign(second, issuer.validClaims(clock.instant()).subject("agent-8").build()))
                .subject()).isEqualTo("agent-8");
        assertThat(verifier.verify(TestIssuer.sign(first, issuer.validClaims(clock.instant()).build())).subject())
                .isEqualTo("agent-7");
        assertThat(issuer.jwksRequests).hasValue(2);
    }

    @Test
    void floodOfUnknownKidsFetchesTheKeySetAtMostTwiceWithinTheMinimumRefresh() throws Exception {
        RSAKey published = issuer.publishNewKey("k1");
        TokenVerifier verifier = verifier();
        verifier.verify(TestIssuer.sign(published, issuer.validClaims(clock.instant()).build()));

        RSAKey stranger = TestIssuer.newKey("stranger");
        for (int i = 0; i < 50; i++) {
            RSAKey randomKid = new RSAKey.Builder(stranger).keyID(UUID.randomUUID().toString()).build();
            refused(verifier, TestIssuer.sign(randomKid, issuer.validClaims(clock.instant()).build()), Reason.UNKNOWN_KEY);
        }

        assertThat(issuer.jwksRequests.get()).isLessThanOrEqualTo(2);
        // Tokens under the known key keep working through the flood.
        assertThat(verifier.verify(TestIssuer.sign(published, issuer.validClaims(clock.instant()).build())).subject())
                .isEqualTo("agent-7");
    }
}
