package dev.portcullis.identity;

import dev.portcullis.testing.MutableClock;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSAEncrypter;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.core.Identity;
import dev.portcullis.identity.TokenRejectedException.Reason;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Against a real OIDC issuer (mock-oauth2-server over HTTP): good tokens pass, every hostile one is refused. */
class HostileTokensAreRefusedTest {
    static final String ISSUER_ID = "agents";
    static final String AUDIENCE = "portcullis";
    static MockOAuth2Server idp;
    static URI issuer;

    MutableClock clock;
    TokenVerifier verifier;

    @BeforeAll
    static void startIssuer() throws Exception {
        idp = new MockOAuth2Server();
        idp.start(InetAddress.getByName("127.0.0.1"), 0);
        issuer = idp.issuerUrl(ISSUER_ID).uri();
    }

    @AfterAll
    static void stopIssuer() {
        idp.shutdown();
    }

    @BeforeEach
    void newVerifier() {
        clock = new MutableClock(Instant.now());
        verifier = TokenVerifier.create(config(4096), clock);
        assertThat(verifier.ready()).isTrue();
    }

    static IdentityConfig config(int maxTokenBytes) {
        return new IdentityConfig(issuer, AUDIENCE, "portcullis_groups", Set.of("RS256", "ES256"),
                Duration.ofSeconds(30), maxTokenBytes, Optional.empty(), Duration.ofSeconds(30));
    }

    static String token(String issuerId, String audience, Map<String, Object> claims, long expirySeconds) {
        return idp.issueToken(issuerId, "deploy-bot-client",
                new DefaultOAuth2TokenCallback(issuerId, "bot-42", "JWT", List.of(audience), claims, expirySeconds)).serialize();
    }

    static String validToken() {
        return token(ISSUER_ID, AUDIENCE, Map.of("portcullis_groups", List.of("ci", "deployers")), 3600);
    }

    void assertRefused(String token, Reason reason) {
        assertThatThrownBy(() -> verifier.verify(token))
                .isInstanceOfSatisfying(TokenRejectedException.class, e -> {
                    assertThat(e.reason()).isEqualTo(reason);
                    if (!token.isEmpty()) assertThat(e.getMessage()).doesNotContain(token);
                    if (token.contains(".")) {
                        for (String part : token.split("\\.")) {
                            if (part.length() > 16) assertThat(e.getMessage()).doesNotContain(part);
                        }
                    }
                });
    }

    static RSAKey issuerPublicKey() throws Exception {
        return (RSAKey) JWKSet.load(idp.jwksUrl(ISSUER_ID).url()).getKeys().getFirst();
    }

    static JWTClaimsSet claimsOf(String token) throws Exception {
        return SignedJWT.parse(token).getJWTClaimsSet();
    }

    @Test
    void validTokenBecomesIdentityWithSubjectGroupsTokenIdAndClient() throws Exception {
        String token = validToken();
        Identity identity = verifier.verify(token);
        assertThat(identity.subject()).isEqualTo("bot-42");
        assertThat(identity.groups()).containsExactlyInAnyOrder("ci", "deployers");
        assertThat(identity.tokenId()).isEqualTo(claimsOf(token).getJWTID()).isNotBlank();
        assertThat(identity.clientId()).isEqualTo("deploy-bot-client");
        assertThat(identity.issuer()).isEqualTo(issuer.toString());
        assertThat(identity.claims()).containsEntry("sub", "bot-42").containsEntry("portcullis_groups", "[\"ci\",\"deployers\"]");
        assertThat(identity.expiresAt()).isEqualTo(claimsOf(token).getExpirationTime().toInstant());
    }

    @Test
    void singleStringGroupsClaimGivesOneGroup() throws Exception {
        // mock-oauth2-server always sets jti; the fingerprint token id is covered in ClaimsMappingTest
        Identity identity = verifier.verify(token(ISSUER_ID, AUDIENCE, Map.of("portcullis_groups", "ops"), 3600));
        assertThat(identity.groups()).containsExactly("ops");
    }

    @Test
    void sameTokenTwiceIsServedFromCacheButStillExpires() throws Exception {
        String token = token(ISSUER_ID, AUDIENCE, Map.of(), 120);
        assertThat(verifier.verify(token).subject()).isEqualTo("bot-42");
        assertThat(verifier.verify(token).subject()).isEqualTo("bot-42");
        clock.advance(Duration.ofMinutes(10));
        assertRefused(token, Reason.EXPIRED);
    }

    @Test
    void expiredTokenIsRefusedAsExpired() {
        String token = token(ISSUER_ID, AUDIENCE, Map.of(), 60);
        clock.advance(Duration.ofMinutes(5));
        assertRefused(token, Reason.EXPIRED);
    }

    @Test
    void tokenWithinClockSkewAfterExpiryIsStillAccepted() throws Exception {
        String token = token(ISSUER_ID, AUDIENCE, Map.of(), 60);
        clock.set(claimsOf(token).getExpirationTime().toInstant().plusSeconds(10));
        assertThat(verifier.verify(token).subject()).isEqualTo("bot-42");
    }

    @Test
    void tokenFromTheFutureIsRefusedAsNotYetValid() {
        String token = validToken();
        clock.advance(Duration.ofMinutes(-10));
        assertRefused(token, Reason.NOT_YET_VALID);
    }

    @Test
    void tokenFromAnotherIssuerIsRefusedAsWrongIssuer() {
        assertRefused(token("someone-else", AUDIENCE, Map.of(), 3600), Reason.WRONG_ISSUER);
    }

    @Test
    void tokenForAnotherAudienceIsRefusedAsWrongAudience() {
        assertRefused(token(ISSUER_ID, "some-other-api", Map.of(), 3600), Reason.WRONG_AUDIENCE);
    }

    @Test
    void unsignedAlgNoneTokenIsRefused() throws Exception {
        String none = new PlainJWT(claimsOf(validToken())).serialize();
        assertRefused(none, Reason.ALGORITHM_NOT_ALLOWED);
        // and the same with a kid and "typ", hand-assembled, with and without a trailing signature
        String header = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"" + ISSUER_ID + "\",\"typ\":\"JWT\"}").toString();
        String payload = validToken().split("\\.")[1];
        assertRefused(header + "." + payload + ".", Reason.ALGORITHM_NOT_ALLOWED);
        String headerNoneCaps = Base64URL.encode("{\"alg\":\"NONE\",\"kid\":\"" + ISSUER_ID + "\"}").toString();
        assertRefused(headerNoneCaps + "." + payload + ".c2ln", Reason.ALGORITHM_NOT_ALLOWED);
    }

    @Test
    void hmacSignedWithTheIssuersPublicKeyIsRefused() throws Exception {
        RSAKey publicKey = issuerPublicKey();
        JWTClaimsSet claims = claimsOf(validToken());
        for (byte[] secret : List.of(publicKey.toRSAPublicKey().getEncoded(),
                publicKey.toJSONString().getBytes(StandardCharsets.UTF_8))) {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(publicKey.getKeyID()).build(), claims);
            jwt.sign(new MACSigner(secret));
            assertRefused(jwt.serialize(), Reason.ALGORITHM_NOT_ALLOWED);
        }
    }

    @Test
    void tokenSignedWithAKeyTheIssuerNeverPublishedIsRefusedAsUnknownKey() throws Exception {
        RSAKey attacker = new RSAKeyGenerator(2048).keyID("attacker-key").generate();
        assertRefused(StubIssuer.sign(attacker, claimsOf(validToken())), Reason.UNKNOWN_KEY);
    }

    @Test
    void tokenSignedByAnotherKeyUnderTheIssuersKidIsRefusedAsBadSignature() throws Exception {
        RSAKey forger = new RSAKeyGenerator(2048).keyID(issuerPublicKey().getKeyID()).generate();
        assertRefused(StubIssuer.sign(forger, claimsOf(validToken())), Reason.BAD_SIGNATURE);
    }

    @Test
    void keyEmbeddedInTheTokenHeaderIsNeverTrusted() throws Exception {
        RSAKey attacker = new RSAKeyGenerator(2048).keyID(issuerPublicKey().getKeyID()).generate();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(attacker.getKeyID())
                .jwk(attacker.toPublicJWK()).jwkURL(URI.create("http://127.0.0.1:1/evil-jwks")).build(),
                claimsOf(validToken()));
        jwt.sign(new RSASSASigner(attacker));
        assertRefused(jwt.serialize(), Reason.BAD_SIGNATURE);
    }

    @Test
    void unexpectedTokenTypeIsRefused() throws Exception {
        RSAKey attacker = new RSAKeyGenerator(2048).generate();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(issuerPublicKey().getKeyID())
                .type(new com.nimbusds.jose.JOSEObjectType("logout+jwt\n<script>")).build(), claimsOf(validToken()));
        jwt.sign(new RSASSASigner(attacker));
        assertThatThrownBy(() -> verifier.verify(jwt.serialize()))
                .isInstanceOfSatisfying(TokenRejectedException.class, e -> {
                    assertThat(e.reason()).isEqualTo(Reason.MALFORMED);
                    assertThat(e.getMessage()).doesNotContain("\n");
                });
    }

    @Test
    void tokenWithClaimsChangedAfterSigningIsRefusedAsBadSignature() throws Exception {
        String[] parts = validToken().split("\\.");
        JWTClaimsSet tampered = new JWTClaimsSet.Builder(claimsOf(String.join(".", parts)))
                .claim("portcullis_groups", List.of("admins")).build();
        String forged = parts[0] + "." + Base64URL.encode(tampered.toString()) + "." + parts[2];
        assertRefused(forged, Reason.BAD_SIGNATURE);
    }

    @Test
    void encryptedTokenIsRefused() throws Exception {
        EncryptedJWT jwe = new EncryptedJWT(new JWEHeader(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A256GCM),
                claimsOf(validToken()));
        jwe.encrypt(new RSAEncrypter(issuerPublicKey()));
        assertRefused(jwe.serialize(), Reason.MALFORMED);
    }

    @Test
    void algorithmOutsideTheAllowListIsRefusedEvenIfAsymmetric() throws Exception {
        RSAKey key = new RSAKeyGenerator(2048).keyID(issuerPublicKey().getKeyID()).generate();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.PS512).keyID(key.getKeyID()).build(),
                claimsOf(validToken()));
        jwt.sign(new RSASSASigner(key));
        assertRefused(jwt.serialize(), Reason.ALGORITHM_NOT_ALLOWED);
    }

    @Test
    void oversizedTokenIsRefusedBeforeParsing() {
        String big = token(ISSUER_ID, AUDIENCE, Map.of("padding", "x".repeat(5000)), 3600);
        assertRefused(big, Reason.OVERSIZED);
        assertRefused("a".repeat(4097), Reason.OVERSIZED);
    }

    @Test
    void garbageIsRefusedAsMalformed() {
        for (String garbage : List.of("not-a-jwt", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30", "{\"alg\":\"RS256\"}",
                "eyJ.eyJ.sig", "Bearer abc.def.ghi", "é.é.é")) {
            assertRefused(garbage, Reason.MALFORMED);
        }
    }

    @Test
    void missingTokenIsRefusedAsMissing() {
        assertRefused("", Reason.MISSING);
        assertThatThrownBy(() -> verifier.verify(null))
                .isInstanceOfSatisfying(TokenRejectedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.MISSING));
    }

    @Test
    void symmetricAlgorithmInConfigIsRefusedAtStart() {
        IdentityConfig hs = new IdentityConfig(issuer, AUDIENCE, "groups", Set.of("RS256", "HS256"),
                Duration.ofSeconds(30), 4096, Optional.empty(), Duration.ofSeconds(30));
        assertThatThrownBy(() -> TokenVerifier.create(hs, clock)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("HS256");
    }
}
