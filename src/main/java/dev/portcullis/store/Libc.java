package dev.portcullis.store;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The few C library calls the JDK has no API for, through the foreign function interface: reserving a
 * file's blocks ({@code posix_fallocate}) and a thread's scheduling policy ({@code sched_setscheduler} of
 * the calling thread). Where the C library or the kernel lacks them (not Linux), they do nothing: files
 * stay sparse, and threads keep their policy.
 */
final class Libc {
    private static final int O_WRONLY = 1;
    private static final int O_CLOEXEC = 0x80000;
    private static final int SCHED_BATCH = 3;
    private static final int SCHED_IDLE = 5;
    private static final MethodHandle OPEN;
    private static final MethodHandle FALLOCATE;
    private static final MethodHandle CLOSE;
    private static final MethodHandle STRERROR;
    private static final MethodHandle GETTID;
    private static final MethodHandle SETSCHEDULER;
    private static final MethodHandle PAGESIZE;
    private static final VarHandle ERRNO = Linker.Option.captureStateLayout()
            .varHandle(MemoryLayout.PathElement.groupElement("errno"));

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        OPEN = downcall(linker, libc, "open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));
        FALLOCATE = downcall(linker, libc, "posix_fallocate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
        CLOSE = downcall(linker, libc, "close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        STRERROR = downcall(linker, libc, "strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        GETTID = downcall(linker, libc, "gettid", FunctionDescriptor.of(JAVA_INT));
        SETSCHEDULER = downcall(linker, libc, "sched_setscheduler", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        PAGESIZE = downcall(linker, libc, "getpagesize", FunctionDescriptor.of(JAVA_INT));
    }

    /** The function {@code name} of the C library, or null where it has none. */
    private static MethodHandle downcall(Linker linker, SymbolLookup libc, String name, FunctionDescriptor type,
                                        Linker.Option... options) {
        return libc.find(name).map(address -> linker.downcallHandle(address, type, options)).orElse(null);
    }

    private Libc() {
    }

    /** Reserves the first {@code bytes} of {@code file} on disk, so that later writes into them cannot meet a full disk. */
    static void reserve(Path file, long bytes) throws IOException {
        if (OPEN == null || FALLOCATE == null || CLOSE == null || STRERROR == null) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(file.toString()), O_WRONLY | O_CLOEXEC, 0);
            if (fd < 0) throw new IOException("cannot open " + file + ": " + message((int) ERRNO.get(state, 0L)));
            int error;
            try {
                error = (int) FALLOCATE.invokeExact(fd, 0L, bytes);
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
            if (error != 0) throw new IOException("cannot reserve " + bytes + " bytes for " + file + ": " + message(error));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Puts the calling (platform) thread under {@code SCHED_BATCH}: the same share of the CPU as before, but
     * when it runs it does not take the CPU from threads that wake up, which keep their turn. For background
     * work beside a data path. Allowed without privileges; returns false where it cannot be set.
     */
    static boolean batchSchedulingForCurrentThread() {
        return schedulingForCurrentThread(SCHED_BATCH);
    }

    /**
     * Puts the calling (platform) thread under {@code SCHED_IDLE}: it runs when a core has nothing else
     * to run, and any other thread that wakes takes the core from it at once. For work that may wait as
     * long as the machine is busy (there must be a bound elsewhere for when it always is). One way:
     * without privileges, a thread cannot leave {@code SCHED_IDLE} again. Returns false where it cannot be set.
     */
    static boolean idleSchedulingForCurrentThread() {
        return schedulingForCurrentThread(SCHED_IDLE);
    }

    /** The kernel's id of the calling (platform) thread, as in /proc/self/task; -1 where it cannot be read. */
    static int currentThreadId() {
        if (GETTID == null || Thread.currentThread().isVirtual()) return -1;
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            return -1;
        }
    }

    private static boolean schedulingForCurrentThread(int policy) {
        if (GETTID == null || SETSCHEDULER == null || Thread.currentThread().isVirtual()) return false;
        try (Arena arena = Arena.ofConfined()) {
            int tid = (int) GETTID.invokeExact();
            MemorySegment param = arena.allocate(JAVA_INT); // struct sched_param { int sched_priority = 0; }
            return (int) SETSCHEDULER.invokeExact(tid, policy, param) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The size of a memory page; 4096 where the C library cannot say. */
    static int pageSize() {
        if (PAGESIZE == null) return 4096;
        try {
            return (int) PAGESIZE.invokeExact();
        } catch (Throwable t) {
            return 4096;
        }
    }

    private static String message(int errno) throws Throwable {
        MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
        return text.reinterpret(512).getString(0);
    }
}
