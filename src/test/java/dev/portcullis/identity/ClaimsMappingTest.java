package dev.portcullis.identity;

import dev.portcullis.testing.MutableClock;

import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.core.Identity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClaimsMappingTest {
    final StubIssuer idp = new StubIssuer();
    final MutableClock clock = new MutableClock(Instant.parse("2026-11-23T10:00:00Z"));
    final RSAKey key = idp.publishNewKey("key-a");
    final TokenVerifier verifier = TokenVerifier.create(new IdentityConfig(idp.uri(), "portcullis", "roles",
            Set.of("RS256"), Duration.ofSeconds(30), 8192, Optional.empty(), Duration.ofSeconds(60)), clock);

    @AfterEach
    void stop() {
        idp.close();
    }

    @Test
    void tokenWithoutJtiIsIdentifiedBySha256FingerprintAndOktaCidGivesClientId() throws Exception {
        String token = StubIssuer.sign(key, idp.claims(clock.instant()).claim("cid", "0oa-okta-client")
                .claim("roles", List.of("ci", 7, "ops")).claim("scp", List.of("read", "write"))
                .claim("ver", 1).claim("meta", Map.of("team", "infra")).build());
        Identity identity = verifier.verify(token);
        assertThat(identity.tokenId()).isEqualTo("sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)))).hasSize(7 + 64);
        assertThat(identity.clientId()).isEqualTo("0oa-okta-client");
        assertThat(identity.groups()).as("non-string entries ignored").containsExactlyInAnyOrder("ci", "ops");
        assertThat(identity.claims()).containsEntry("sub", "ci-bot").containsEntry("scp", "[\"read\",\"write\"]")
                .containsEntry("ver", "1").containsEntry("meta", "{\"team\":\"infra\"}");
    }

    @Test
    void absentGroupsClaimMeansNoGroupsAndAzpGivesClientId() throws Exception {
        Identity identity = verifier.verify(StubIssuer.sign(key, idp.claims(clock.instant()).claim("azp", "ci-runner").build()));
        assertThat(identity.groups()).isEmpty();
        assertThat(identity.clientId()).isEqualTo("ci-runner");
    }

    @Test
    void correctlySignedTokenNamingAnotherIssuerIsRefusedAsWrongIssuer() {
        String token = StubIssuer.sign(key, idp.claims(clock.instant()).issuer(idp.issuer() + "/").build());
        assertThatThrownBy(() -> verifier.verify(token)).isInstanceOfSatisfying(TokenRejectedException.class,
                e -> assertThat(e.reason()).isEqualTo(TokenRejectedException.Reason.WRONG_ISSUER));
    }

    @Test
    void tokenWithoutExpIsRefusedAsMalformed() {
        String token = StubIssuer.sign(key, idp.claims(clock.instant()).expirationTime(null).build());
        assertThatThrownBy(() -> verifier.verify(token)).isInstanceOfSatisfying(TokenRejectedException.class,
                e -> assertThat(e.reason()).isEqualTo(TokenRejectedException.Reason.MALFORMED));
    }

    @Test
    void everyReasonHasADistinctLowerCaseLabel() {
        var labels = java.util.Arrays.stream(TokenRejectedException.Reason.values()).map(TokenRejectedException.Reason::label).toList();
        assertThat(labels).doesNotHaveDuplicates().allMatch(l -> l.matches("[a-z-]+"));
        assertThat(TokenRejectedException.Reason.EXPIRED.label()).isEqualTo("expired");
    }
}
