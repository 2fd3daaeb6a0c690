package dev.portcullis.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The trail's line format: what is decoded is exactly what was encoded (the chains hash the payload byte
 * for byte), for payloads embedded as JSON and for those that take the generic, escaped form.
 */
class TrailRecordsTest {
    private static final Instant T = Instant.parse("2026-12-04T10:00:00.123456Z");
    private static final String H = "ab".repeat(32);

    private static LinkedEvent event(String session, String code, String payload, boolean refused) {
        return new LinkedEvent(new NewEvent(session, T, code, payload, refused), new ChainLink(7, H, H.replace('a', 'c'), 42, H.replace('b', 'd'), H));
    }

    /** Encodes, then decodes the line from the middle of a larger buffer (as recovery reads a segment). */
    private static TrailRecords.Line roundTrip(LinkedEvent e) throws IOException {
        TrailRecords.Buffer out = new TrailRecords.Buffer(64);
        TrailRecords.encode(List.of(), List.of(e), out);
        byte[] line = out.toByteArray();
        assertThat(line[line.length - 1]).isEqualTo((byte) '\n');
        assertThat(Arrays.copyOf(line, line.length - 1)).doesNotContain((byte) '\n');
        byte[] segment = new byte[line.length + 40];
        Arrays.fill(segment, (byte) 'x');
        System.arraycopy(line, 0, segment, 17, line.length - 1);
        return TrailRecords.decode(segment, 17, line.length - 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"protocol\":\"sql\",\"summary\":\"SELECT 1\"}",
            "{\"text\":\"quotes \\\" and \\\\ backslashes, a newline \\n and a tab \\t, escaped\"}",
            "{\"text\":\"é, 漢字 and \\u0000\"}",
            "{\"nested\":{\"a\":[1,2,{\"b\":null}]},\"z\":true}",
            "{\"emoji\":\"\uD83D\uDE00\"}", // a surrogate pair: the generic form
            "{\"ascii\":\"a question? and ?? marks\"}", // what a lone surrogate would encode to, but real
            "{\"latin\":\"caf\u00e9 ?\"}",
            "{}",
    })
    void aPayloadReadsBackAsTheStringThatWasHashed(String payload) throws Exception {
        LinkedEvent e = event("3f1c2a9e-5b7d-4c11-9a7e-2d5a8b6c4e10", "PC2000", payload, true);
        TrailRecords.Line back = roundTrip(e);
        assertThat(back.session()).isNull();
        assertThat(back.event()).isEqualTo(e);
    }

    @Test
    void fieldsThatAreNotPlainTakeTheEscapedFormAndReadBackTheSame() throws Exception {
        // not a session id or code the gateway makes, and a payload that is not a one-line object
        for (LinkedEvent e : List.of(event("s\"1", "PC2000", "{\"a\":1}", false), event("s1", "PC 2000", "{\"a\":1}", false),
                event("s1", "PC2000", "not json", false), event("s1", "PC2000", "{\"a\":\n1}", false))) {
            assertThat(roundTrip(e).event()).isEqualTo(e);
        }
    }

    @Test
    void aPayloadIsEmbeddedAsTheBytesThatAreHashedAndReadsBackAsThem() throws Exception {
        // Non-ASCII text goes into the line as its UTF-8 bytes, unescaped, and comes back byte for byte.
        LinkedEvent u = event("s1", "PC2000", "{\"a\":\"caf\u00e9 \u6f22\u5b57 \uD83D\uDE00\"}", false);
        TrailRecords.Buffer out = new TrailRecords.Buffer(64);
        TrailRecords.encode(List.of(), List.of(u), out);
        assertThat(out.toString(StandardCharsets.UTF_8)).endsWith(",\"payload\":{\"a\":\"caf\u00e9 \u6f22\u5b57 \uD83D\uDE00\"}}\n");
        assertThat(roundTrip(u).event()).isEqualTo(u);
        // Text with a lone surrogate has no UTF-8: the event holds what the encoder makes of it, and that is what is
        // hashed, written and read back (the recorder's JSON escapes a lone surrogate, so its events never get here).
        LinkedEvent lone = event("s1", "PC2000", "{\"a\":\"\uD800\"}", false);
        assertThat(lone.event().payload()).isEqualTo("{\"a\":\"?\"}");
        assertThat(roundTrip(lone).event()).isEqualTo(lone);
    }

    @Test
    void anEmbeddedPayloadIsJsonInTheLineNotAString() throws Exception {
        TrailRecords.Buffer out = new TrailRecords.Buffer(64);
        TrailRecords.encode(List.of(), List.of(event("s1", "PC2000", "{\"a\":\"b\"}", false)), out);
        assertThat(out.toString(StandardCharsets.UTF_8)).endsWith(",\"payload\":{\"a\":\"b\"}}\n");
    }

    @Test
    void aLineOfTheEarlierFormWithThePayloadAsAStringStillReads() throws Exception {
        String line = "{\"t\":\"e\",\"g\":3,\"session\":\"s1\",\"seq\":2,\"at\":1796377666101379,\"code\":\"PC2000\",\"refused\":false,"
                + "\"prev\":\"" + H + "\",\"hash\":\"" + H + "\",\"gprev\":\"" + H + "\",\"ghash\":\"" + H + "\","
                + "\"payload\":\"{\\\"reason\\\":\\\"client disconnected\\\"}\"}";
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        assertThat(TrailRecords.decode(b, 0, b.length).event().event().payload()).isEqualTo("{\"reason\":\"client disconnected\"}");
    }

    @Test
    void aTornOrTamperedLineIsRefused() {
        TrailRecords.Buffer out = new TrailRecords.Buffer(64);
        TrailRecords.encode(List.of(), List.of(event("s1", "PC2000", "{\"a\":\"b\"}", false)), out);
        byte[] line = out.toByteArray();
        assertThatThrownBy(() -> TrailRecords.decode(line, 0, line.length - 3)).isInstanceOf(IOException.class);
        byte[] extra = (new String(line, 0, line.length - 1, StandardCharsets.UTF_8) + "{}").getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> TrailRecords.decode(extra, 0, extra.length)).isInstanceOf(IOException.class);
    }
}
