package dev.portcullis.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One segment file of the trail, written with positional {@code write()} calls: an append is in the operating
 * system's cache when it returns, so it survives a crash of the process, and {@link #force} ({@code fdatasync})
 * puts it on disk. The file is made as large as the segment and its blocks reserved ({@code posix_fallocate})
 * when it is opened, so a full disk is an error there, not in a later append; its records are followed by zeros
 * up to that size, and the file is cut back to its records when the segment is closed.
 *
 * <p>Not mapped into memory (as it was until the thirteenth round of issue 10): writing a mapped file's pages out
 * write-protects each of them again, which costs a TLB-flush interrupt of every core the mapping runs on (the
 * event loops' ones) and a page fault in the next append to that page, and the kernel's work to do so for a
 * tenth of a second of events is long enough, without a point where it can be preempted, to hold up a thread
 * woken on that core (measured: {@code docs/benchmarks.md}). A page written with {@code write()} is written out
 * without any of that.
 *
 * <p>Not thread-safe, except {@link #force}, which may run beside an append; it and {@link #close} exclude each
 * other.
 */
final class TrailSegment {
    private final Path file;
    private final FileChannel channel;
    /** Held by {@link #force} and by {@link #close}/{@link #abandon}: a force never meets a closed channel. */
    private final Object closing = new Object();
    /** Set once closed (forced then) or abandoned (never forced); changed under {@link #closing}. */
    private boolean closed;
    private boolean abandoned;
    /** Bytes of records at the start of the file; the rest, to the file's end, is zeros. */
    private long size;
    /** The file's size, as reserved. */
    private long capacity;

    private TrailSegment(Path file, FileChannel channel, long size) {
        this.file = file;
        this.channel = channel;
        this.size = size;
    }

    /**
     * Opens (creating it if needed) a segment whose records are its first {@code size} bytes, ready for
     * appends up to {@code capacity} bytes.
     */
    static TrailSegment open(Path file, long size, long capacity) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        TrailSegment segment = new TrailSegment(file, ch, size);
        try {
            segment.reserve(Math.max(capacity, size));
            return segment;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The file's size and its blocks: at least {@code capacity} bytes. */
    private void reserve(long capacity) throws IOException {
        if (capacity > Integer.MAX_VALUE) throw new IOException("a trail segment cannot exceed 2 GiB; " + capacity + " bytes asked");
        if (channel.size() < capacity) {
            // A write at the end sizes the file (a full disk, or a device such as /dev/full, refuses it here)...
            channel.write(ByteBuffer.allocate(1), capacity - 1);
        }
        // ... and only a regular file keeps what is written to it: /dev/null would take the records and keep nothing.
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(file + " is not a regular file");
        }
        Libc.reserve(file, capacity); // ... and its blocks are reserved, so no later append meets a full disk
        this.capacity = capacity;
    }

    /**
     * Writes {@code length} bytes of {@code bytes} after the records, growing the file when they do not
     * fit (a batch larger than a segment).
     */
    void append(byte[] bytes, int length) throws IOException {
        if (size + length > capacity) reserve(size + length);
        ByteBuffer out = ByteBuffer.wrap(bytes, 0, length);
        long at = size;
        while (out.hasRemaining()) at += channel.write(out, at);
        size += length;
    }

    /** Puts the first {@code length} bytes of records on disk (a closed segment was forced when it closed). */
    void force(long length) throws IOException {
        synchronized (closing) {
            if (abandoned) throw new IOException("the segment " + file + " could not be written");
            if (closed) return;
            channel.force(false);
        }
    }

    /** Forces the records to disk and cuts the file back to them; the segment is not used again. */
    void close() throws IOException {
        synchronized (closing) {
            boolean done = false;
            try {
                channel.truncate(size);
                channel.force(true);
                done = true;
            } finally {
                // Not forced: a force asked of it later fails, as the records may not be on disk.
                if (done) closed = true;
                else abandoned = true;
                channel.close();
            }
        }
    }

    /** Closes without forcing (a failed or abandoned segment): the file is cut back to its records where possible. */
    void abandon() {
        synchronized (closing) {
            abandoned = true;
            try {
                channel.truncate(size);
            } catch (IOException ignored) {
                // the next open of the trail cuts what follows the records anyway
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }

    /**
     * Where the records of a segment's bytes end: before the zeros that fill a segment made at its full
     * size. A torn last record (a crash during a copy) ends there too, without its newline, for the
     * reader of the lines to cut.
     */
    static int recordsEnd(byte[] bytes) {
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0) end--; // a record ends in a newline, never in a zero
        return end;
    }
}
