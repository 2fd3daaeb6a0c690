package dev.portcullis.identity;

import dev.portcullis.testing.MutableClock;

import dev.portcullis.identity.TokenRejectedException.Reason;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IdpDownAtStartTest {

    @Test
    void verifierStartsNotReadyFailsClosedThenRecoversWhenTheIssuerComesUp() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = probe.getLocalPort();
        }
        // mock-oauth2-server names itself "localhost" in the tokens it issues directly
        URI issuer = URI.create("http://localhost:" + port + "/agents");
        MutableClock clock = new MutableClock(Instant.now());
        TokenVerifier verifier = TokenVerifier.create(new IdentityConfig(issuer, "portcullis", "groups", Set.of("RS256"),
                Duration.ofSeconds(30), 8192, Optional.empty(), Duration.ofSeconds(30)), clock);
        assertThat(verifier.ready()).isFalse();

        MockOAuth2Server idp = new MockOAuth2Server();
        try {
            idp.start(InetAddress.getByName("127.0.0.1"), port);
            assertThat(idp.issuerUrl("agents").toString()).isEqualTo(issuer.toString());
            String token = idp.issueToken("agents", "client",
                    new DefaultOAuth2TokenCallback("agents", "bot-1", "JWT", List.of("portcullis"), Map.of(), 3600)).serialize();

            // within the retry interval the verifier does not call the IdP again
            assertThatThrownBy(() -> verifier.verify(token))
                    .isInstanceOfSatisfying(TokenRejectedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.IDP_UNAVAILABLE));
            assertThat(verifier.ready()).isFalse();

            clock.advance(Duration.ofSeconds(31));
            assertThat(verifier.verify(token).subject()).isEqualTo("bot-1");
            assertThat(verifier.ready()).isTrue();
        } finally {
            idp.shutdown();
        }
    }

    @Test
    void discoveryNamingAnotherIssuerLeavesTheVerifierNotReady() {
        try (StubIssuer idp = new StubIssuer()) {
            idp.publishNewKey("k");
            URI lookalike = URI.create(idp.issuer() + "/");
            TokenVerifier verifier = TokenVerifier.create(new IdentityConfig(lookalike, "portcullis", "groups",
                    Set.of("RS256"), Duration.ofSeconds(30), 8192, Optional.empty(), Duration.ofSeconds(30)), clockAtNow());
            assertThat(verifier.ready()).isFalse();
        }
    }

    private static MutableClock clockAtNow() {
        return new MutableClock(Instant.now());
    }
}
