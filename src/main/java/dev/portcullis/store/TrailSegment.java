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
    private static final long PAGE = Libc.pageSize();
    private static final long POPULATE_SLICE = 64 * 1024;
    /** Where the pages made writable ahead of the records end; written under {@link #mapping}. */
    private volatile long populated;
    /** False once the kernel refused to populate (then the copies fault the pages in themselves). */
    private boolean populating = true;

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
                populated = 0;
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

    /**
     * Puts the first {@code length} bytes of records on disk (a closed segment was forced when it closed).
     * Only their pages are written: the pages made writable ahead of the records ({@link #populate}) stay
     * so, where writing them out would make the next copy into each fault again.
     */
    void force(long length) throws IOException {
        synchronized (mapping) {
            MemorySegment m = map;
            if (m == null) {
                if (abandoned) throw new IOException("the segment " + file + " could not be written");
                return;
            }
            try {
                m.asSlice(0, Math.min(m.byteSize(), pageAlignedUp(length))).force();
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
        }
    }

    /**
     * Makes the pages from the one holding byte {@code from} up to byte {@code to} present and writable
     * now, so the copies of the appends that reach them do not fault: on a file system such as ext4, the
     * first write to a page (and the first after it was written out) maps its block and updates the file's
     * times in the journal, which can wait for a journal commit. Called by a background thread, beside the
     * appends; pages it made writable before and that were not written out since are skipped.
     */
    void populate(long from, long to) {
        long start = pageAligned(from);
        long end = pageAlignedUp(to);
        // The page holding the end of the records was written out by the last force: it faults again.
        if (!populateSlice(start, start + PAGE)) return;
        for (long at = Math.max(start + PAGE, populated); at < end; at += POPULATE_SLICE) {
            // In slices, the mapping released and the CPU yielded between them: a force waits for one
            // slice at most, and a data-path thread woken on this core for a few pages' work.
            if (!populateSlice(at, Math.min(at + POPULATE_SLICE, end))) return;
            Thread.yield();
        }
    }

    /** Populates bytes {@code start} to {@code end} (page-aligned) of the mapping; false when it is gone or the kernel cannot. */
    private boolean populateSlice(long start, long end) {
        synchronized (mapping) {
            MemorySegment m = map;
            if (m == null || !populating) return false;
            end = Math.min(end, m.byteSize());
            if (end <= start) return false;
            populating = Libc.populateForWriting(m.asSlice(start, end - start));
            populated = Math.max(populated, end);
            return populating;
        }
    }

    private static long pageAligned(long offset) {
        return offset - offset % PAGE;
    }

    private static long pageAlignedUp(long offset) {
        return pageAligned(offset + PAGE - 1);
    }

    /** Forces the records to disk and cuts the file back to them; the segment is not used again. */
    void close() throws IOException {
        try {
            synchronized (mapping) {
                force(size);
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
