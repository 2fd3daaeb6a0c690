package dev.portcullis.masking;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * A tee for the recorder: passes every byte through to the client and keeps the first
 * {@code capBytes} of them (the masked response as the recording stores it), counting the rest.
 * Not thread-safe: one response is written by one thread.
 */
public final class CappedCapture extends FilterOutputStream {
    private final int capBytes;
    private byte[] kept = new byte[0];
    private int keptBytes;
    private long totalBytes;

    public CappedCapture(OutputStream delegate, int capBytes) {
        super(delegate);
        if (capBytes < 0) throw new IllegalArgumentException("capBytes must not be negative, was " + capBytes);
        this.capBytes = capBytes;
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        totalBytes++;
        if (keptBytes < capBytes) {
            if (keptBytes == kept.length) kept = Arrays.copyOf(kept, (int) Math.min(capBytes, 2L * kept.length + 256));
            kept[keptBytes++] = (byte) b;
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        keep(b, off, len);
    }

    private void keep(byte[] b, int off, int len) {
        totalBytes += len;
        int room = capBytes - keptBytes;
        if (room <= 0) return;
        int take = Math.min(room, len);
        if (keptBytes + take > kept.length) {
            // grow as needed, so a large cap costs nothing for a small response
            kept = Arrays.copyOf(kept, (int) Math.min(capBytes, Math.max(keptBytes + take, 2L * kept.length + 256)));
        }
        System.arraycopy(b, off, kept, keptBytes, take);
        keptBytes += take;
    }

    /** A copy of the kept bytes (at most {@code capBytes}). */
    public byte[] captured() {
        return Arrays.copyOf(kept, keptBytes);
    }

    /** The kept bytes as UTF-8 text, decoded from the buffer itself (no copy of it first). */
    public String text() {
        return new String(kept, 0, keptBytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Whether more bytes went through than were kept. */
    public boolean truncated() {
        return totalBytes > keptBytes;
    }

    /** Every byte written, kept or not. */
    public long totalBytes() {
        return totalBytes;
    }
}
