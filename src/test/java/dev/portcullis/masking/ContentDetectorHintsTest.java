package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The one-pass hints decide whether a detector's pattern runs at all, so a hint that says "no" where
 * the pattern would have found something is a leak. Every detector is checked against its own pattern
 * on generated strings full of near misses (digits, separators, capitals) and on real values embedded
 * anywhere.
 */
class ContentDetectorHintsTest {
    private static final String[] REAL = {
        "4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "5500 0000 0000 0004", "378282246310005",
        "6011 0009 9013 9424", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606",
        "+1-555-415-1337", "(415) 555-0199", "+44 20 7946 0958", "078-05-1120", "ann@example.com", "415.555.0199",
        "415 555 0199", "1-415-555-0199", "2125550199-212-555-0199", "415-555-01995", "(212)555-0100"};
    private static final String ALPHABET = "0123456789012345678901234567890123456789 -.()+@ABCDEFGHXYZabcdefxyz_/";

    private static List<int[]> spans(Detector d, String s) {
        List<int[]> found = new ArrayList<>();
        ContentDetectors.find(d, s, ContentDetectors.hints(s), new ContentDetectors.SpanSink() {
            @Override
            public void span(int start, int end, Detector kind) {
                found.add(new int[] {start, end});
            }

            @Override
            public boolean covers(int index) {
                for (int[] f : found) if (index >= f[0] && index < f[1]) return true;
                return false;
            }
        });
        return found;
    }

    @Test
    void noDetectorIsSkippedForAStringItsPatternMatches() {
        Random random = new Random(20261204);
        java.util.Map<Detector, Integer> matched = new java.util.EnumMap<>(Detector.class);
        for (int i = 0; i < 40_000; i++) {
            StringBuilder sb = new StringBuilder();
            int length = 5 + random.nextInt(40);
            for (int j = 0; j < length; j++) sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            if (random.nextInt(3) == 0) sb.insert(random.nextInt(sb.length() + 1), " " + REAL[random.nextInt(REAL.length)] + " ");
            String s = sb.toString();
            int h = ContentDetectors.hints(s);
            for (Detector d : List.of(Detector.CARD, Detector.IBAN, Detector.PHONE, Detector.SSN, Detector.EMAIL)) {
                if (!spans(d, s).isEmpty()) {
                    matched.merge(d, 1, Integer::sum);
                    assertThat(ContentDetectors.worthScanning(d, s, h)).as("%s skipped for \"%s\"", d, s).isTrue();
                }
            }
        }
        // The generator must produce matches of each, or this proves nothing.
        for (Detector d : List.of(Detector.CARD, Detector.IBAN, Detector.PHONE, Detector.SSN, Detector.EMAIL)) {
            assertThat(matched.getOrDefault(d, 0)).as("strings %s matched", d).isGreaterThan(300);
        }
    }

    @Test
    void digestsUuidsAndTimestampsSkipTheCardIbanAndPhonePatterns() {
        for (String s : List.of("0cc175b9c0f1b6a831c399e269772661", "c4ca4238a0b923820dcc509a6f75849b",
                "2013-06-24T16:39:18.000Z", "f47ac10b-58cc-4372-a567-0e02b2c3d479")) {
            assertThat(ContentDetectors.worthScanning(Detector.PHONE, s, ContentDetectors.hints(s))).as(s).isFalse();
            int h = ContentDetectors.hints(s);
            assertThat(ContentDetectors.worthScanning(Detector.CARD, s, h)).as(s).isFalse();
            assertThat(ContentDetectors.worthScanning(Detector.IBAN, s, h)).as(s).isFalse();
        }
    }
}
