package dev.portcullis.recording;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WithoutTerminalTest {
    @Test
    void bareLineFeedsBecomeCrLfAndExistingCrLfStaysAsItIs() {
        WithoutTerminal t = new WithoutTerminal();
        assertThat(t.translate("one\ntwo\r\nthree\n\n")).isEqualTo("one\r\ntwo\r\nthree\r\n\r\n");
        assertThat(t.translate("")).isEmpty();
        assertThat(t.translate("no newline")).isEqualTo("no newline");
    }

    @Test
    void aCrLfSplitAcrossChunksIsNotDoubled() {
        WithoutTerminal t = new WithoutTerminal();
        assertThat(t.translate("line\r")).isEqualTo("line\r");
        assertThat(t.translate("\nnext\n")).isEqualTo("\nnext\r\n");
        assertThat(t.translate("\n")).isEqualTo("\r\n");
    }
}
