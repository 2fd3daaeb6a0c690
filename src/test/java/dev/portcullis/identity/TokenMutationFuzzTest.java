package dev.portcullis.identity;

import dev.portcullis.testing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.PlainJWT;
import dev.portcullis.core.Identity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutations of a valid token and of a small hostile corpus: the verifier either refuses with a
 * {@link TokenRejectedException} whose message holds no part of the token, or (base64url's spare low bits
 * make a few spellings decode identically) returns exactly the original identity. Nothing else escapes.
 */
class TokenMutationFuzzTest {
    static final long SEED = 0x5EED_7043L;
    static final int ROUNDS = 3_000;
    static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ é\u0000{}\"";

    private final MutableClock clock = new MutableClock(Instant.now());
    private final TestIssuer issuer = new TestIssuer().start();

    @AfterEach
    void stop() {
        issuer.close();
    }

    @Test
    void mutatedTokensAreRefusedCleanlyOrDecodeToTheSameIdentity() throws Exception {
        RSAKey key = issuer.publishNewKey("k1");
        TokenVerifier verifier = TokenVerifier.create(new IdentityConfig(issuer.issuer, TestIssuer.AUDIENCE, "groups",
                Set.of("RS256"), Duration.ofSeconds(30), 4096, Optional.empty(), Duration.ofMinutes(1)), clock);
        String valid = TestIssuer.sign(key, issuer.validClaims(clock.instant()).claim("groups", List.of("dba")).build());
        Identity original = verifier.verify(valid);
        List<String> corpus = List.of(valid, new PlainJWT(issuer.validClaims(clock.instant()).build()).serialize(),
                "eyJhbGciOiJub25lIn0.e30.", "a.b.c", "...", valid + "." + valid.split("\\.")[1]);

        Random random = new Random(SEED);
        int accepted = 0;
        for (int i = 0; i < ROUNDS; i++) {
            String mutant = mutate(corpus.get(random.nextInt(corpus.size())), random);
            try {
                Identity identity = verifier.verify(mutant);
                assertThat(identity).as("mutant %s", mutant).isEqualTo(original);
                accepted++;
            } catch (TokenRejectedException e) {
                TokenVerifierTest.assertNoTokenIn(e.getMessage(), mutant);
            }
        }
        assertThat(accepted).isLessThan(ROUNDS / 10);
    }

    private static String mutate(String token, Random random) {
        StringBuilder s = new StringBuilder(token);
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits && !s.isEmpty(); e++) {
            int at = random.nextInt(s.length());
            switch (random.nextInt(4)) {
                case 0 -> s.setCharAt(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                case 1 -> s.insert(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                case 2 -> s.delete(at, Math.min(s.length(), at + 1 + random.nextInt(8)));
                default -> s.setLength(at);
            }
        }
        return s.toString();
    }
}
