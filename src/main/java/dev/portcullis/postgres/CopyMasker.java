package dev.portcullis.postgres;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.TextMasker;
import dev.portcullis.sql.SqlParseException;
import dev.portcullis.sql.SqlParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks {@code COPY ... TO STDOUT} output (text and CSV formats), one CopyData row at a time: the
 * masked columns by position, the content detectors over every field. Column positions come from
 * the statement's lineage (every column computed from a masked one, for {@code COPY (query) TO} too),
 * else from the table's columns in order or the statement's column list; a plan with masked fields
 * whose column positions cannot be known masks every field. Positions also fail closed when the statement's
 * delimiter cannot be read, or a row does not split into as many fields as the COPY has columns.
 */
final class CopyMasker {
    private static final String MASKED = "[masked]";
    /** A string literal: E'' with backslash escapes, or plain (where a backslash is itself); '' is a quote in both. */
    private static final Pattern LITERAL = Pattern.compile("(?i)\\bE'((?:[^'\\\\]|''|\\\\.)*)'|'((?:[^']|'')*)'");

    /** How a COPY writes its rows: field delimiter, and for CSV its quote and escape characters. */
    record Format(boolean csv, char delimiter, char quote, char escape, boolean customNull) {
        static final Format TEXT = new Format(false, '\t', '"', '"', false);
    }

    private final boolean[] maskedColumns;
    /** For masked columns: what a masked value of that column reads (by its type), or null for "[masked]". */
    private final String[] maskedAs;
    private final boolean maskAll;
    private final TextMasker detectors;
    private final Format format;

    private CopyMasker(boolean[] maskedColumns, boolean maskAll, TextMasker detectors, Format format) {
        this(maskedColumns, new String[maskedColumns.length], maskAll, detectors, format);
    }

    private CopyMasker(boolean[] maskedColumns, String[] maskedAs, boolean maskAll, TextMasker detectors, Format format) {
        this.maskedColumns = maskedColumns;
        this.maskedAs = maskedAs;
        this.maskAll = maskAll;
        this.detectors = detectors;
        this.format = format;
    }

    static CopyMasker of(MaskPlan plan, SqlStatement statement, ColumnCatalog catalog) throws IOException {
        return of(plan, statement, null, catalog);
    }

    /**
     * @param derived the columns the COPY's lineage computes from masked columns ({@code COPY (query) TO} and
     *                {@code COPY table TO}), or null when no lineage was needed
     */
    static CopyMasker of(MaskPlan plan, SqlStatement statement, DerivedColumns derived, ColumnCatalog catalog) throws IOException {
        TextMasker detectors = TextMasker.of(plan.detectors());
        Format format = statement == null ? Format.TEXT : format(statement.text());
        if (plan.fields().isEmpty()) return new CopyMasker(new boolean[0], false, detectors, format == null ? Format.TEXT : format);
        if (derived != null && format != null) {
            boolean[] masked = new boolean[derived.columns()];
            for (int i = 0; i < masked.length; i++) masked[i] = derived.masks(i, masked.length);
            return new CopyMasker(masked, maskedAs(masked, statement, format, catalog), false, detectors, format);
        }
        List<String> columns = statement == null ? List.of() : columns(statement, catalog);
        if (columns.isEmpty() || format == null) {
            // Fail closed: without known column positions, every field is masked.
            return new CopyMasker(new boolean[0], true, detectors, format == null ? Format.TEXT : format);
        }
        boolean[] masked = new boolean[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            String c = columns.get(i).toLowerCase(Locale.ROOT);
            for (String f : plan.fields()) {
                String field = f.toLowerCase(Locale.ROOT);
                if (field.equals(c) || field.endsWith("." + c)) masked[i] = true;
            }
        }
        return new CopyMasker(masked, false, detectors, format);
    }

    /**
     * The format from the options after {@code TO STDOUT} (modern {@code WITH (FORMAT csv, DELIMITER ';')}
     * or legacy {@code CSV DELIMITER AS ';'}); null when a delimiter, quote or escape cannot be read.
     * Words inside string literals, and column names like {@code csv}, do not count.
     */
    static Format format(String copy) {
        String sql = copy.strip();
        Matcher stdout = Pattern.compile("(?i)\\bstdout\\b").matcher(sql);
        int from = -1;
        while (stdout.find()) from = stdout.end();
        if (from < 0) return Format.TEXT;
        String options = sql.substring(from);
        List<String> literals = new ArrayList<>();
        StringBuilder words = new StringBuilder();
        Matcher m = LITERAL.matcher(options);
        int at = 0;
        while (m.find()) {
            words.append(options, at, m.start()).append(" $").append(literals.size()).append(' ');
            String value = m.group(1) == null ? m.group(2).replace("''", "'") : unescape(m.group(1));
            literals.add(value);
            at = m.end();
        }
        words.append(options.substring(at));
        String w = words.toString().toLowerCase(Locale.ROOT);
        if (w.contains("'")) return null; // an unterminated or odd literal
        boolean csv = w.matches("(?s).*\\bcsv\\b.*") || w.matches("(?s).*\\bformat\\s+\\$\\d+.*") && literalAfter(w, "format", literals)
                .map(v -> v.equalsIgnoreCase("csv")).orElse(false);
        Character delimiter = charOption(w, "delimiter", literals, csv ? ',' : '\t');
        Character quote = charOption(w, "quote", literals, '"');
        if (delimiter == null || quote == null) return null;
        Character escape = charOption(w, "escape", literals, quote);
        if (escape == null) return null;
        return new Format(csv, delimiter, quote, escape, w.matches("(?s).*\\bnull\\b.*"));
    }

    private static java.util.Optional<String> literalAfter(String words, String option, List<String> literals) {
        Matcher m = Pattern.compile("\\b" + option + "\\s+(?:as\\s+)?\\$(\\d+)").matcher(words);
        return m.find() ? java.util.Optional.ofNullable(literals.get(Integer.parseInt(m.group(1)))) : java.util.Optional.empty();
    }

    /** A one-character option's value, its default when absent, or null when it cannot be read. */
    private static Character charOption(String words, String option, List<String> literals, char absent) {
        if (!words.matches("(?s).*\\b" + option + "\\b.*")) return absent;
        java.util.Optional<String> value = literalAfter(words, option, literals);
        if (value.isEmpty() || value.get().length() != 1) return null;
        return value.get().charAt(0);
    }

    /** The value of an E'' literal; null for escapes it does not read (the caller then fails closed). */
    private static String unescape(String body) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == '\'' ) {
                out.append('\'');
                i++; // ''
                continue;
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i >= body.length()) return null;
            char e = body.charAt(i);
            switch (e) {
                case 't' -> out.append('\t');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case '\\', '\'' -> out.append(e);
                case 'x' -> {
                    int end = i + 1;
                    while (end < body.length() && end < i + 3 && Character.digit(body.charAt(end), 16) >= 0) end++;
                    if (end == i + 1) return null;
                    out.append((char) Integer.parseInt(body.substring(i + 1, end), 16));
                    i = end - 1;
                }
                default -> {
                    return null;
                }
            }
        }
        return out.toString();
    }

    /**
     * How each masked column of a {@code COPY (query) TO} reads, by the type the server describes for it (as in
     * rows: "[masked]" for text, a JSON string for json, NULL for any other type, so the output still loads into
     * the same types). Null entries mean "[masked]": always so for {@code COPY table TO}, a custom NULL option, or
     * types the catalog connection cannot describe.
     */
    private static String[] maskedAs(boolean[] masked, SqlStatement statement, Format format, ColumnCatalog catalog) {
        String[] as = new String[masked.length];
        if (catalog == null || format.customNull()) return as;
        var query = SqlParser.copyQuery(statement.text());
        if (query.isEmpty()) return as;
        List<Integer> types = catalog.resultTypes(query.get());
        if (types.size() != masked.length) return as;
        for (int i = 0; i < masked.length; i++) {
            if (!masked[i]) continue;
            int type = types.get(i);
            if (RowMasker.isJson(type)) as[i] = format.csv() ? "\"\"\"[masked]\"\"\"" : "\"[masked]\"";
            else if (!RowMasker.masksAsText(type, catalog)) as[i] = format.csv() ? "" : "\\N";
        }
        return as;
    }

    /** The COPY's columns in output order: its explicit list, or all of its table's; empty for a query. */
    private static List<String> columns(SqlStatement statement, ColumnCatalog catalog) throws IOException {
        try {
            var target = SqlParser.copyTarget(statement.text());
            if (target.isEmpty()) return List.of();
            if (!target.get().columns().isEmpty()) return target.get().columns();
            return catalog.columnsOf(target.get().table());
        } catch (SqlParseException e) {
            return List.of();
        }
    }

    byte[] mask(byte[] row) {
        if (maskedColumns.length == 0 && !maskAll && detectors.isEmpty()) return row;
        String line = new String(row, StandardCharsets.UTF_8);
        String newline = line.endsWith("\n") ? "\n" : "";
        String body = newline.isEmpty() ? line : line.substring(0, line.length() - 1);
        List<String> fields = format.csv() ? splitCsv(body) : split(body, format.delimiter());
        // A row that does not split into the COPY's columns cannot be masked by position: mask it all.
        boolean all = maskAll || (maskedColumns.length > 0 && fields.size() != maskedColumns.length);
        List<String> out = new ArrayList<>(fields.size());
        boolean changed = false;
        for (int i = 0; i < fields.size(); i++) {
            String value = fields.get(i);
            boolean isNull = format.csv() ? value.isEmpty() : value.equals("\\N");
            String masked = value;
            if (!isNull && (all || (i < maskedColumns.length && maskedColumns[i]))) {
                masked = !all && maskedAs[i] != null ? maskedAs[i] : MASKED;
            } else if (!isNull && !detectors.isEmpty()) {
                masked = detectors.mask(value);
            }
            changed |= masked != value;
            out.add(masked);
        }
        if (!changed) return row;
        return (String.join(String.valueOf(format.delimiter()), out) + newline).getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> split(String line, char delimiter) {
        List<String> fields = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == delimiter) {
                fields.add(line.substring(start, i));
                start = i + 1;
            }
        }
        fields.add(line.substring(start));
        return fields;
    }

    /** Splits one CSV record, keeping each field's quoting and escapes as they were. */
    private List<String> splitCsv(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        char quote = format.quote(), escape = format.escape();
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && escape != quote && c == escape && i + 1 < line.length()
                    && (line.charAt(i + 1) == quote || line.charAt(i + 1) == escape)) {
                current.append(c).append(line.charAt(++i));
                continue;
            }
            if (c == quote) quoted = !quoted; // a doubled quote toggles twice
            if (c == format.delimiter() && !quoted) {
                fields.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        fields.add(current.toString());
        return fields;
    }
}
