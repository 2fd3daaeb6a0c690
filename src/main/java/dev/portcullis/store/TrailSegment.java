package dev.portcullis.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One segment file of the trail, mapped into memory: an append is a copy into the page cache, not a
 * system call. The file is made as large as the segment and its blocks reserved ({@code posix_fallocate})
 * when it is opened, so a full disk is an error there, and never a fault in a later copy; its records
 * are followed by zeros up to that size. A copy into a shared mapping is in the operating system's
 * cache when it returns, as a {@code write()} is: it survives a crash of the process. {@link #force}
 * puts it on disk. When the segment is closed, it is unmapped at once (not when a collector gets to
 * a buffer: a deleted segment's disk is freed only once it is unmapped) and the file is cut back to its
 * records.
 *
 * <p>Not thread-safe, except {@link #force}, which may run beside an append; it and the unmapping
 * exclude each other.
 */
final class TrailSegment {
    private final Path file;
    private final FileChannel channel;
    /** The mapping, and the arena that unmaps it; null once closed. Changed under {@link #mapping}. */
    private volatile MemorySegment map;
    private Arena arena;
    private final Object mapping = new Object();
    /** Set before {@link #map} is dropped when the segment failed: what it held was never forced. */
    private volatile boolean abandoned;
    /** Bytes of records at the start of the file; the rest, to the mapping's end, is zeros. */
    private long size;

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

    /** The file's size, its blocks and its mapping: at least {@code capacity} bytes. */
    private void reserve(long capacity) throws IOException {
        if (capacity > Integer.MAX_VALUE) throw new IOException("a trail segment cannot exceed 2 GiB; " + capacity + " bytes asked");
        if (channel.size() < capacity) {
            // A write at the end sizes the file (a device such as /dev/full refuses it here, as a full disk would)...
            channel.write(ByteBuffer.allocate(1), capacity - 1);
        }
        // ... and only a regular file may be mapped: a mapping of a device would take the records and keep nothing.
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(file + " is not a regular file");
        }
        Libc.reserve(file, capacity);
        Arena larger = Arena.ofShared();
        try {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, capacity, larger);
            synchronized (mapping) {
                unmap();
                arena = larger;
                map = mapped;
            }
        } catch (IOException | RuntimeException e) {
            larger.close();
            throw e;
        }
    }

    /** Drops the mapping, under {@link #mapping}: no force runs on it meanwhile. */
    private void unmap() {
        map = null;
        if (arena != null) arena.close();
        arena = null;
    }

    /**
     * Copies {@code length} bytes of {@code bytes} after the records, growing the file when they do not
     * fit (a batch larger than a segment).
     */
    void append(byte[] bytes, int length) throws IOException {
        if (size + length > map.byteSize()) reserve(size + length);
        try {
            MemorySegment.copy(bytes, 0, map, ValueLayout.JAVA_BYTE, size, length);
        } catch (InternalError e) {
            // A fault in the copy (the file was cut or its disk failed): nothing of it counts.
            throw new IOException("the mapped segment " + file + " could not be written: " + e.getMessage(), e);
        }
        size += length;
    }

    /** Puts every record copied so far on disk (a closed segment was forced when it closed). */
    void force() throws IOException {
        synchronized (mapping) {
            MemorySegment m = map;
            if (m == null) {
                if (abandoned) throw new IOException("the segment " + file + " could not be written");
                return;
            }
            try {
                m.force();
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
        }
    }

    /** Forces the records to disk and cuts the file back to them; the segment is not used again. */
    void close() throws IOException {
        try {
            synchronized (mapping) {
                force();
                unmap(); // nothing touches it past the cut
            }
            channel.truncate(size);
            channel.force(true);
        } finally {
            channel.close();
        }
    }

    /** Closes without forcing (a failed or abandoned segment): the file is cut back to its records where possible. */
    void abandon() {
        abandoned = true;
        synchronized (mapping) {
            unmap();
        }
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
