package dev.portcullis.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trail's write-ahead log: numbered segment files of {@link TrailRecords} lines in one directory.
 * An append is a {@code write()} into the current segment ({@link TrailSegment}: in the operating
 * system's cache when it returns, so it survives a crash of the process);
 * {@link #force} makes everything written so far durable, and concurrent callers share one
 * {@code fsync}. A segment is forced and cut back to its records when it is closed, so only the newest
 * can end in a torn line or in the zeros it was made with, which {@link #open} cuts off.
 *
 * <p>A daemon thread keeps the appending thread (an event loop) clear of disk waits: every
 * {@link #SYNC_INTERVAL_MILLIS} ms it forces what was written since it last did, so that closing a
 * segment has little left to force, and it creates the next segment file (and makes its directory
 * entry durable) before the current one is full. An empty segment at the end of the directory is such a
 * file made ahead, and {@link #open} removes it.
 *
 * <p>Appends are serialised by the caller (one writer); {@link #force} may be called from any thread.
 */
final class TrailLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TrailLog.class);
    static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
    private static final String PREFIX = "trail-";
    private static final String SUFFIX = ".log";

    private final Path dir;
    private final long segmentBytes;
    /** Closed segments by number, with the global number of their last event; guarded by this. */
    private final TreeMap<Long, Long> closed = new TreeMap<>();
    private TrailSegment current; // null after a failed write: reopened by the next append
    private long currentNumber;
    private long currentSize;
    private long currentLastSeq;
    private long written;          // bytes appended by this process, a position for force(); guarded by this
    private volatile long forced;  // position up to which everything is on disk
    private final Object forceLock = new Object();
    /** The next segment, created ahead by the sync thread; guarded by this. */
    private TrailSegment prepared;
    /** The identity of the file {@link #prepared} opened (inode and device), to tell whether it is still the file at its path. */
    private Object preparedKey;
    private final ScheduledExecutorService sync;

    static final long SYNC_INTERVAL_MILLIS = 100;

    private TrailLog(Path dir, long segmentBytes) {
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.sync = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(() -> {
                Libc.batchSchedulingForCurrentThread(); // background work beside the data path
                r.run();
            }, "audit-trail-sync");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The sync thread's round: force what was written, and create the next segment when the current one is half
     * full.
     */
    private void background() {
        try {
            long target = written();
            if (target > forced) force(target);
            boolean prepare;
            long next;
            synchronized (this) {
                prepare = current != null && prepared == null && currentSize > segmentBytes / 2;
                next = currentNumber + 1;
            }
            if (prepare) {
                TrailSegment made = TrailSegment.open(segment(dir, next), 0, segmentBytes);
                Object key = fileKey(segment(dir, next));
                forceDirectory();
                synchronized (this) {
                    if (prepared == null && currentNumber + 1 == next && current != null) {
                        prepared = made;
                        preparedKey = key;
                        made = null;
                    }
                }
                if (made != null) made.abandon();
            }
        } catch (IOException | RuntimeException e) {
            // The appending thread forces and creates for itself, and says what fails.
            log.debug("audit trail {}: background sync: {}", dir, e.getMessage());
        }
    }

    /** The file's identity (inode and device on Linux); null when it cannot be read (then nothing prepared is trusted). */
    private static Object fileKey(Path file) {
        try {
            return java.nio.file.Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    static Path segment(Path dir, long number) {
        return dir.resolve(String.format("%s%012d%s", PREFIX, number, SUFFIX));
    }

    /** The segment numbers in the directory, oldest first. */
    static List<Long> segments(Path dir) throws IOException {
        List<Long> numbers = new ArrayList<>();
        if (!Files.isDirectory(dir)) return numbers;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) continue;
                try {
                    numbers.add(Long.parseLong(name.substring(PREFIX.length(), name.length() - SUFFIX.length())));
                } catch (NumberFormatException ignored) {
                    // not one of ours
                }
            }
        }
        numbers.sort(null);
        return numbers;
    }

    /**
     * Opens the log for appending, handing every complete record to {@code replay} in order first. A torn
     * or unreadable end of the newest segment (a crash during a write) is cut off; anything unreadable
     * before it is corruption, and the log refuses to open.
     */
    static TrailLog open(Path dir, long segmentBytes, Consumer<TrailRecords.Line> replay) {
        TrailLog trail = new TrailLog(dir, segmentBytes);
        try {
            Files.createDirectories(dir);
            List<Long> numbers = segments(dir);
            // Segments made ahead and never written to: not part of the trail.
            while (numbers.size() > 1 && unwritten(segment(dir, numbers.getLast()))) {
                Files.delete(segment(dir, numbers.removeLast()));
            }
            for (int i = 0; i < numbers.size(); i++) {
                long number = numbers.get(i);
                boolean newest = i == numbers.size() - 1;
                Path file = segment(dir, number);
                if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw new AuditStoreException("audit trail segment " + file + " is not a regular file; refusing to open");
                }
                byte[] bytes = Files.readAllBytes(file);
                int recordsEnd = TrailSegment.recordsEnd(bytes);
                long lastSeq = 0;
                int start = 0;
                while (start < recordsEnd) {
                    int end = indexOf(bytes, (byte) '\n', start, recordsEnd);
                    TrailRecords.Line line = null;
                    String problem = null;
                    if (end < 0) {
                        problem = "an unfinished last line";
                    } else {
                        try {
                            line = TrailRecords.decode(bytes, start, end - start);
                        } catch (IOException e) {
                            problem = e.getMessage();
                        }
                    }
                    if (line == null) {
                        if (!newest) {
                            throw new AuditStoreException("audit trail segment " + file + " is corrupt at byte " + start
                                    + " (" + problem + "); it was complete when closed, so it has been altered");
                        }
                        log.warn("audit trail {}: cutting {} bytes at byte {} ({}), written when the gateway stopped",
                                file, recordsEnd - start, start, problem);
                        break;
                    }
                    if (line.event() != null) lastSeq = line.event().link().globalSeq();
                    replay.accept(line);
                    start = end + 1;
                }
                if (start < bytes.length) {
                    // A torn line, or the zeros of a segment made at its full size: the next record goes at start.
                    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                        ch.truncate(start);
                        ch.force(true);
                    }
                }
                if (newest) {
                    trail.currentNumber = number;
                    trail.currentSize = start;
                    trail.currentLastSeq = lastSeq;
                } else {
                    trail.closed.put(number, lastSeq);
                }
            }
            if (numbers.isEmpty()) trail.currentNumber = 1;
            trail.openCurrent();
            trail.sync.scheduleWithFixedDelay(trail::background, SYNC_INTERVAL_MILLIS, SYNC_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
            return trail;
        } catch (IOException e) {
            throw new AuditStoreException("cannot open the audit trail in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Whether a segment holds no record: made ahead (empty, or zeros), never written to. */
    private static boolean unwritten(Path file) throws IOException {
        if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return false; // refused below
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer first = ByteBuffer.allocate(1);
            return ch.read(first, 0) <= 0 || first.get(0) == 0;
        }
    }

    private void openCurrent() throws IOException {
        Path file = segment(dir, currentNumber);
        boolean created = !Files.exists(file);
        current = TrailSegment.open(file, currentSize, segmentBytes);
        if (created) forceDirectory();
    }

    private void forceDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /**
     * Writes a batch of encoded lines, the first {@code length} bytes of {@code lines}, whose last event
     * has global number {@code lastSeq}.
     *
     * @return the position to {@link #force} for this batch to be durable
     * @throws AuditStoreException nothing of the batch is in the log (a partial write is cut off again)
     */
    synchronized long append(byte[] lines, int length, long lastSeq) {
        try {
            if (current == null) openCurrent();
            if (currentSize > 0 && currentSize + length > segmentBytes) rotate();
        } catch (IOException e) {
            current = abandon(current);
            throw new AuditStoreException("cannot open the next audit trail segment in " + dir + ": " + e.getMessage(), e);
        }
        try {
            current.append(lines, length);
        } catch (IOException e) {
            // The file is cut back to the records before the batch, so the next append starts on a line boundary.
            current = abandon(current);
            throw new AuditStoreException("cannot write the audit trail " + segment(dir, currentNumber) + ": "
                    + e.getMessage(), e);
        }
        currentSize += length;
        currentLastSeq = lastSeq;
        written += length;
        return written;
    }

    private void rotate() throws IOException {
        current.close(); // forced (little left: the sync thread forced most of it) and cut back to its records
        current = null;
        closed.put(currentNumber, currentLastSeq);
        currentNumber++;
        currentSize = 0;
        // The prepared file is used only while it is still the one at its path: events written to a file
        // removed or replaced since would not be found there on restart.
        if (prepared != null && preparedKey != null && preparedKey.equals(fileKey(segment(dir, currentNumber)))) {
            current = prepared;
            prepared = null;
        } else {
            prepared = abandon(prepared);
            openCurrent();
        }
        log.debug("audit trail: now writing {}", segment(dir, currentNumber));
    }

    synchronized long written() {
        return written;
    }

    /** The position up to which everything written is on disk. */
    long forcedUpTo() {
        return forced;
    }

    /**
     * Makes the syncs a virtual thread asks for: an {@code fdatasync} holds the thread's carrier for the whole sync,
     * and that carrier may be an event loop serving other sessions (a PostgreSQL
     * session's thread runs on its loop). The virtual thread waits for this one instead, and its carrier goes on.
     */
    private static final ExecutorService SYNCS = Executors.newCachedThreadPool(
            Thread.ofPlatform().name("audit-force-", 0).daemon(true).factory());

    /** Returns once everything up to {@code position} is on disk; one {@code fsync} serves every waiting caller. */
    void force(long position) {
        if (forced >= position) return;
        if (!Thread.currentThread().isVirtual()) {
            forceHere(position);
            return;
        }
        Future<?> synced = SYNCS.submit(() -> forceHere(position));
        try {
            synced.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new AuditStoreException("cannot force the audit trail to disk in " + dir + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuditStoreException("interrupted while the audit trail in " + dir + " was forced to disk", e);
        }
    }

    private void forceHere(long position) {
        while (forced < position) {
            synchronized (forceLock) {
                if (forced >= position) return;
                long target;
                long length;
                TrailSegment segment;
                synchronized (this) {
                    target = written;
                    segment = current;
                    length = currentSize;
                }
                try {
                    if (segment == null) throw new IOException("the segment could not be written");
                    // A segment closed meanwhile (rotated) was forced then.
                    segment.force(length);
                    forced = target;
                } catch (IOException e) {
                    throw new AuditStoreException("cannot force the audit trail to disk in " + dir + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /** Deletes closed segments whose every event is at or below {@code indexedSeq} (safely in the index). */
    /** The global number of the last event of the oldest closed segment, or {@link Long#MAX_VALUE} if none is closed. */
    synchronized long oldestClosedLastSeq() {
        return closed.isEmpty() ? Long.MAX_VALUE : closed.firstEntry().getValue();
    }

    synchronized void deleteIndexedUpTo(long indexedSeq) {
        while (!closed.isEmpty() && closed.firstEntry().getValue() <= indexedSeq) {
            long number = closed.pollFirstEntry().getKey();
            try {
                Files.deleteIfExists(segment(dir, number));
            } catch (IOException e) {
                log.warn("cannot delete indexed audit trail segment {}: {}", segment(dir, number), e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        // The sync thread's round ends first, uninterrupted (an interrupt would close a file it is making) and
        // outside the lock it needs: a segment it is making ahead is then registered as prepared, and removed
        // below, instead of being left behind, empty, after the close. Its later rounds are cancelled.
        sync.shutdown();
        try {
            if (!sync.awaitTermination(10, TimeUnit.SECONDS)) log.warn("audit trail {}: the sync thread did not stop", dir);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            closeSegments();
        }
    }

    private void closeSegments() {
        if (prepared != null) {
            // Made ahead and never written: cut to nothing, and removed now rather than left for the next open()
            // (which removes it too), so a stopped gateway's trail holds only segments with records.
            Path unused = segment(dir, currentNumber + 1);
            prepared = abandon(prepared);
            try {
                if (unwritten(unused)) Files.deleteIfExists(unused);
            } catch (IOException e) {
                log.debug("audit trail {}: the unused segment {} stays for the next open: {}", dir, unused, e.getMessage());
            }
        }
        if (current == null) return;
        try {
            current.close();
        } catch (IOException | RuntimeException e) {
            log.warn("audit trail {}: final force failed: {}", dir, e.getMessage());
            abandon(current);
        }
        current = null;
    }

    private static TrailSegment abandon(TrailSegment segment) {
        if (segment != null) segment.abandon();
        return null;
    }

    static int indexOf(byte[] bytes, byte b, int from, int to) {
        for (int i = from; i < to; i++) if (bytes[i] == b) return i;
        return -1;
    }

    /**
     * The global number of the last complete event in the trail {@code dir}, 0 when it holds none: what a
     * reader in another process waits to see indexed.
     */
    static long lastEventSeq(Path dir) throws IOException {
        List<Long> numbers = segments(dir);
        for (int i = numbers.size() - 1; i >= 0; i--) {
            byte[] bytes = Files.readAllBytes(segment(dir, numbers.get(i)));
            int end = TrailSegment.recordsEnd(bytes);
            while (end > 0) {
                int lastNl = lastIndexOf(bytes, (byte) '\n', end - 1);
                if (lastNl < 0) break;
                int start = lastIndexOf(bytes, (byte) '\n', lastNl - 1) + 1;
                try {
                    TrailRecords.Line line = TrailRecords.decode(bytes, start, lastNl - start);
                    if (line.event() != null) return line.event().link().globalSeq();
                } catch (IOException ignored) {
                    // a torn line being written: look further back
                }
                end = start;
            }
        }
        return 0;
    }

    private static int lastIndexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i >= 0; i--) if (bytes[i] == b) return i;
        return -1;
    }
}
