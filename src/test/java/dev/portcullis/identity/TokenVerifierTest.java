package dev.portcullis.identity;

import dev.portcullis.testing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSAEncrypter;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.core.Identity;
import dev.portcullis.identity.TokenRejectedException.Reason;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.KeyProvider;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Tokens from a real OIDC issuer (mock-oauth2-server over HTTP), and every way a hostile one is refused. */
class TokenVerifierTest {
    static final String ISSUER_ID = "agents";
    static final String OTHER_ISSUER_ID = "other";
    static final String AUDIENCE = "portcullis";
    static final String GROUPS_CLAIM = "pc_groups";
    static final Duration SKEW = Duration.ofSeconds(30);
    static final int MAX_TOKEN_BYTES = 8 * 1024;

    static KeyProvider keys;
    static MockOAuth2Server server;
    static URI issuer;

    MutableClock clock;
    TokenVerifier verifier;

    @BeforeAll
    static void startIssuer() throws Exception {
        keys = new KeyProvider();
        server = new MockOAuth2Server(new OAuth2Config(false, null, null, false, new OAuth2TokenProvider(keys)));
        server.start(InetAddress.getByName("127.0.0.1"), 0);
        issuer = server.issuerUrl(ISSUER_ID).uri();
    }

    @AfterAll
    static void stopIssuer() {
        server.shutdown();
    }

    @BeforeEach
    void newVerifier() {
        clock = new MutableClock(Instant.now());
        verifier = TokenVerifier.create(config(MAX_TOKEN_BYTES), clock);
    }

    static IdentityConfig config(int maxTokenBytes) {
        return new IdentityConfig(issuer, AUDIENCE, GROUPS_CLAIM, Set.of("RS256", "ES256"), SKEW, maxTokenBytes,
                Optional.empty(), Duration.ofMinutes(1));
    }

    static SignedJWT mint(String issuerId, List<String> audience, long expirySeconds) {
        return server.issueToken(issuerId, "agent-client", new DefaultOAuth2TokenCallback(issuerId, "agent-7", "JWT",
                audience, Map.of(GROUPS_CLAIM, List.of("dba", "oncall")), expirySeconds));
    }

    static String validToken() {
        return mint(ISSUER_ID, List.of(AUDIENCE), 3600).serialize();
    }

    /** The issuer's own signing key (with its published kid), to re-sign claims it would never issue. */
    static RSAKey issuerKey() {
        return (RSAKey) keys.signingKey(ISSUER_ID);
    }

    static JWTClaimsSet.Builder claims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(issuer.toString())
                .audience(AUDIENCE)
                .subject("agent-7")
                .jwtID(UUID.randomUUID().toString())
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(3600)));
    }

    static String signedBy(RSAKey key, String kid, JWTClaimsSet claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    static String b64(String json) {
        return Base64URL.encode(json.getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** Asserts the exact reason, and that the message (shown to agents, logged) carries no part of the token. */
    void refused(String token, Reason reason) {
        refused(verifier, token, reason);
    }

    static void refused(TokenVerifier verifier, String token, Reason reason) {
        assertThatThrownBy(() -> verifier.verify(token))
                .isInstanceOfSatisfying(TokenRejectedException.class, e -> {
                    assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
                    assertNoTokenIn(e.getMessage(), token);
                });
    }

    static void assertNoTokenIn(String message, String token) {
        assertThat(message).isNotBlank();
        if (token == null) return;
        if (token.strip().length() >= 8) assertThat(message).doesNotContain(token.strip());
        for (String part : token.split("\\.")) {
            if (part.length() >= 12) assertThat(message).doesNotContain(part);
        }
    }

    @Test
    void validTokenBecomesAnIdentityWithSubjectGroupsTokenIdAndClient() throws Exception {
        SignedJWT jwt = mint(ISSUER_ID, List.of(AUDIENCE), 3600);

        Identity identity = verifier.verify(jwt.serialize());

        assertThat(verifier.ready()).isTrue();
        assertThat(identity.subject()).isEqualTo("agent-7");
        assertThat(identity.groups()).containsExactlyInAnyOrder("dba", "oncall");
        assertThat(identity.tokenId()).isEqualTo(jwt.getJWTClaimsSet().getJWTID()).doesNotStartWith("sha256:");
        assertThat(identity.clientId()).isEqualTo("agent-client");
        assertThat(identity.issuer()).isEqualTo(issuer.toString());
        assertThat(identity.expiresAt().getEpochSecond())
                .isEqualTo(jwt.getJWTClaimsSet().getExpirationTime().toInstant().getEpochSecond());
    }

    @Test
    void groupsClaimHoldingOneStringIsOneGroup() throws Exception {
        String token = signedBy(issuerKey(), ISSUER_ID, claims().claim(GROUPS_CLAIM, "dba").build());
        assertThat(verifier.verify(token).groups()).containsExactly("dba");
    }

    @Test
    void tokenIsRefusedOnceTheClockPassesItsExpiry() {
        String token = mint(ISSUER_ID, List.of(AUDIENCE), 60).serialize();
        clock.advance(Duration.ofSeconds(60).plus(SKEW).plusSeconds(1));
        refused(token, Reason.EXPIRED);
    }

    @Test
    void tokenMintedAlreadyExpiredIsRefused() {
        refused(mint(ISSUER_ID, List.of(AUDIENCE), -300).serialize(), Reason.EXPIRED);
    }

    /**
     * Sets the verifier's clock just past the token's expiry and the allowed skew. The token's exp is
     * the issuer's clock at minting plus its lifetime, in whole seconds, so it is not the test's clock
     * at its start plus the lifetime: advancing by the lifetime alone fell short whenever minting
     * crossed a second boundary.
     */
    void pastExpiry(String token) throws Exception {
        Instant exp = com.nimbusds.jwt.JWTParser.parse(token).getJWTClaimsSet().getExpirationTime().toInstant();
        clock.set(exp.plus(SKEW).plusSeconds(1));
    }

    @Test
    void cachedTokenIsStillRefusedOnceTheClockPassesItsExpiry() throws Exception {
        String token = mint(ISSUER_ID, List.of(AUDIENCE), 120).serialize();
        verifier.verify(token);
        verifier.verify(token);
        pastExpiry(token);
        refused(token, Reason.EXPIRED);
    }

    @Test
    void fromMemoryAnswersOnlyForATokenVerifiedBeforeAndRefusesAsVerifyDoes() throws Exception {
        // What an event loop asks before deciding in place: never a signature check or a network call.
        String token = mint(ISSUER_ID, List.of(AUDIENCE), 120).serialize();
        assertThat(verifier.verifyFromMemory(token)).as("never verified: the issuer's keys are needed").isEmpty();
        assertThat(verifier.verifyFromMemory(signedBy(issuerKey(), "forged-kid", claims().build()))).isEmpty();

        Identity verified = verifier.verify(token);
        assertThat(verifier.verifyFromMemory(token)).contains(verified);

        assertThatThrownBy(() -> verifier.verifyFromMemory(" ")).isInstanceOf(TokenRejectedException.class)
                .satisfies(e -> assertThat(((TokenRejectedException) e).reason()).isEqualTo(Reason.MISSING));
        assertThatThrownBy(() -> verifier.verifyFromMemory("x".repeat(MAX_TOKEN_BYTES + 1))).isInstanceOf(TokenRejectedException.class)
                .satisfies(e -> assertThat(((TokenRejectedException) e).reason()).isEqualTo(Reason.OVERSIZED));
        pastExpiry(token);
        assertThatThrownBy(() -> verifier.verifyFromMemory(token)).isInstanceOf(TokenRejectedException.class)
                .satisfies(e -> assertThat(((TokenRejectedException) e).reason()).isEqualTo(Reason.EXPIRED));
    }

    @Test
    void tokenWhoseNotBeforeIsInTheFutureIsRefused() throws Exception {
        Instant nbf = Instant.now().plus(Duration.ofMinutes(10));
        refused(signedBy(issuerKey(), ISSUER_ID, claims().notBeforeTime(Date.from(nbf)).build()), Reason.NOT_YET_VALID);
    }

    @Test
    void tokenIssuedInTheFutureIsRefused() throws Exception {
        Instant iat = Instant.now().plus(Duration.ofMinutes(10));
        refused(signedBy(issuerKey(), ISSUER_ID, claims().issueTime(Date.from(iat)).build()), Reason.NOT_YET_VALID);
    }

    @Test
    void tokenFromAnotherIssuerOnTheSameServerIsRefusedBeforeAnyKeyLookup() {
        // Its unverified iss is checked first, so a foreign token can never make the gateway refetch keys.
        refused(mint(OTHER_ISSUER_ID, List.of(AUDIENCE), 3600).serialize(), Reason.WRONG_ISSUER);
    }

    @Test
    void claimsNamingAnotherIssuerAreRefusedEvenWhenSignedWithTheIssuersKey() throws Exception {
        String otherIssuer = server.issuerUrl(OTHER_ISSUER_ID).toString();
        refused(signedBy(issuerKey(), ISSUER_ID, claims().issuer(otherIssuer).build()), Reason.WRONG_ISSUER);
        refused(signedBy(issuerKey(), ISSUER_ID, claims().issuer(issuer + "/").build()), Reason.WRONG_ISSUER);
        refused(signedBy(issuerKey(), ISSUER_ID, claims().issuer(null).build()), Reason.WRONG_ISSUER);
    }

    @Test
    void tokenForAnotherAudienceIsRefused() throws Exception {
        refused(mint(ISSUER_ID, List.of("some-other-api"), 3600).serialize(), Reason.WRONG_AUDIENCE);
        refused(signedBy(issuerKey(), ISSUER_ID, claims().audience((String) null).build()), Reason.WRONG_AUDIENCE);
    }

    @Test
    void unsignedPlainJwtIsRefused() {
        refused(new PlainJWT(claims().build()).serialize(), Reason.ALGORITHM_NOT_ALLOWED);
    }

    @Test
    void handBuiltAlgNoneTokenIsRefused() {
        String payload = b64(claims().build().toString());
        refused("eyJhbGciOiJub25lIn0." + payload + ".", Reason.ALGORITHM_NOT_ALLOWED);
        refused(b64("{\"alg\":\"none\",\"kid\":\"" + ISSUER_ID + "\"}") + "." + payload + ".", Reason.ALGORITHM_NOT_ALLOWED);
        // Capitalised variants are not "none" to the parser: a JWS, so an empty signature is malformed
        // and a present one meets the allow-list.
        refused(b64("{\"alg\":\"None\"}") + "." + payload + ".", Reason.MALFORMED);
        refused(b64("{\"alg\":\"NONE\"}") + "." + payload + ".c2ln", Reason.ALGORITHM_NOT_ALLOWED);
        refused(b64("{\"alg\":\"nOnE\"}") + "." + payload + ".c2ln", Reason.ALGORITHM_NOT_ALLOWED);
    }

    @Test
    void algNoneWithAStolenSignatureAttachedIsRefused() {
        String stolenSignature = validToken().split("\\.")[2];
        refused("eyJhbGciOiJub25lIn0." + b64(claims().build().toString()) + "." + stolenSignature, Reason.MALFORMED);
    }

    @Test
    void hmacSignedWithTheIssuersPublicKeyIsRefused() throws Exception {
        RSAKey pub = issuerKey().toPublicJWK();
        byte[] der = pub.toRSAPublicKey().getEncoded();
        String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END PUBLIC KEY-----\n";
        for (byte[] secret : List.of(der, pem.getBytes(StandardCharsets.US_ASCII))) {
            for (JWSAlgorithm alg : List.of(JWSAlgorithm.HS256, JWSAlgorithm.HS512)) {
                SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(pub.getKeyID()).build(), claims().build());
                jwt.sign(new MACSigner(secret));
                refused(jwt.serialize(), Reason.ALGORITHM_NOT_ALLOWED);
            }
        }
    }

    @Test
    void symmetricAlgorithmsCannotBeConfigured() {
        IdentityConfig hmac = new IdentityConfig(issuer, AUDIENCE, GROUPS_CLAIM, Set.of("RS256", "HS256"), SKEW,
                MAX_TOKEN_BYTES, Optional.empty(), Duration.ofMinutes(1));
        assertThatThrownBy(() -> TokenVerifier.create(hmac, clock)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("HS256");
    }

    @Test
    void tokenSignedByAKeyTheIssuerNeverPublishedIsRefused() throws Exception {
        RSAKey stranger = TestIssuer.newKey("never-published");
        refused(signedBy(stranger, stranger.getKeyID(), claims().build()), Reason.UNKNOWN_KEY);
    }

    @Test
    void hostileHeaderValuesReachTheMessageBoundedAndWithoutLineBreaks() throws Exception {
        RSAKey stranger = TestIssuer.newKey("x");
        String kid = "evil\n2030-01-01 INFO forged log line " + "k".repeat(3_000);
        String token = signedBy(stranger, kid, claims().build());
        refused(token, Reason.UNKNOWN_KEY);
        assertThatThrownBy(() -> verifier.verify(token)).satisfies(e -> assertThat(e.getMessage())
                .doesNotContain("\n").hasSizeLessThan(300));

        String alg = b64("{\"alg\":\"RS256\\nforged " + "a".repeat(1000) + "\"}") + "." + b64(claims().build().toString()) + ".c2ln";
        refused(alg, Reason.ALGORITHM_NOT_ALLOWED);
        assertThatThrownBy(() -> verifier.verify(alg)).satisfies(e -> assertThat(e.getMessage())
                .doesNotContain("\n").hasSizeLessThan(300));
    }

    @Test
    void forgedSignatureUnderTheIssuersKidIsRefused() throws Exception {
        RSAKey attacker = TestIssuer.newKey(ISSUER_ID);
        refused(signedBy(attacker, ISSUER_ID, claims().build()), Reason.BAD_SIGNATURE);
    }

    @Test
    void keyEmbeddedInTheHeaderIsIgnored() throws Exception {
        RSAKey attacker = TestIssuer.newKey(ISSUER_ID);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(ISSUER_ID)
                .jwk(attacker.toPublicJWK()).build(), claims().build());
        jwt.sign(new RSASSASigner(attacker));
        refused(jwt.serialize(), Reason.BAD_SIGNATURE);
    }

    @Test
    void claimsTamperedAfterSigningAreRefused() throws Exception {
        String[] parts = validToken().split("\\.");
        JWTClaimsSet original = JWTClaimsSet.parse(new Base64URL(parts[1]).decodeToString());
        JWTClaimsSet escalated = new JWTClaimsSet.Builder(original).subject("admin")
                .claim(GROUPS_CLAIM, List.of("superusers")).build();
        refused(parts[0] + "." + b64(escalated.toString()) + "." + parts[2], Reason.BAD_SIGNATURE);
    }

    @Test
    void tokenOverTheSizeLimitIsRefusedBeforeParsing() throws Exception {
        String big = signedBy(issuerKey(), ISSUER_ID, claims().claim("padding", "x".repeat(MAX_TOKEN_BYTES)).build());
        refused(big, Reason.OVERSIZED);
        refused("x".repeat(MAX_TOKEN_BYTES + 1), Reason.OVERSIZED);
    }

    @Test
    void tokenOverTheSizeLimitInUtf8BytesIsRefused() {
        // Fewer characters than the limit, more bytes: the limit is in bytes.
        refused("é".repeat(MAX_TOKEN_BYTES / 2 + 1), Reason.OVERSIZED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"not a jwt", "...", "..", ".", "a.b.c", "eyJ", "eyJhbGciOiJSUzI1NiJ9..", "eyJhbGciOiJSUzI1NiJ9.e30.",
            "e30.e30.e30", "W10.e30.e30", "{\"alg\":\"RS256\"}.{}.x", "Bearer x.y.z"})
    void garbageIsMalformed(String garbage) {
        refused(garbage, Reason.MALFORMED);
    }

    @Test
    void claimsThatAreNotJsonAreMalformed() {
        refused("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", Reason.MALFORMED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t\n"})
    void emptyTokenIsMissing(String empty) {
        refused(empty, Reason.MISSING);
    }

    @Test
    void nullTokenIsMissing() {
        refused(null, Reason.MISSING);
    }

    @Test
    void encryptedTokenIsRefused() throws Exception {
        EncryptedJWT jwe = new EncryptedJWT(new JWEHeader.Builder(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A256GCM)
                .keyID(ISSUER_ID).build(), claims().build());
        jwe.encrypt(new RSAEncrypter(issuerKey().toPublicJWK()));
        refused(jwe.serialize(), Reason.MALFORMED);
    }

    @Test
    void tokenWithoutExpiryIsRefused() throws Exception {
        refused(signedBy(issuerKey(), ISSUER_ID, claims().expirationTime(null).build()), Reason.MALFORMED);
    }

    @Test
    void tokenWithoutSubjectIsRefused() throws Exception {
        refused(signedBy(issuerKey(), ISSUER_ID, claims().subject(null).build()), Reason.MALFORMED);
        refused(signedBy(issuerKey(), ISSUER_ID, claims().subject(" ").build()), Reason.MALFORMED);
    }

    @Test
    void claimsOfTheWrongTypeAreMalformed() throws Exception {
        String token = signedBy(issuerKey(), ISSUER_ID, new JWTClaimsSet.Builder(claims().build())
                .claim("exp", "tomorrow").build());
        refused(token, Reason.MALFORMED);
    }
}
