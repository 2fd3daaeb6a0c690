package dev.portcullis.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit store the gateway writes: a write-ahead {@link TrailLog} in front of the embedded SQLite
 * index. {@link #append} writes the batch to the log and returns (after an {@code fsync} when asked), so
 * recording costs an operation one {@code write()} into the trail on its own thread; an indexer thread feeds the
 * index in large transactions behind it. After a crash, {@link #open} indexes what the log holds beyond
 * the index before anything else happens, and the index's chain checks ({@link AuditAppend}) verify
 * that it continues. Reads wait until the index holds every event appended before them.
 *
 * <p>One gateway process owns a trail (a lock file says so). Another process, the CLI, opens it with
 * {@link #openForReading}: it waits for the running gateway to index what the log holds, or, when no
 * gateway runs, indexes it itself.
 */
public final class LoggedStore implements AuditStore {
    private static final Logger log = LoggerFactory.getLogger(LoggedStore.class);
    private static final int RECOVERY_BATCH = 2_000;
    private static final int INDEX_BATCH = 512;
    /**
     * How long the indexer gathers events into one transaction when no reader is waiting. Indexing an
     * event costs little; a transaction's page writes cost more, so under load fewer, larger ones win
     * (at 6,000 events/s, 2 ms batches cost the index 3.7 page writes per event). A reader wakes it.
     */
    private static final long INDEX_GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** How long a read waits for the index to catch up before it fails. */
    static final Duration INDEX_WAIT = Duration.ofSeconds(15);
    /** Trails owned by a store open in this JVM: a lock file cannot tell (locks are per process). */
    private static final Set<Path> OWNED = ConcurrentHashMap.newKeySet();

    private record Batch(List<NewSession> sessions, List<LinkedEvent> events) {
    }

    private static final Batch STOP = new Batch(List.of(), List.of());

    private final IndexStore index;
    private final Path trailDir;
    private final TrailLog trail;       // null for a reader
    private final FileChannel lockFile; // null for a reader
    private final LinkedBlockingQueue<Batch> toIndex = new LinkedBlockingQueue<>();
    private final Thread indexer;
    private final Object indexed = new Object();
    private volatile long indexedSeq;
    private volatile int readersWaiting;
    private volatile long appendedSeq;
    private volatile String indexFailure;
    private ChainHead head; // guarded by this
    /** Where a batch is encoded before its write; reused, guarded by this. */
    private TrailRecords.Buffer encoded = new TrailRecords.Buffer(INITIAL_BUFFER);
    private static final int INITIAL_BUFFER = 16 * 1024;
    private static final int MAX_KEPT_BUFFER = 1 << 20;
    private volatile boolean closed;

    private LoggedStore(IndexStore index, Path trailDir, TrailLog trail, FileChannel lockFile, ChainHead head) {
        this.index = index;
        this.trailDir = trailDir;
        this.trail = trail;
        this.lockFile = lockFile;
        this.head = head;
        this.indexedSeq = head.lastGlobalSeq();
        this.appendedSeq = head.lastGlobalSeq();
        this.indexer = trail == null ? null : Thread.ofPlatform().name("audit-indexer").daemon(true).start(this::indexLoop);
    }

    /** Where the trail of the store file {@code dbFile} lives: a directory beside it. */
    public static Path trailDirectory(Path dbFile) {
        Path absolute = dbFile.toAbsolutePath();
        return absolute.resolveSibling(absolute.getFileName() + ".trail");
    }

    /** Opens the store for the gateway: recovers what the log holds beyond the index, then appends. */
    public static LoggedStore open(Path dbFile) {
        return open(dbFile, TrailLog.DEFAULT_SEGMENT_BYTES);
    }

    /** @param segmentBytes the size at which the trail moves to a new segment file */
    public static LoggedStore open(Path dbFile, long segmentBytes) {
        return open(trailDirectory(dbFile), segmentBytes, () -> EmbeddedStore.open(dbFile));
    }

    /**
     * Opens a store whose index is {@code opener}'s (the embedded file, or PostgreSQL shared with other
     * replicas, each with its own trail and chain), with its trail in {@code dir}.
     */
    public static LoggedStore open(Path dir, long segmentBytes, java.util.function.Supplier<IndexStore> opener) {
        FileChannel lock = lock(dir).orElseThrow(() -> new AuditStoreException("the audit trail " + dir
                + " is in use by another gateway process; one process writes a store (give each its own, or stop the other)"));
        IndexStore index = null;
        TrailLog trail = null;
        try {
            index = opener.get();
            Recovery recovery = new Recovery(index);
            trail = TrailLog.open(dir, segmentBytes, recovery::accept);
            recovery.finish();
            ChainHead head = index.head();
            trail.deleteIndexedUpTo(head.lastGlobalSeq());
            if (recovery.recovered > 0) {
                log.info("audit trail {}: indexed {} event(s) recorded before the last stop", dir, recovery.recovered);
            }
            return new LoggedStore(index, dir, trail, lock, head);
        } catch (RuntimeException | Error e) {
            if (trail != null) trail.close();
            if (index != null) index.close();
            release(dir, lock);
            throw e;
        }
    }

    /**
     * Opens the store to read it from another process (the CLI). While a gateway owns the trail, this
     * waits until its index holds every event the log held when opened; when none does, it indexes
     * the log itself first (after a crash), exactly as the gateway would on start.
     */
    public static AuditStore openForReading(Path dbFile) {
        Path dir = trailDirectory(dbFile);
        Optional<FileChannel> lock = OWNED.contains(dir) ? Optional.empty() : lock(dir);
        if (lock.isPresent()) {
            release(dir, lock.get());
            return open(dbFile); // nobody writes it: recover, and release the lock on close
        }
        EmbeddedStore index = EmbeddedStore.open(dbFile);
        try {
            long target = TrailLog.lastEventSeq(dir);
            long deadline = System.nanoTime() + INDEX_WAIT.toNanos();
            while (index.head().lastGlobalSeq() < target) {
                if (System.nanoTime() > deadline) {
                    throw new AuditStoreException("the running gateway has not indexed its audit trail up to event "
                            + target + " within " + INDEX_WAIT.toSeconds() + " s (it is at "
                            + index.head().lastGlobalSeq() + "); see its /readyz");
                }
                Thread.sleep(5);
            }
            return index;
        } catch (IOException e) {
            index.close();
            throw new AuditStoreException("cannot read the audit trail in " + dir + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            index.close();
            throw new AuditStoreException("interrupted while waiting for the audit index", e);
        } catch (RuntimeException e) {
            index.close();
            throw e;
        }
    }

    /** The lock on {@code dir}, or empty when another process (or this one) holds it. */
    private static Optional<FileChannel> lock(Path dir) {
        try {
            Files.createDirectories(dir);
            if (!OWNED.add(dir)) return Optional.empty();
            FileChannel ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                ch.close();
                OWNED.remove(dir);
                return Optional.empty();
            }
            return Optional.of(ch);
        } catch (IOException e) {
            OWNED.remove(dir);
            throw new AuditStoreException("cannot lock the audit trail " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void release(Path dir, FileChannel lock) {
        try {
            lock.close();
        } catch (IOException ignored) {
            // the lock goes with the process anyway
        } finally {
            OWNED.remove(dir);
        }
    }

    /** The database behind the trail, for what is not the trail (approval requests, grants). */
    public IndexStore index() {
        return index;
    }

    public Path trailDirectory() {
        return trailDir;
    }

    @Override
    public List<StoredEvent> append(List<NewSession> sessions, List<LinkedEvent> events) {
        return append(sessions, events, true);
    }

    /**
     * Writes the batch to the log (one {@code write()} into the segment); with {@code sync} also forces it to disk. The
     * events must continue the chain head ({@link #head}); the index checks it again when it takes them.
     */
    @Override
    public List<StoredEvent> append(List<NewSession> sessions, List<LinkedEvent> events, boolean sync) {
        long position;
        synchronized (this) {
            if (closed) throw new AuditStoreException("audit store " + index.describe() + " is closed");
            long seq = head.lastGlobalSeq();
            String hash = head.lastGlobalHash();
            for (LinkedEvent e : events) {
                ChainLink l = e.link();
                if (l.globalSeq() != seq + 1 || !l.globalPrevHash().equals(hash)) {
                    throw new AuditStoreException("event " + l.globalSeq() + " does not continue the global chain (the trail holds "
                            + seq + "); was it appended by another writer?");
                }
                seq = l.globalSeq();
                hash = l.globalHash();
            }
            encoded.reset();
            TrailRecords.encode(sessions, events, encoded);
            position = trail.append(encoded.array(), encoded.size(), seq);
            if (encoded.array().length > MAX_KEPT_BUFFER) encoded = new TrailRecords.Buffer(INITIAL_BUFFER);
            head = new ChainHead(seq, hash);
            appendedSeq = seq;
            toIndex.add(new Batch(sessions, events));
        }
        if (sync) trail.force(position);
        return StoredEvent.appended(events);
    }

    @Override
    public boolean forcesSeparately() {
        return true;
    }

    @Override
    public void force() {
        trail.force(trail.written());
    }

    @Override
    public synchronized ChainHead head() {
        return head;
    }

    @Override
    public Optional<SessionHead> sessionHead(String sessionId) {
        awaitIndexed();
        return index.sessionHead(sessionId);
    }

    @Override
    public List<SessionSummary> sessions(SessionQuery query) {
        awaitIndexed();
        return index.sessions(query);
    }

    @Override
    public Optional<SessionSummary> session(String sessionId) {
        awaitIndexed();
        return index.session(sessionId);
    }

    @Override
    public List<StoredEvent> events(String sessionId) {
        awaitIndexed();
        return index.events(sessionId);
    }

    @Override
    public void scan(AuditScan scan) {
        awaitIndexed();
        index.scan(scan);
    }

    /** Empty while the index keeps up with the log; else why it does not (the trail itself is intact). */
    public Optional<String> indexBehindBecause() {
        String failure = indexFailure;
        return failure == null ? Optional.empty()
                : Optional.of("the audit index is " + (appendedSeq - indexedSeq) + " event(s) behind the trail: " + failure);
    }

    /** Waits until the index holds every event appended before this call. */
    private void awaitIndexed() {
        long target = appendedSeq;
        if (indexedSeq >= target) return;
        long deadline = System.nanoTime() + INDEX_WAIT.toNanos();
        synchronized (indexed) {
            readersWaiting++;
            if (indexer != null) LockSupport.unpark(indexer);
            try {
                while (indexedSeq < target) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || closed) {
                        throw new AuditStoreException("the audit index did not catch up with the trail (event " + target
                                + ", indexed " + indexedSeq + ")" + (indexFailure == null ? "" : ": " + indexFailure));
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(indexed, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new AuditStoreException("interrupted while waiting for the audit index", e);
                    }
                }
            } finally {
                readersWaiting--;
            }
        }
    }

    /**
     * Feeds the index from the queue. The log is the durable copy, so the index commits without
     * {@code fsync} ({@code synchronous=NORMAL}: it survives a crash of the process, and after a power
     * loss {@link #open} re-indexes from the log), except for the commit that lets closed segments be
     * deleted: a segment goes only once the index holding its events is on disk. Under load the
     * indexer gathers what arrives within {@link #INDEX_GATHER_NANOS} into one transaction.
     */
    private void indexLoop() {
        // Background work: it keeps its share of the CPU, but does not delay the data path's threads when they wake.
        Libc.batchSchedulingForCurrentThread();
        List<Batch> batches = new ArrayList<>();
        long backoffMillis = 50;
        boolean stopping = false;
        while (true) {
            try {
                if (batches.isEmpty()) {
                    batches.add(toIndex.take());
                    // Under load more arrive at once: one transaction for them costs less than one each.
                    if (readersWaiting == 0 && !closed && toIndex.size() < INDEX_BATCH) LockSupport.parkNanos(INDEX_GATHER_NANOS);
                }
                toIndex.drainTo(batches, INDEX_BATCH);
            } catch (InterruptedException e) {
                return;
            }
            stopping |= batches.removeIf(b -> b == STOP); // by identity: a record's equals would compare every event
            if (batches.isEmpty() && stopping) return;
            List<NewSession> sessions = new ArrayList<>();
            List<LinkedEvent> events = new ArrayList<>();
            for (Batch b : batches) {
                sessions.addAll(b.sessions());
                events.addAll(b.events());
            }
            try {
                long last = events.isEmpty() ? indexedSeq : events.getLast().link().globalSeq();
                boolean releasesSegments = trail.oldestClosedLastSeq() <= last;
                index.append(sessions, events, releasesSegments || stopping);
                batches.clear();
                backoffMillis = 50;
                if (indexFailure != null) log.info("audit index {}: caught up again", index.describe());
                indexFailure = null;
                if (!events.isEmpty()) {
                    synchronized (indexed) {
                        indexedSeq = last;
                        indexed.notifyAll();
                    }
                    if (releasesSegments) trail.deleteIndexedUpTo(last);
                }
                if (stopping) return; // STOP came with the last events: nothing follows it
            } catch (RuntimeException e) {
                // The trail holds the events: keep them, and try again (the reads wait, then fail).
                if (indexFailure == null) log.warn("audit index {}: {}; retrying", index.describe(), e.getMessage());
                indexFailure = e.getMessage();
                if (stopping) return; // the next open indexes them from the trail
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException ie) {
                    return;
                }
                backoffMillis = Math.min(2_000, backoffMillis * 2);
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        if (indexer != null) {
            toIndex.add(STOP);
            LockSupport.unpark(indexer);
            try {
                indexer.join(INDEX_WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            indexer.interrupt();
        }
        synchronized (indexed) {
            indexed.notifyAll();
        }
        if (trail != null) trail.close();
        index.close();
        if (lockFile != null) release(trailDir, lockFile);
    }

    /** Indexes the log's records beyond the index, in batches, as {@link TrailLog#open} replays them. */
    private static final class Recovery {
        private final IndexStore index;
        private final long indexedSeq;
        private long expected;
        private final List<NewSession> sessions = new ArrayList<>();
        private final List<LinkedEvent> events = new ArrayList<>();
        long recovered;

        Recovery(IndexStore index) {
            this.index = index;
            this.indexedSeq = index.head().lastGlobalSeq();
            this.expected = indexedSeq + 1;
        }

        void accept(TrailRecords.Line line) {
            if (line.session() != null) {
                // Written with its first event; already indexed when that event is.
                sessions.add(line.session());
                return;
            }
            LinkedEvent e = line.event();
            long seq = e.link().globalSeq();
            if (seq <= indexedSeq) {
                sessions.clear();
                return;
            }
            if (seq != expected) {
                throw new AuditStoreException("the audit trail lacks events " + expected + " to " + (seq - 1)
                        + ": the index ends at event " + indexedSeq + " and the trail continues at " + seq
                        + " (a segment was removed, or the index file was replaced by an older copy); refusing to"
                        + " open rather than record on top of a gap");
            }
            expected = seq + 1;
            events.add(e);
            if (events.size() >= RECOVERY_BATCH) flush();
        }

        void finish() {
            flush();
        }

        private void flush() {
            if (events.isEmpty()) return;
            List<NewSession> fresh = new ArrayList<>();
            for (NewSession s : sessions) if (index.sessionHead(s.id()).isEmpty()) fresh.add(s);
            index.append(fresh, events, true);
            recovered += events.size();
            sessions.clear();
            events.clear();
        }
    }
}
