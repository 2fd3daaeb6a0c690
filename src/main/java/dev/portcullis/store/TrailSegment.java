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
import java.util.concurrent.atomic.AtomicReferenceArray;

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
 * <p>The copies go into writable mappings of {@link #CHUNK} bytes each, and a chunk the records have
 * passed is unmapped by the next {@link #force} before its pages are written out. Writing out a page
 * that is still mapped writable first makes it read-only again in every mapping, one TLB flush (an
 * interrupt to each core that ran the process) per page: 4.6% of the gateway's CPU at 12,000 HTTP calls
 * a second, and more on the cores interrupted. Unmapped first, a chunk costs one flush for all its pages.
 * The force itself goes through a read-only mapping of the whole file, which has no page of its own to
 * clean: {@code msync} on it syncs the file's range, wherever its pages were written.
 *
 * <p>Not thread-safe, except {@link #force}, which may run beside an append; it and the unmapping
 * exclude each other.
 */
final class TrailSegment {
    /** Bytes of one writable mapping: a multiple of any page size. */
    static final long CHUNK = 256 * 1024;
    private final Path file;
    private final FileChannel channel;
    /** Guards the read-only view, the retiring of chunks and the populating. */
    private final Object mapping = new Object();
    /** Guards the making of chunk mappings (and a growth of the file, with {@link #mapping} held first). */
    private final Object chunkMaking = new Object();
    /** A read-only mapping of the whole file, for {@link #force}; null once closed. Changed under {@link #mapping}. */
    private volatile MemorySegment view;
    private Arena viewArena;
    /** The writable mappings by chunk number: null until made, and again once retired. */
    private volatile AtomicReferenceArray<Chunk> chunks;
    /** Chunks below this number are complete and unmapped, for good. Written under {@link #mapping}. */
    private volatile int retired;
    /** Set before the mappings are dropped when the segment failed: what it held was never forced. */
    private volatile boolean abandoned;
    /** Set once the mappings are dropped: no chunk is made again. */
    private volatile boolean unmapped;
    /** Bytes of records at the start of the file; the rest, to the mapping's end, is zeros. */
    private long size;
    /** The file's mapped size; changed by the appending thread only, under both locks. */
    private volatile long capacity;
    /** Bytes known to be on disk; under {@link #mapping}. */
    private long forcedLength;
    private static final long PAGE = Libc.pageSize();
    private static final long POPULATE_SLICE = 64 * 1024;
    /** Where the pages made writable ahead of the records end; written under {@link #mapping}. */
    private volatile long populated;
    /** False once the kernel refused to populate (then the copies fault the pages in themselves). */
    private boolean populating = true;

    private record Chunk(Arena arena, MemorySegment map) {
    }

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

    /** The file's size, its blocks and its mappings: at least {@code capacity} bytes. */
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
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, capacity, larger);
            synchronized (mapping) {
                synchronized (chunkMaking) {
                    if (view != null) viewArena.close();
                    viewArena = larger;
                    view = mapped;
                    AtomicReferenceArray<Chunk> old = chunks;
                    AtomicReferenceArray<Chunk> grown = new AtomicReferenceArray<>((int) ((capacity + CHUNK - 1) / CHUNK));
                    if (old != null) {
                        for (int i = 0; i < old.length(); i++) {
                            Chunk c = old.get(i);
                            if (c == null) continue;
                            // a last chunk cut short by the old size is made again at its full length
                            if (c.map().byteSize() == CHUNK) grown.set(i, c);
                            else c.arena().close();
                        }
                    }
                    chunks = grown;
                    this.capacity = capacity;
                }
            }
        } catch (IOException | RuntimeException e) {
            if (viewArena != larger) larger.close();
            throw e;
        }
    }

    /** The writable mapping of chunk {@code i}, made when first needed. */
    private MemorySegment writable(int i) throws IOException {
        Chunk c = chunks.get(i);
        if (c != null) return c.map();
        synchronized (chunkMaking) {
            AtomicReferenceArray<Chunk> all = chunks;
            c = all.get(i);
            if (c != null) return c.map();
            if (unmapped) throw new IOException("the segment " + file + " is closed");
            if (i < retired) throw new IllegalStateException("chunk " + i + " of " + file + " was complete and unmapped");
            long at = i * CHUNK;
            Arena arena = Arena.ofShared();
            try {
                MemorySegment map = channel.map(FileChannel.MapMode.READ_WRITE, at, Math.min(CHUNK, capacity - at), arena);
                all.set(i, new Chunk(arena, map));
                return map;
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    /** Drops every mapping, under {@link #mapping}: no force runs on them meanwhile. */
    private void unmap() {
        synchronized (chunkMaking) {
            unmapped = true;
            view = null;
            if (viewArena != null) viewArena.close();
            viewArena = null;
            AtomicReferenceArray<Chunk> all = chunks;
            if (all == null) return;
            for (int i = 0; i < all.length(); i++) {
                Chunk c = all.getAndSet(i, null);
                if (c != null) c.arena().close();
            }
        }
    }

    /**
     * Copies {@code length} bytes of {@code bytes} after the records, growing the file when they do not
     * fit (a batch larger than a segment).
     */
    void append(byte[] bytes, int length) throws IOException {
        if (size + length > capacity) reserve(size + length);
        long at = size;
        int done = 0;
        try {
            while (done < length) {
                int i = (int) (at / CHUNK);
                MemorySegment chunk = writable(i);
                long within = at - i * CHUNK;
                int n = (int) Math.min(length - done, chunk.byteSize() - within);
                MemorySegment.copy(bytes, done, chunk, ValueLayout.JAVA_BYTE, within, n);
                done += n;
                at += n;
            }
        } catch (InternalError | IllegalStateException e) {
            // A fault in the copy (the file was cut or its disk failed), or the mapping is gone: nothing of it counts.
            throw new IOException("the mapped segment " + file + " could not be written: " + e.getMessage(), e);
        }
        size += length;
    }

    /**
     * Puts the first {@code length} bytes of records on disk (a closed segment was forced when it closed).
     * The chunks the records have passed are unmapped first (nothing is copied into them again), then the
     * range written since the last force is synced. Only the records' pages are written: the pages made
     * writable ahead of them ({@link #populate}) stay so, where writing them out would make the next copy
     * into each fault again.
     */
    void force(long length) throws IOException {
        synchronized (mapping) {
            MemorySegment v = view;
            if (v == null) {
                if (abandoned) throw new IOException("the segment " + file + " could not be written");
                return;
            }
            int complete = (int) Math.min(length / CHUNK, chunks.length());
            for (int i = retired; i < complete; i++) {
                Chunk c = chunks.getAndSet(i, null);
                if (c != null) c.arena().close();
            }
            if (complete > retired) retired = complete;
            long end = Math.min(v.byteSize(), pageAlignedUp(length));
            long start = Math.min(pageAligned(forcedLength), Math.max(0, end - PAGE));
            if (end <= start) return;
            if (!Libc.syncRange(v.asSlice(start, end - start))) channel.force(false);
            forcedLength = Math.max(forcedLength, length);
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

    /** Populates bytes {@code start} to {@code end} (page-aligned) of the mappings; false when they are gone or the kernel cannot. */
    private boolean populateSlice(long start, long end) {
        synchronized (mapping) {
            if (view == null || !populating) return false;
            end = Math.min(end, capacity);
            if (end <= start || start < retired * CHUNK) return false;
            try {
                for (long at = start; at < end && populating; ) {
                    int i = (int) (at / CHUNK);
                    long within = at - i * CHUNK;
                    MemorySegment chunk = writable(i);
                    long n = Math.min(end - at, chunk.byteSize() - within);
                    populating = Libc.populateForWriting(chunk.asSlice(within, n));
                    at += n;
                }
            } catch (IOException | RuntimeException e) {
                return false; // closed meanwhile: the copies fault their pages in, if any come
            }
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
