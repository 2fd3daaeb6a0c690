package dev.portcullis.identity;

import dev.portcullis.testing.MutableClock;

import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.identity.TokenRejectedException.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RevocationByIntrospectionTest {
    final StubIssuer idp = new StubIssuer();
    final MutableClock clock = new MutableClock(Instant.parse("2026-11-23T10:00:00Z"));
    final RSAKey key = idp.publishNewKey("key-a");

    @AfterEach
    void stop() {
        idp.close();
    }

    TokenVerifier verifier(Optional<URI> endpoint) {
        var introspection = new IdentityConfig.IntrospectionConfig(endpoint, StubIssuer.CLIENT_ID,
                StubIssuer.CLIENT_SECRET, Duration.ofSeconds(30));
        return TokenVerifier.create(new IdentityConfig(idp.uri(), "portcullis", "groups", Set.of("RS256"),
                Duration.ofSeconds(30), 8192, Optional.of(introspection), Duration.ofSeconds(60)), clock);
    }

    String token() {
        return StubIssuer.sign(key, idp.claims(clock.instant()).jwtID("t-" + System.nanoTime()).build());
    }

    @Test
    void revokedTokenIsRefusedOnceTheCachedPositiveAnswerExpires() throws Exception {
        TokenVerifier verifier = verifier(Optional.empty());
        String token = token();
        assertThat(verifier.verify(token).subject()).isEqualTo("ci-bot");
        assertThat(idp.introspections).hasValue(1);
        assertThat(idp.lastIntrospectionAuthorization).isEqualTo("Basic " + Base64.getEncoder()
                .encodeToString((StubIssuer.CLIENT_ID + ":" + StubIssuer.CLIENT_SECRET).getBytes(StandardCharsets.UTF_8)));

        idp.revokedTokens.add(token);
        clock.advance(Duration.ofSeconds(20));
        assertThat(verifier.verify(token).subject()).as("positive answer reused within cacheTtl").isEqualTo("ci-bot");
        assertThat(idp.introspections).hasValue(1);

        clock.advance(Duration.ofSeconds(11));
        assertThatThrownBy(() -> verifier.verify(token))
                .isInstanceOfSatisfying(TokenRejectedException.class, e -> {
                    assertThat(e.reason()).isEqualTo(Reason.REVOKED);
                    assertThat(e.getMessage()).doesNotContain(token);
                });
        assertThat(idp.introspections).hasValue(2);
    }

    @Test
    void inactiveTokenIsRefusedAsRevokedUsingAConfiguredEndpoint() {
        TokenVerifier verifier = verifier(Optional.of(URI.create(idp.issuer() + "/introspect")));
        String token = token();
        idp.revokedTokens.add(token);
        assertThatThrownBy(() -> verifier.verify(token))
                .isInstanceOfSatisfying(TokenRejectedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.REVOKED));
    }

    @Test
    void unreachableIntrospectionFailsClosed() {
        TokenVerifier verifier = verifier(Optional.empty());
        idp.introspectionDown = true;
        assertThatThrownBy(() -> verifier.verify(token()))
                .isInstanceOfSatisfying(TokenRejectedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.IDP_UNAVAILABLE));

        TokenVerifier nowhere = verifier(Optional.of(URI.create("http://127.0.0.1:1/introspect")));
        assertThatThrownBy(() -> nowhere.verify(token()))
                .isInstanceOfSatisfying(TokenRejectedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.IDP_UNAVAILABLE));
    }

    @Test
    void tokensFailingLocalVerificationAreNeverSentToTheIntrospectionEndpoint() {
        TokenVerifier verifier = verifier(Optional.empty());
        String forged = StubIssuer.sign(idp.newKey("key-a"), idp.claims(clock.instant()).build());
        assertThatThrownBy(() -> verifier.verify(forged))
                .isInstanceOfSatisfying(TokenRejectedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE));
        assertThat(idp.introspections).hasValue(0);
    }
}
