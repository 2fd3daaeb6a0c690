package dev.portcullis.postgres;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.recording.Excerpt;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The result being relayed: its masker and what the recording keeps of it. */
final class ResultCapture {
    private final int recordedRows;

    ResultCapture(int recordedRows) {
        this.recordedRows = recordedRows;
    }

    RowMasker masker;
    List<String> columns = List.of();
    final StringBuilder firstRows = new StringBuilder();
    int capturedRows;
    long rows;
    private CopyMasker copy;

    void start(BackendMessage.RowDescription description, MaskPlan plan, DerivedColumns derived, ColumnCatalog catalog)
            throws IOException {
        masker = RowMasker.of(description.fields(), plan, catalog, derived);
        described = true;
        columns = description.fields().stream().map(BackendMessage.Field::name).toList();
        firstRows.setLength(0);
        firstRows.append(String.join(" | ", columns)).append('\n');
    }

    void startCopy(MaskPlan plan, SqlStatement statement, DerivedColumns derived, ColumnCatalog catalog) throws IOException {
        copy = CopyMasker.of(plan, statement, derived, catalog);
        firstRows.setLength(0);
    }

    byte[] maskCopy(byte[] data) {
        return copy == null ? data : copy.mask(data);
    }

    boolean wantsRows() {
        return capturedRows < recordedRows;
    }

    void capture(byte[] dataRow, RowMasker m) {
        capturedRows++;
        firstRows.append(DataRows.render(dataRow)).append('\n');
    }

    void captureText(byte[] data) {
        capturedRows++;
        firstRows.append(new String(data, StandardCharsets.UTF_8).stripTrailing()).append('\n');
    }

    Excerpt excerpt(String tag) {
        String text = tag + (firstRows.isEmpty() ? "" : "\n" + firstRows);
        return new Excerpt(text, rows > capturedRows, text.length());
    }

    /** Whether this result's columns are known (a RowDescription, or a masker found for it). */
    boolean described;

    void reset() {
        described = false;
        masker = null;
        copy = null;
        columns = List.of();
        firstRows.setLength(0);
        capturedRows = 0;
        rows = 0;
    }
}
