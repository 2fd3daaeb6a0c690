package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
}
