package dev.portcullis.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The C library calls the store makes: they take effect where the kernel reports them. */
class LibcTest {
    @TempDir
    Path dir;

    /** The scheduling policy of a thread of this process, as the kernel reports it (0 normal, 3 batch). */
    private static int policy(Path task) throws Exception {
        for (String line : Files.readAllLines(task.resolve("sched"))) {
            if (line.startsWith("policy")) return Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
        }
        throw new AssertionError("no policy in " + task);
    }

    @Test
    void aThreadPutUnderBatchSchedulingIsReportedSoByTheKernelAndOthersAreNot() throws Exception {
        AtomicReference<Integer> before = new AtomicReference<>();
        AtomicReference<Integer> after = new AtomicReference<>();
        AtomicReference<Boolean> set = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                before.set(policy(Path.of("/proc/thread-self")));
                set.set(Libc.batchSchedulingForCurrentThread());
                after.set(policy(Path.of("/proc/thread-self")));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        t.join();
        assertThat(set.get()).isTrue();
        assertThat(before.get()).isZero();
        assertThat(after.get()).isEqualTo(3);
        assertThat(policy(Path.of("/proc/thread-self"))).as("the calling thread only").isZero();

        boolean[] onVirtual = new boolean[1];
        Thread.ofVirtual().start(() -> onVirtual[0] = Libc.batchSchedulingForCurrentThread()).join();
        assertThat(onVirtual[0]).as("a virtual thread would change its carrier's policy: refused").isFalse();
    }

    @Test
    void theAuditIndexerAndTheTrailsSyncThreadRunUnderBatchScheduling() throws Exception {
        try (LoggedStore store = LoggedStore.open(dir.resolve("audit.db"))) {
            List<String> found = new ArrayList<>();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (found.size() < 2 && System.nanoTime() < deadline) {
                found.clear();
                try (var tasks = Files.list(Path.of("/proc/self/task"))) {
                    for (Path task : (Iterable<Path>) tasks::iterator) {
                        String name = Files.readString(task.resolve("comm")).trim();
                        if ((name.equals("audit-indexer") || name.startsWith("audit-trail-syn")) && policy(task) == 3) found.add(name);
                    }
                }
                Thread.sleep(20);
            }
            assertThat(found).anyMatch(n -> n.equals("audit-indexer")).anyMatch(n -> n.startsWith("audit-trail-syn"));
        }
    }
}
