package dev.portcullis.masking;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Masks a non-JSON text body (text/*, XML, CSV) line by line with content detectors; field
 * selectors do not apply. UTF-8; bytes that are not UTF-8 become U+FFFD. Line endings are kept.
 *
 * <p>Limitation: a line longer than {@code maxLineChars} is masked in chunks, cut at the last
 * separator near the limit when there is one (see {@link #cutPoint}). A value straddling a hard cut
 * (no separator in the last {@value #CUT_SEARCH_CHARS} chars) may not be detected; addresses run
 * together are masked as one run on each side of the cut, so only an address at an edge of the run is
 * at risk.
 */
public final class TextStreamMasker {
    public static final int DEFAULT_MAX_LINE_CHARS = 1 << 20;
    static final int CUT_SEARCH_CHARS = 4096;

    private final TextMasker masker;
    private final int maxLineChars;

    public TextStreamMasker(TextMasker masker) {
        this(masker, DEFAULT_MAX_LINE_CHARS);
    }

    public TextStreamMasker(TextMasker masker, int maxLineChars) {
        if (maxLineChars < 2) throw new IllegalArgumentException("maxLineChars must be at least 2, was " + maxLineChars);
        this.masker = masker;
        this.maxLineChars = maxLineChars;
    }

    /** Copies {@code in} to {@code out} masked. Neither stream is closed; {@code out} is flushed. */
    public void mask(InputStream in, OutputStream out) throws IOException {
        Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE));
        Writer writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 64 * 1024);
        char[] buf = new char[16 * 1024];
        StringBuilder line = new StringBuilder(256);
        int n;
        while ((n = reader.read(buf)) > 0) {
            int from = 0;
            for (int i = 0; i < n; i++) {
                if (buf[i] == '\n') {
                    append(line, buf, from, i + 1, writer);
                    emit(line, line.length(), writer);
                    from = i + 1;
                }
            }
            append(line, buf, from, n, writer);
        }
        emit(line, line.length(), writer);
        writer.flush();
    }

    /** Appends, masking and writing out chunks whenever the line would exceed the limit. */
    private void append(StringBuilder line, char[] buf, int from, int to, Writer writer) throws IOException {
        while (line.length() + (to - from) > maxLineChars) {
            int take = maxLineChars - line.length();
            line.append(buf, from, take);
            from += take;
            emit(line, cutPoint(line), writer);
        }
        line.append(buf, from, to - from);
    }

    /**
     * Just after the last separator near the end, so that a value is rarely cut in two: punctuation
     * no detected value contains ({@code , ; | { } " \t}, ...) first, then whitespace (which phones,
     * cards and IBANs may contain), else a hard cut.
     */
    static int cutPoint(CharSequence line) {
        int stop = Math.max(1, line.length() - CUT_SEARCH_CHARS);
        int whitespace = -1;
        for (int i = line.length() - 1; i >= stop; i--) {
            char c = line.charAt(i);
            if (c == ' ') {
                if (whitespace < 0) whitespace = i + 1;
            } else if (!Character.isLetterOrDigit(c) && VALUE_PUNCTUATION.indexOf(c) < 0 && c != '\\') {
                return i + 1; // never after a backslash: that would cut an escape (\n) in two
            }
        }
        return whitespace > 0 ? whitespace : line.length();
    }

    /** Characters found inside emails, phones, cards, IBANs, JWTs and API keys. */
    private static final String VALUE_PUNCTUATION = ".-_+%'@()";

    /** Masks and writes the first {@code length} chars of {@code line}, keeping the rest. */
    private void emit(StringBuilder line, int length, Writer writer) throws IOException {
        if (length == 0) return;
        writer.write(masker.mask(line.substring(0, length)));
        line.delete(0, length);
    }
}
