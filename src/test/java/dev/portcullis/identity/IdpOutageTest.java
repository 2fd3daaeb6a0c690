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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The IdP is unreachable when the gateway starts: fail closed, then recover without a restart. */
class IdpOutageTest {
    private final MutableClock clock = new MutableClock(Instant.now());
    private final TestIssuer issuer = new TestIssuer();

    @AfterEach
    void stop() {
        issuer.close();
    }

    @Test
    void idpDownAtCreationIsNotReadyAndRefusesUntilItAnswers() throws Exception {
        RSAKey key = issuer.publishNewKey("k1");
        TokenVerifier verifier = verifier();
        String token = TestIssuer.sign(key, issuer.validClaims(clock.instant()).build());

        assertThat(verifier.ready()).isFalse();
        refused(verifier, token, Reason.IDP_UNAVAILABLE);

        issuer.start();
        // Discovery is retried at most every 5 s, so a dead IdP is not hammered by every request.
        refused(verifier, token, Reason.IDP_UNAVAILABLE);
        clock.advance(Duration.ofSeconds(5));

        assertThat(verifier.verify(token).subject()).isEqualTo("agent-7");
        assertThat(verifier.ready()).isTrue();
    }

    @Test
    void keySetUnavailableAtCreationIsNotReadyAndRefusesUntilItAnswers() throws Exception {
        issuer.jwksStatus = 503;
        issuer.start();
        RSAKey key = issuer.publishNewKey("k1");
        TokenVerifier verifier = verifier();
        String token = TestIssuer.sign(key, issuer.validClaims(clock.instant()).build());

        assertThat(verifier.ready()).isFalse();
        refused(verifier, token, Reason.IDP_UNAVAILABLE);

        issuer.jwksStatus = 200;
        clock.advance(Duration.ofSeconds(5));
        assertThat(verifier.ready()).isTrue();
        assertThat(verifier.verify(token).subject()).isEqualTo("agent-7");
    }

    @Test
    void keysFetchedBeforeTheIdpWentDownStillVerify() throws Exception {
        issuer.start();
        RSAKey key = issuer.publishNewKey("k1");
        TokenVerifier verifier = verifier();
        issuer.close();

        assertThat(verifier.ready()).isTrue();
        assertThat(verifier.verify(TestIssuer.sign(key, issuer.validClaims(clock.instant()).build())).subject())
                .isEqualTo("agent-7");
        refused(verifier, TestIssuer.sign(TestIssuer.newKey("k2"), issuer.validClaims(clock.instant()).build()),
                Reason.IDP_UNAVAILABLE);
    }

    private TokenVerifier verifier() {
        return TokenVerifier.create(new IdentityConfig(issuer.issuer, TestIssuer.AUDIENCE, "groups",
                Set.of("RS256"), Duration.ofSeconds(30), 8192, Optional.empty(), Duration.ofMinutes(1)), clock);
    }
}
