package dev.portcullis.dev;

import java.util.random.RandomGenerator;

/**
 * Okta-looking ids: a 3-character type prefix ({@code 00u} user, {@code ra1} role assignment, {@code oae} error)
 * and 17 base-62 characters. The first 8 encode a sequence number, so ids sort in creation order and serve as
 * the {@code after} cursor the way Okta's do.
 */
final class OktaIds {
    // ASCII order, so String comparison of ids follows the sequence number.
    private static final String ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final int SEQUENCE_CHARS = 8;
    private static final int RANDOM_CHARS = 9;

    private final RandomGenerator random;
    private long sequence;

    OktaIds(RandomGenerator random) {
        this.random = random;
    }

    synchronized String next(String prefix) {
        var id = new StringBuilder(prefix);
        long n = ++sequence;
        char[] seq = new char[SEQUENCE_CHARS];
        for (int i = SEQUENCE_CHARS - 1; i >= 0; i--) {
            seq[i] = ALPHABET.charAt((int) (n % ALPHABET.length()));
            n /= ALPHABET.length();
        }
        id.append(seq);
        for (int i = 0; i < RANDOM_CHARS; i++) {
            id.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return id.toString();
    }
}
