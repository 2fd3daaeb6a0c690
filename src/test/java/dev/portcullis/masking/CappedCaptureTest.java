package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CappedCaptureTest {
    @Test
    void everythingPassesThroughAndOnlyTheFirstBytesAreKept() throws IOException {
        ByteArrayOutputStream client = new ByteArrayOutputStream();
        CappedCapture capture = new CappedCapture(client, 10);
        capture.write("hello ".getBytes(StandardCharsets.US_ASCII));
        capture.write('w');
        capture.write("orld, and more".getBytes(StandardCharsets.US_ASCII), 0, 14);
        capture.flush();

        assertThat(client.toString(StandardCharsets.US_ASCII)).isEqualTo("hello world, and more");
        assertThat(new String(capture.captured(), StandardCharsets.US_ASCII)).isEqualTo("hello worl");
        assertThat(capture.truncated()).isTrue();
        assertThat(capture.totalBytes()).isEqualTo(21);
    }

    @Test
    void responseSmallerThanTheCapIsKeptWholeAndNotTruncated() throws IOException {
        CappedCapture capture = new CappedCapture(new ByteArrayOutputStream(), 1 << 20);
        capture.write("{}".getBytes(StandardCharsets.US_ASCII));
        assertThat(capture.captured()).containsExactly('{', '}');
        assertThat(capture.truncated()).isFalse();
        assertThat(capture.totalBytes()).isEqualTo(2);
    }

    @Test
    void zeroCapKeepsNothingButCounts() throws IOException {
        CappedCapture capture = new CappedCapture(new ByteArrayOutputStream(), 0);
        capture.write(new byte[100]);
        assertThat(capture.captured()).isEmpty();
        assertThat(capture.truncated()).isTrue();
        assertThat(capture.totalBytes()).isEqualTo(100);
    }

    @Test
    void capturesTheMaskedStreamWhenTeedAfterTheMasker() throws Exception {
        ByteArrayOutputStream client = new ByteArrayOutputStream();
        CappedCapture capture = new CappedCapture(client, 1 << 16);
        new JsonMasker().mask(new OktaUsersBody(3, i -> {}), capture, new MaskPlan(java.util.List.of(), java.util.Set.of(Detector.EMAIL)));
        assertThat(capture.captured()).isEqualTo(client.toByteArray());
        assertThat(new String(capture.captured(), StandardCharsets.UTF_8)).doesNotContain("@").contains("[email]");
    }
}
