package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class TextStreamMaskerTest {
    private static final TextMasker ALL = TextMasker.of(EnumSet.allOf(Detector.class));

    private static String mask(TextStreamMasker masker, String body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        masker.mask(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void csvIsMaskedLineByLineKeepingLineEndings() throws IOException {
        String csv = "id,email,phone\r\n00u1,ann@example.com,(415) 555-0132\r\n00u2,bob@example.org,+44 20 7946 0958\n"
                + "00u3,none,2026-11-23T10:00:00.000Z";
        assertThat(mask(new TextStreamMasker(ALL), csv)).isEqualTo(
                "id,email,phone\r\n00u1,[email],[phone]\r\n00u2,[email],[phone]\n00u3,none,2026-11-23T10:00:00.000Z");
    }

    @Test
    void xmlBodyIsMaskedAndUnicodeSurvives() throws IOException {
        String xml = "<user><name>Zoë 日本</name><ssn>123-45-6789</ssn><card>4111 1111 1111 1111</card></user>\n";
        assertThat(mask(new TextStreamMasker(ALL), xml))
                .isEqualTo("<user><name>Zoë 日本</name><ssn>[ssn]</ssn><card>[card]</card></user>\n");
    }

    @Test
    void emptyBodyStaysEmpty() throws IOException {
        assertThat(mask(new TextStreamMasker(ALL), "")).isEmpty();
    }

    @Test
    void manyLinesAcrossReadBuffersAreAllMasked() throws IOException {
        String line = "contact ann@example.com today\n";
        String out = mask(new TextStreamMasker(ALL), line.repeat(20_000));
        assertThat(out).isEqualTo("contact [email] today\n".repeat(20_000));
    }

    @Test
    void overlongLineIsCutAtWhitespaceSoValuesNearTheCutAreStillMasked() throws IOException {
        String word = "ann@example.com ";
        String longLine = word.repeat(1_000);
        String out = mask(new TextStreamMasker(ALL, 100), longLine + "\nend\n");
        assertThat(out).isEqualTo("[email] ".repeat(1_000) + "\nend\n");
    }

    @Test
    void overlongLineWithoutWhitespaceIsCutHardAndLosesOnlyTheStraddlingValue() throws IOException {
        // documented limitation: an email cut in two by a hard chunk boundary is not recognised
        String out = mask(new TextStreamMasker(ALL, 100), "x".repeat(95) + "ann@example.com");
        assertThat(out).hasSize(110).doesNotContain("[email]");
    }

    private static final String RUN_TOGETHER = "{\"user1@example.comuser2@example.comuser3@example.com\","
            + "\"+1 415 555 0001+1 415 555 0002\",(415) 555-0003(415) 555-0004}\tann@x.io\\nbob@y.org\n";

    @Test
    void runTogetherValuesAreMaskedTheSameWhereverTheReadsSplitThem() throws IOException {
        String expected = ALL.mask(RUN_TOGETHER);
        assertThat(expected).doesNotContain("user", "example", "555", "@");
        byte[] bytes = RUN_TOGETHER.getBytes(StandardCharsets.UTF_8);
        for (int split = 0; split <= bytes.length; split++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new TextStreamMasker(ALL).mask(new SplitInputStream(bytes, split), out);
            assertThat(out.toString(StandardCharsets.UTF_8)).as("split at %d", split).isEqualTo(expected);
        }
    }

    @Test
    void overlongLineIsCutBetweenLiteralElementsSoRunTogetherValuesSurviveEveryCut() throws IOException {
        String line = RUN_TOGETHER.strip().repeat(20);
        String expected = ALL.mask(line);
        int longestElement = "\"user1@example.comuser2@example.comuser3@example.com\"".length();
        for (int limit = longestElement + 2; limit <= line.length() + 1; limit++) {
            assertThat(mask(new TextStreamMasker(ALL, limit), line)).as("cut every %d chars", limit).isEqualTo(expected);
        }
    }

    @Test
    void cutPointPrefersPunctuationNoValueContainsThenWhitespace() {
        assertThat(TextStreamMasker.cutPoint("a,b c@x.io")).isEqualTo(2);
        assertThat(TextStreamMasker.cutPoint("a b+1 415 555 0101")).isEqualTo(14);
        assertThat(TextStreamMasker.cutPoint("ann@example.com")).isEqualTo(15);
    }

    /** Hands out the first {@code split} bytes on the first read, then the rest. */
    private static final class SplitInputStream extends InputStream {
        private final byte[] bytes;
        private final int split;
        private int at;

        SplitInputStream(byte[] bytes, int split) {
            this.bytes = bytes;
            this.split = split;
        }

        @Override
        public int read() {
            return at < bytes.length ? bytes[at++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (at >= bytes.length) return -1;
            int limit = at < split ? split : bytes.length;
            int n = Math.min(len, limit - at);
            System.arraycopy(bytes, at, b, off, n);
            at += n;
            return n;
        }
    }
}
