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

/**
 * Masks {@code COPY ... TO STDOUT} output (text and CSV formats), one CopyData row at a time: the
 * masked columns by position, the content detectors over every field. Column positions come from
 * the table's columns in order (for {@code COPY table TO}) or the statement's column list; for
 * {@code COPY (query) TO} only the detectors apply, and a plan with masked fields refuses the column
 * positions it cannot know by masking every field.
 */
final class CopyMasker {
    private final boolean[] maskedColumns;
    private final boolean maskAll;
    private final TextMasker detectors;
    private final boolean csv;

    private CopyMasker(boolean[] maskedColumns, boolean maskAll, TextMasker detectors, boolean csv) {
        this.maskedColumns = maskedColumns;
        this.maskAll = maskAll;
        this.detectors = detectors;
        this.csv = csv;
    }

    static CopyMasker of(MaskPlan plan, SqlStatement statement, ColumnCatalog catalog) throws IOException {
        TextMasker detectors = TextMasker.of(plan.detectors());
        boolean csv = statement != null && statement.text().toLowerCase(Locale.ROOT).matches("(?s).*\\bcsv\\b.*");
        if (plan.fields().isEmpty()) return new CopyMasker(new boolean[0], false, detectors, csv);
        List<String> columns = statement == null ? List.of() : columns(statement, catalog);
        if (columns.isEmpty()) {
            // Fail closed: without known column positions, every field is masked.
            return new CopyMasker(new boolean[0], true, detectors, csv);
        }
        boolean[] masked = new boolean[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            String c = columns.get(i).toLowerCase(Locale.ROOT);
            for (String f : plan.fields()) {
                String field = f.toLowerCase(Locale.ROOT);
                if (field.equals(c) || field.endsWith("." + c)) masked[i] = true;
            }
        }
        return new CopyMasker(masked, false, detectors, csv);
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
        List<String> fields = csv ? splitCsv(body) : List.of(body.split("\t", -1));
        List<String> out = new ArrayList<>(fields.size());
        boolean changed = false;
        for (int i = 0; i < fields.size(); i++) {
            String value = fields.get(i);
            boolean isNull = csv ? value.isEmpty() : value.equals("\\N");
            String masked = value;
            if (!isNull && (maskAll || (i < maskedColumns.length && maskedColumns[i]))) {
                masked = "[masked]";
            } else if (!isNull && !detectors.isEmpty()) {
                masked = detectors.mask(value);
            }
            changed |= masked != value;
            out.add(masked);
        }
        if (!changed) return row;
        return (String.join(csv ? "," : "\t", out) + newline).getBytes(StandardCharsets.UTF_8);
    }

    /** Splits one CSV record, keeping each field's quoting as it was. */
    private static List<String> splitCsv(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') quoted = !quoted;
            if (c == ',' && !quoted) {
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
