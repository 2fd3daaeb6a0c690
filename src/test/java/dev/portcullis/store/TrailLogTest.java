package dev.portcullis.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The write-ahead log's files: segments, rotation, what open() cuts and what it refuses. */
class TrailLogTest {
    private static final Instant T = Instant.parse("2026-12-03T10:00:00Z");

    @TempDir
    Path dir;

    /** A batch of one event with global number {@code seq} (hashes are not checked at this level). */
    private static byte[] batch(long seq) {
        NewEvent e = new NewEvent("s1", T.plusSeconds(seq), "PC2000", "{\"n\":" + seq + "}", false);
        String h = String.format("%064x", seq);
        String prev = String.format("%064x", seq - 1);
        ChainLink link = new ChainLink(seq, prev, h, seq, prev, h);
        List<NewSession> sessions = seq == 1 ? List.of(new NewSession("s1", "alice", "jti", "okta", "http", "127.0.0.1", T))
                : List.of();
        TrailRecords.Buffer out = new TrailRecords.Buffer(512);
        TrailRecords.encode(sessions, List.of(new LinkedEvent(e, link)), out);
        return out.toByteArray();
    }

    private static void append(TrailLog log, long seq) {
        byte[] b = batch(seq);
        log.append(b, b.length, seq);
    }

    private static List<Long> replayed(Path dir, long segmentBytes) {
        List<Long> seqs = new ArrayList<>();
        try (TrailLog log = TrailLog.open(dir, segmentBytes, l -> {
            if (l.event() != null) seqs.add(l.event().link().globalSeq());
        })) {
            return seqs;
        }
    }

    @Test
    void appendsAreReplayedInOrderAcrossSegmentsAndTheLastEventIsKnownWithoutOpening() throws Exception {
        try (TrailLog log = TrailLog.open(dir, 1, l -> { })) {
            for (long seq = 1; seq <= 4; seq++) append(log, seq);
            log.force(log.written());
        }
        assertThat(TrailLog.segments(dir)).hasSize(4); // a segment of 1 byte holds one batch
        assertThat(replayed(dir, 1)).containsExactly(1L, 2L, 3L, 4L);
        assertThat(TrailLog.lastEventSeq(dir)).isEqualTo(4);
    }

    @Test
    void aTornLastLineOfTheNewestSegmentIsCutAndAppendingContinuesOnALineBoundary() throws Exception {
        try (TrailLog log = TrailLog.open(dir, 1 << 20, l -> { })) {
            append(log, 1);
            append(log, 2);
        }
        Path segment = dir.resolve(TrailLog.segment(dir, 1).getFileName());
        long intact = Files.size(segment);
        byte[] third = batch(3);
        Files.write(segment, java.util.Arrays.copyOf(third, third.length / 2), StandardOpenOption.APPEND); // a crash mid-write

        try (TrailLog log = TrailLog.open(dir, 1 << 20, l -> { })) {
            append(log, 3);
        }
        assertThat(Files.size(segment)).as("the torn half is gone").isEqualTo(intact + third.length);
        assertThat(replayed(dir, 1 << 20)).containsExactly(1L, 2L, 3L);
    }

    @Test
    void theNextSegmentIsMadeAheadOffTheWritersThreadAndAnUnusedOneDoesNotMakeATornSegmentLookClosed() throws Exception {
        long segmentBytes = 4 * batch(1).length; // half full after two batches
        try (TrailLog log = TrailLog.open(dir, segmentBytes, l -> { })) {
            for (long seq = 1; seq <= 3; seq++) append(log, seq);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (TrailLog.segments(dir).size() < 2 && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(TrailLog.segments(dir)).as("the sync thread made segment 2 ahead").containsExactly(1L, 2L);
            byte[] ahead = Files.readAllBytes(TrailLog.segment(dir, 2));
            assertThat(ahead).as("at its full size, holding nothing yet").hasSize((int) segmentBytes).containsOnly((byte) 0);
            long deadlineForced = System.nanoTime() + 5_000_000_000L;
            while (log.forcedUpTo() < log.written() && System.nanoTime() < deadlineForced) Thread.sleep(20);
            assertThat(log.forcedUpTo()).as("and forced what was written, unasked").isEqualTo(log.written());
        }
        // A crash mid-write into segment 1, with the empty segment 2 beside it: 1 is still the newest written.
        Path first = TrailLog.segment(dir, 1);
        long intact = Files.size(first);
        byte[] fourth = batch(4);
        Files.write(first, java.util.Arrays.copyOf(fourth, fourth.length / 2), StandardOpenOption.APPEND);

        try (TrailLog log = TrailLog.open(dir, segmentBytes, l -> { })) {
            assertThat(TrailLog.segments(dir)).containsExactly(1L);
            append(log, 4);
            assertThat(Files.readAllBytes(first)).as("the torn half is gone: batch 4 follows batch 3")
                    .startsWith(java.util.Arrays.copyOf(Files.readAllBytes(first), (int) intact))
                    .containsSequence(fourth);
            append(log, 5); // rotates into a segment 2 again
        }
        assertThat(replayed(dir, segmentBytes)).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void appendsGoIntoAFileMadeAtTheSegmentsSizeWithItsBlocksReservedAndClosingCutsItBackToTheRecords() throws Exception {
        long segmentBytes = 1 << 20;
        Path first = TrailLog.segment(dir, 1);
        try (TrailLog log = TrailLog.open(dir, segmentBytes, l -> { })) {
            append(log, 1);
            assertThat(Files.size(first)).isEqualTo(segmentBytes);
            Process stat = new ProcessBuilder("stat", "-c", "%b %B", first.toString()).start();
            String[] blocks = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
            assertThat(stat.waitFor()).isZero();
            assertThat(Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]))
                    .as("posix_fallocate reserved the blocks: a full disk fails the open, not a later copy")
                    .isGreaterThanOrEqualTo(segmentBytes);
            byte[] read = Files.readAllBytes(first);
            byte[] one = batch(1);
            assertThat(java.util.Arrays.copyOf(read, one.length)).as("a reader sees the write at once").isEqualTo(one);
        }
        assertThat(Files.size(first)).isEqualTo(batch(1).length);
        assertThat(replayed(dir, segmentBytes)).containsExactly(1L);
    }

    @Test
    void aClosedSegmentsFileIsClosedAtOnceSoItsDiskIsFreedWhenDeleted() throws Exception {
        try (TrailLog log = TrailLog.open(dir, 1, l -> { })) { // every batch starts a segment
            for (long seq = 1; seq <= 3; seq++) append(log, seq);
            String open = openFiles();
            assertThat(open).as("the segment being written is open").contains(TrailLog.segment(dir, 3).toString());
            assertThat(open).as("closed segments are not").doesNotContain(TrailLog.segment(dir, 1).toString())
                    .doesNotContain(TrailLog.segment(dir, 2).toString());
        }
        assertThat(openFiles()).doesNotContain(dir.toString());
    }

    /** The files this process holds open, one per line, from /proc/self/fd. */
    private static String openFiles() throws Exception {
        StringBuilder out = new StringBuilder();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    out.append(Files.readSymbolicLink(fd)).append('\n');
                } catch (java.io.IOException gone) {
                    // closed meanwhile (the listing's own descriptor)
                }
            }
        }
        return out.toString();
    }

    @Test
    void aForceOfAClosedSegmentHasNothingToDoAndOneOfAnAbandonedSegmentFails() throws Exception {
        byte[] line = "{\"records\":1}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        TrailSegment closed = TrailSegment.open(dir.resolve("closed"), 0, 1 << 16);
        closed.append(line, line.length);
        closed.close();
        closed.force(line.length); // forced when it closed
        assertThat(Files.readAllBytes(dir.resolve("closed"))).isEqualTo(line);

        TrailSegment abandoned = TrailSegment.open(dir.resolve("abandoned"), 0, 1 << 16);
        abandoned.append(line, line.length);
        abandoned.abandon();
        assertThatThrownBy(() -> abandoned.force(line.length)).isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("could not be written");
    }

    @Test
    void aSegmentLeftAtItsFullSizeByACrashIsReadToItsRecordsAndATornCopyIsCut() throws Exception {
        // What a kill -9 leaves: the writes are in the file, followed by the zeros it was made with,
        // the last copy possibly cut short.
        long segmentBytes = 1 << 16;
        Path first = TrailLog.segment(dir, 1);
        byte[] one = batch(1);
        byte[] two = batch(2);
        byte[] three = batch(3);
        byte[] crashed = new byte[(int) segmentBytes];
        System.arraycopy(one, 0, crashed, 0, one.length);
        System.arraycopy(two, 0, crashed, one.length, two.length);
        System.arraycopy(three, 0, crashed, one.length + two.length, three.length / 2);
        Files.write(first, crashed);
        assertThat(TrailLog.lastEventSeq(dir)).isEqualTo(2);

        try (TrailLog log = TrailLog.open(dir, segmentBytes, l -> { })) {
            append(log, 3);
            append(log, 4);
        }
        assertThat(replayed(dir, segmentBytes)).containsExactly(1L, 2L, 3L, 4L);
        assertThat(Files.size(first)).isEqualTo(one.length + two.length + three.length + batch(4).length);
    }

    @Test
    void blocksThatCannotBeReservedAreAnErrorWithTheSystemsReasonNotALaterFaultInACopy() throws Exception {
        Path file = Files.createFile(dir.resolve("huge"));
        assertThatThrownBy(() -> Libc.reserve(file, 1L << 50)) // a pebibyte: no disk here has it
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("cannot reserve " + (1L << 50) + " bytes for " + file)
                .message().satisfiesAnyOf(m -> assertThat(m).contains("No space left on device"),
                        m -> assertThat(m).contains("File too large"));
        assertThat(Files.size(file)).isZero();
    }

    @Test
    void aSegmentThatIsNotARegularFileIsRefusedRatherThanMappedToNowhere() throws Exception {
        // /dev/null or /dev/zero would take every record and keep none.
        try (TrailLog log = TrailLog.open(dir, 1, l -> { })) { // every batch starts a segment
            append(log, 1);
            Files.deleteIfExists(TrailLog.segment(dir, 2)); // perhaps made ahead
            Files.createSymbolicLink(TrailLog.segment(dir, 2), Path.of("/dev/zero"));
            assertThatThrownBy(() -> append(log, 2))
                    .isInstanceOf(AuditStoreException.class).hasMessageContaining("not a regular file");
        }
        assertThatThrownBy(() -> TrailLog.open(dir, 1, l -> { }))
                .isInstanceOf(AuditStoreException.class).hasMessageContaining("not a regular file");
    }

    @Test
    void aDamagedSegmentThatWasClosedRefusesToOpenRatherThanDropEvents() throws Exception {
        try (TrailLog log = TrailLog.open(dir, 1, l -> { })) {
            for (long seq = 1; seq <= 3; seq++) append(log, seq);
        }
        Path middle = TrailLog.segment(dir, 2);
        byte[] bytes = Files.readAllBytes(middle);
        bytes[0] = 'X'; // one byte changed in a segment that was complete when closed
        Files.write(middle, bytes);

        assertThatThrownBy(() -> TrailLog.open(dir, 1, l -> { }))
                .isInstanceOf(AuditStoreException.class)
                .hasMessageContaining(middle.toString())
                .hasMessageContaining("corrupt")
                .hasMessageContaining("altered");
        assertThat(Files.readAllBytes(middle)).isEqualTo(bytes); // left as found, for forensics
    }

    @Test
    void onlyClosedSegmentsWhoseEventsAreAllIndexedAreDeleted() throws Exception {
        try (TrailLog log = TrailLog.open(dir, 1, l -> { })) {
            for (long seq = 1; seq <= 4; seq++) append(log, seq); // segments 1..3 closed, 4 current
            assertThat(log.oldestClosedLastSeq()).isEqualTo(1);
            log.deleteIndexedUpTo(2);
            assertThat(TrailLog.segments(dir)).containsExactly(3L, 4L);
            assertThat(log.oldestClosedLastSeq()).isEqualTo(3);
            log.deleteIndexedUpTo(4);
            assertThat(TrailLog.segments(dir)).containsExactly(4L); // the segment being written stays
            assertThat(log.oldestClosedLastSeq()).isEqualTo(Long.MAX_VALUE);
        }
    }
}
