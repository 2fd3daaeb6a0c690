package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.masking.Detector;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.sql.SqlParser;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * COPY ... TO STDOUT rows, one CopyData at a time. Statements with an explicit column list need no
 * catalog; {@code COPY customers TO STDOUT} (positions from the table) is covered end to end.
 */
class CopyMaskerTest {
    static final MaskPlan PLAN = new MaskPlan(List.of("email", "phone"), EnumSet.of(Detector.EMAIL, Detector.CARD));

    static CopyMasker masker(String copy) throws Exception {
        SqlStatement statement = SqlParser.parse(copy).getFirst();
        return CopyMasker.of(PLAN, statement, null);
    }

    static String mask(CopyMasker m, String line) {
        return new String(m.mask(line.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    @Test
    void textFormatMasksByPositionKeepsNullsAndEscapedTabs() throws Exception {
        CopyMasker m = masker("COPY customers (id, email, notes, phone) TO STDOUT");

        assertThat(mask(m, "1\ta@example.com\tsee\\tcard 4111 1111 1111 1111\t\\N\n"))
                .isEqualTo("1\t[masked]\tsee\\tcard [card]\t\\N\n");
        assertThat(mask(m, "2\t\\N\t\\N\t+1 415 555 0101\n")).isEqualTo("2\t\\N\t\\N\t[masked]\n");
    }

    @Test
    void csvFormatKeepsQuotedCommasInOneField() throws Exception {
        CopyMasker m = masker("COPY customers (id, notes, email) TO STDOUT WITH (FORMAT csv)");

        assertThat(mask(m, "1,\"Smith, John, b@example.com\",a@example.com\n"))
                .isEqualTo("1,\"Smith, John, [email]\",[masked]\n");
        assertThat(mask(m, "2,,\n")).as("NULLs stay NULL").isEqualTo("2,,\n");
    }

    @Test
    void copyOfAQueryWithFieldMasksMasksEveryField() throws Exception {
        CopyMasker m = masker("COPY (SELECT id, email AS contact, name FROM customers) TO STDOUT");

        assertThat(mask(m, "1\ta@example.com\tAnn\n")).isEqualTo("[masked]\t[masked]\t[masked]\n");
        assertThat(mask(m, "2\t\\N\tBob\n")).isEqualTo("[masked]\t\\N\t[masked]\n");
    }

    @Test
    void copyOfAQueryWithDetectorsOnlyRewritesOnlyWhatTheyFind() throws Exception {
        CopyMasker m = CopyMasker.of(new MaskPlan(List.of(), EnumSet.of(Detector.EMAIL)),
                SqlParser.parse("COPY (SELECT id, email FROM customers) TO STDOUT").getFirst(), null);

        assertThat(mask(m, "1\ta@example.com\n")).isEqualTo("1\t[email]\n");
        byte[] clean = "2\tnobody\n".getBytes(StandardCharsets.UTF_8);
        assertThat(m.mask(clean)).isSameAs(clean);
    }

    @Test
    void aColumnNamedCsvDoesNotMakeATextCopyLookLikeCsv() throws Exception {
        CopyMasker m = masker("COPY customers (id, csv, phone) TO STDOUT");

        assertThat(mask(m, "1\tx,y\t+1 415 555 0101\n")).isEqualTo("1\tx,y\t[masked]\n");
    }

    @Test
    void customDelimitersAndQuotesStillMaskByPosition() throws Exception {
        assertThat(mask(masker("COPY customers (id, name, phone) TO STDOUT WITH (FORMAT csv, DELIMITER ';')"),
                "1;\"Ann; Bob\";+1 415 555 0101\n")).isEqualTo("1;\"Ann; Bob\";[masked]\n");
        assertThat(mask(masker("COPY customers (id, name, phone) TO STDOUT WITH (DELIMITER '|')"),
                "1|Ann|+1 415 555 0101\n")).isEqualTo("1|Ann|[masked]\n");
        assertThat(mask(masker("COPY customers (id, name, phone) TO STDOUT WITH (DELIMITER E'\\x01')"),
                "1\u0001Ann\u0001+1 415 555 0101\n")).isEqualTo("1\u0001Ann\u0001[masked]\n");
        assertThat(mask(masker("COPY customers (id, name, phone) TO STDOUT DELIMITER AS ',' CSV QUOTE AS ''''"),
                "1,'Ann, Bob',+1 415 555 0101\n")).isEqualTo("1,'Ann, Bob',[masked]\n");
    }

    @Test
    void csvEscapesInsideQuotesDoNotEndTheField() throws Exception {
        CopyMasker m = masker("COPY customers (id, name, phone) TO STDOUT WITH (FORMAT csv, ESCAPE '\\')");

        assertThat(mask(m, "1,\"Ann \\\", Bob\",+1 415 555 0101\n")).isEqualTo("1,\"Ann \\\", Bob\",[masked]\n");
    }

    @Test
    void aRowThatDoesNotSplitIntoTheCopysColumnsIsMaskedWhole() throws Exception {
        CopyMasker m = masker("COPY customers (id, name, phone) TO STDOUT");

        assertThat(mask(m, "1\t+1 415 555 0101\n")).isEqualTo("[masked]\t[masked]\n");
    }

    @Test
    void delimitersItCannotReadMaskEveryField() throws Exception {
        CopyMasker m = masker("COPY customers (id, name, phone) TO STDOUT WITH (DELIMITER E'\\u0001')");

        assertThat(mask(m, "1\u0001Ann\u0001+1 415 555 0101\n")).doesNotContain("Ann", "415");
    }
}
