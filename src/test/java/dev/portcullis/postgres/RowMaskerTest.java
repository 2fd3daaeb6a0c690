package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.masking.Detector;
import dev.portcullis.masking.MaskPlan;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Row masking from synthesized RowDescription/DataRow payloads. Columns are matched by output name
 * here (table OID 0: no catalog needed); matching by origin ({@code SELECT email AS x}) is covered
 * end to end in {@link AgentsThroughPostgresGatewayTest}.
 */
class RowMaskerTest {
    static final int INT8 = 20, INT4 = 23, TEXT = 25, JSON = 114, VARCHAR = 1043, JSONB = 3802, NUMERIC = 1700;
    static final MaskPlan PLAN = new MaskPlan(List.of("email", "ssn_number"), EnumSet.allOf(Detector.class));

    static BackendMessage.Field text(String name, int typeOid) {
        return new BackendMessage.Field(name, 0, (short) 0, typeOid, (short) -1, -1, (short) 0);
    }

    static BackendMessage.Field binary(String name, int typeOid) {
        return new BackendMessage.Field(name, 0, (short) 0, typeOid, (short) -1, -1, (short) 1);
    }

    /** A DataRow's payload (what follows type and length on the wire). */
    static byte[] row(byte[]... values) {
        byte[] wire = PgMessageWriter.encode(new BackendMessage.DataRow(values));
        return Arrays.copyOfRange(wire, 5, wire.length);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[][] values(byte[] payload) throws Exception {
        return ((BackendMessage.DataRow) BackendMessage.decode(new RawMessage((byte) 'D', payload))).values();
    }

    static String value(byte[] payload, int column) throws Exception {
        byte[] v = values(payload)[column];
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    static RowMasker masker(BackendMessage.Field... fields) throws Exception {
        return RowMasker.of(List.of(fields), PLAN, null); // table OID 0: the catalog is never asked
    }

    @Test
    void maskedTextColumnsBecomeMaskedInTextAndBinaryFormat() throws Exception {
        RowMasker m = masker(text("email", TEXT), binary("Email", VARCHAR), text("name", TEXT));
        byte[] masked = m.mask(row(utf8("a@example.com"), utf8("b@example.com"), utf8("Ann")));

        assertThat(value(masked, 0)).isEqualTo("[masked]");
        assertThat(value(masked, 1)).isEqualTo("[masked]");
        assertThat(value(masked, 2)).isEqualTo("Ann");
    }

    @Test
    void detectorsRewriteTextLikeColumnsInBothFormats() throws Exception {
        RowMasker m = masker(text("notes", TEXT), binary("contact", VARCHAR), text("doc", JSON));
        byte[] masked = m.mask(row(utf8("call +1 415 555 0101 or mail c@example.com"), utf8("d@example.org"),
                utf8("{\"card\": \"4111 1111 1111 1111\", \"ssn\": \"123-45-6789\"}")));

        assertThat(value(masked, 0)).isEqualTo("call [phone] or mail [email]");
        assertThat(value(masked, 1)).isEqualTo("[email]");
        assertThat(value(masked, 2)).doesNotContain("4111", "6789").contains("[card]", "[ssn]");
        assertThat(new ObjectMapper().readTree(value(masked, 2)).get("card").asText()).isEqualTo("[card]");
    }

    @Test
    void binaryJsonbKeepsItsVersionByteAndStaysValidJson() throws Exception {
        byte[] jsonb = withVersion("{\"contact\": \"alt@example.org\", \"tier\": \"gold\"}");
        RowMasker detect = masker(binary("profile", JSONB));
        byte[] masked = values(detect.mask(row(jsonb)))[0];

        assertThat(masked[0]).isEqualTo((byte) 1);
        var json = new ObjectMapper().readTree(new String(masked, 1, masked.length - 1, StandardCharsets.UTF_8));
        assertThat(json.get("contact").asText()).isEqualTo("[email]");
        assertThat(json.get("tier").asText()).isEqualTo("gold");

        RowMasker whole = masker(binary("email", JSONB));
        byte[] wholeMasked = values(whole.mask(row(jsonb)))[0];
        assertThat(wholeMasked[0]).isEqualTo((byte) 1);
        assertThat(new ObjectMapper().readTree(new String(wholeMasked, 1, wholeMasked.length - 1, StandardCharsets.UTF_8))
                .asText()).isEqualTo("[masked]");
    }

    @Test
    void textJsonAndJsonbMaskedWholeStayValidJson() throws Exception {
        RowMasker m = masker(text("email", JSON), text("ssn_number", JSONB));
        byte[] masked = m.mask(row(utf8("{\"a\": 1}"), utf8("\"123-45-6789\"")));

        assertThat(new ObjectMapper().readTree(value(masked, 0)).asText()).isEqualTo("[masked]");
        assertThat(new ObjectMapper().readTree(value(masked, 1)).asText()).isEqualTo("[masked]");
    }

    @Test
    void maskedNonTextColumnsBecomeNullInEitherFormat() throws Exception {
        RowMasker m = masker(text("email", INT4), binary("ssn_number", INT8), text("id", INT4));
        byte[] masked = m.mask(row(utf8("42"), new byte[] {0, 0, 0, 0, 0, 0, 0, 7}, utf8("1")));

        assertThat(values(masked)[0]).isNull();
        assertThat(values(masked)[1]).isNull();
        assertThat(value(masked, 2)).isEqualTo("1");
    }

    @Test
    void detectorsLeaveNumbersAloneEvenWhenTheyLookLikeCards() throws Exception {
        RowMasker m = masker(text("n", INT8), text("amount", NUMERIC), text("card", TEXT));
        byte[] payload = row(utf8("4111111111111111"), utf8("4111111111111111.00"), utf8("4111111111111111"));
        byte[] masked = m.mask(payload);

        assertThat(value(masked, 0)).isEqualTo("4111111111111111");
        assertThat(value(masked, 1)).isEqualTo("4111111111111111.00");
        assertThat(value(masked, 2)).isEqualTo("[card]");
    }

    @Test
    void nullsStayNullAndUntouchedRowsAreTheSameArray() throws Exception {
        RowMasker m = masker(text("email", TEXT), text("notes", TEXT));
        byte[][] nulls = values(m.mask(row(null, null)));
        assertThat(nulls[0]).isNull();
        assertThat(nulls[1]).isNull();
        byte[] harmless = row(null, utf8("nothing to see"));
        assertThat(m.mask(harmless)).isSameAs(harmless);
    }

    @Test
    void aResultWithoutMaskedOrTextColumnsPassesThrough() throws Exception {
        assertThat(masker(text("id", INT4), text("amount", NUMERIC)).passThrough()).isTrue();
        assertThat(RowMasker.of(List.of(text("email", TEXT)), MaskPlan.NONE, null).passThrough()).isTrue();
        assertThat(masker(text("id", INT4), text("name", TEXT)).passThrough()).isFalse();
    }

    @Test
    void rowsThatDoNotMatchTheirDescriptionAreProtocolErrors() throws Exception {
        RowMasker m = masker(text("email", TEXT), text("id", INT4));
        assertThatThrownBy(() -> m.mask(row(utf8("a@example.com")))).isInstanceOf(PgProtocolException.class)
                .hasMessageContaining("1 columns");
        byte[] overrun = row(utf8("a@example.com"), utf8("1"));
        overrun[5] = 0x7f; // first value's length now points far past the message
        assertThatThrownBy(() -> m.mask(overrun)).isInstanceOf(PgProtocolException.class).hasMessageContaining("overruns");
        assertThatThrownBy(() -> m.mask(new byte[] {0})).isInstanceOf(PgProtocolException.class);
    }

    static byte[] withVersion(String json) {
        byte[] text = utf8(json);
        byte[] b = new byte[text.length + 1];
        b[0] = 1;
        System.arraycopy(text, 0, b, 1, text.length);
        return b;
    }
}
