package dev.portcullis.sql;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The binding to libpg_query ({@code pg_query_parse}), PostgreSQL 15's own parser, through the Foreign
 * Function and Memory API.
 *
 * <p>libpg_query turns its tree into JSON recursively, without a stack check: {@code SELECT 1+1+...+1}
 * with 20,000 terms overflows a 1 MiB stack and would kill the JVM. So every call runs on one of a few
 * platform threads with a {@value #STACK_MIB} MiB stack (reserved, touched only as deep as needed), and
 * text over {@value #MAX_SQL_BYTES} bytes is refused before it reaches C; measured, one nesting level
 * costs about 100 bytes of stack and at least 2 bytes of text. libpg_query keeps its memory context per
 * OS thread, so it is thread-safe on any thread.
 *
 * <p>Text of at most {@value #INLINE_MAX_BYTES} bytes cannot nest deeper than {@value #INLINE_MAX_BYTES}/2
 * levels, about 100 KiB of stack, a tenth of a thread's default 1 MiB: it is parsed on the caller's own
 * thread (a virtual thread's carrier). Handing every statement to the parser threads cost two thread
 * wake-ups per parse, most of a short statement's parse time on a two-core machine.
 */
final class PgQuery {

    static final String NOT_FOUND = "libpg_query not found: install Debian's libpg-query-dev";
    static final int MAX_SQL_BYTES = 1024 * 1024;
    private static final int STACK_MIB = 256;
    static final int INLINE_MAX_BYTES = 2048;
    private static final ExecutorService PARSER_THREADS = Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()),
            Thread.ofPlatform().name("pg-query-", 0).daemon(true).stackSize(STACK_MIB * 1024L * 1024L).factory());

    /** {@code PgQueryParseResult { char* parse_tree; char* stderr_buffer; PgQueryError* error; }} */
    private static final StructLayout PARSE_RESULT = MemoryLayout.structLayout(
            ADDRESS.withName("parse_tree"), ADDRESS.withName("stderr_buffer"), ADDRESS.withName("error"));
    /** {@code PgQueryError { char* message; char* funcname; char* filename; int lineno; int cursorpos; char* context; }} */
    private static final StructLayout ERROR = MemoryLayout.structLayout(
            ADDRESS.withName("message"), ADDRESS.withName("funcname"), ADDRESS.withName("filename"),
            JAVA_INT.withName("lineno"), JAVA_INT.withName("cursorpos"), ADDRESS.withName("context"));
    private static final long TREE_OFFSET = PARSE_RESULT.byteOffset(MemoryLayout.PathElement.groupElement("parse_tree"));
    private static final long ERROR_OFFSET = PARSE_RESULT.byteOffset(MemoryLayout.PathElement.groupElement("error"));
    private static final long MESSAGE_OFFSET = ERROR.byteOffset(MemoryLayout.PathElement.groupElement("message"));
    private static final long CURSOR_OFFSET = ERROR.byteOffset(MemoryLayout.PathElement.groupElement("cursorpos"));

    /** {@code PgQueryScanResult { PgQueryProtobuf { size_t len; char* data; } pbuf; char* stderr_buffer; PgQueryError* error; }} */
    private static final StructLayout SCAN_RESULT = MemoryLayout.structLayout(
            JAVA_LONG.withName("len"), ADDRESS.withName("data"), ADDRESS.withName("stderr_buffer"), ADDRESS.withName("error"));
    private static final long SCAN_LEN_OFFSET = SCAN_RESULT.byteOffset(MemoryLayout.PathElement.groupElement("len"));
    private static final long SCAN_DATA_OFFSET = SCAN_RESULT.byteOffset(MemoryLayout.PathElement.groupElement("data"));
    private static final long SCAN_ERROR_OFFSET = SCAN_RESULT.byteOffset(MemoryLayout.PathElement.groupElement("error"));

    private static final PgQuery INSTANCE;
    private static final String LOAD_FAILURE;

    static {
        PgQuery loaded = null;
        String failure = null;
        try {
            loaded = load();
        } catch (RuntimeException | LinkageError e) {
            failure = NOT_FOUND + " (" + (e.getMessage() != null ? e.getMessage() : e.toString()) + ")";
        }
        INSTANCE = loaded;
        LOAD_FAILURE = failure;
    }

    private final MethodHandle parse;
    private final MethodHandle freeParseResult;
    private final MethodHandle scan;
    private final MethodHandle freeScanResult;

    private PgQuery(MethodHandle parse, MethodHandle freeParseResult, MethodHandle scan, MethodHandle freeScanResult) {
        this.parse = parse;
        this.freeParseResult = freeParseResult;
        this.scan = scan;
        this.freeScanResult = freeScanResult;
    }

    /** @throws IllegalStateException when the library could not be loaded */
    static PgQuery instance() {
        if (INSTANCE == null) throw new IllegalStateException(LOAD_FAILURE);
        return INSTANCE;
    }

    /** Debian's multiarch directory name for this machine (as bin/have-libpg-query finds it with {@code uname -m}). */
    private static String debianArchitecture() {
        String arch = System.getProperty("os.arch");
        return "amd64".equals(arch) ? "x86_64" : arch;
    }

    private static PgQuery load() {
        List<String> tried = new ArrayList<>();
        String configured = System.getProperty("portcullis.libpg_query");
        List<String> candidates = configured != null ? List.of(configured)
                : List.of("libpg_query.so", "libpg_query.so.1504.0", "/usr/lib/" + debianArchitecture() + "-linux-gnu/libpg_query.so");
        for (String name : candidates) {
            SymbolLookup lookup;
            try {
                lookup = SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException e) {
                tried.add(name);
                continue;
            }
            Linker linker = Linker.nativeLinker();
            MethodHandle parse = linker.downcallHandle(lookup.findOrThrow("pg_query_parse"),
                    FunctionDescriptor.of(PARSE_RESULT, ADDRESS));
            MethodHandle free = linker.downcallHandle(lookup.findOrThrow("pg_query_free_parse_result"),
                    FunctionDescriptor.ofVoid(PARSE_RESULT));
            MethodHandle scan = linker.downcallHandle(lookup.findOrThrow("pg_query_scan"),
                    FunctionDescriptor.of(SCAN_RESULT, ADDRESS));
            MethodHandle freeScan = linker.downcallHandle(lookup.findOrThrow("pg_query_free_scan_result"),
                    FunctionDescriptor.ofVoid(SCAN_RESULT));
            return new PgQuery(parse, free, scan, freeScan);
        }
        throw new IllegalStateException("tried " + String.join(", ", tried));
    }

    /** The parse tree as JSON. */
    String parseToJson(String sql) throws SqlParseException {
        if (sql.indexOf('\0') >= 0) {
            // C would see only the text before the NUL; the server never receives one in a query either
            throw new SqlParseException("the query text contains a NUL character", sql.indexOf('\0') + 1);
        }
        byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > MAX_SQL_BYTES) {
            throw new SqlParseException("the query text is " + utf8.length + " bytes; at most " + MAX_SQL_BYTES
                    + " can be judged", 0);
        }
        if (utf8.length <= INLINE_MAX_BYTES) return parseHere(utf8);
        try {
            return PARSER_THREADS.submit(() -> parseHere(utf8)).get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case SqlParseException p -> throw new SqlParseException(p.getMessage(), p.cursorPosition());
                case RuntimeException r -> throw r;
                case Error r -> throw r;
                default -> throw new IllegalStateException("calling libpg_query failed", e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SqlParseException("interrupted while parsing", 0);
        }
    }

    private String parseHere(byte[] utf8) throws SqlParseException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment input = arena.allocate(utf8.length + 1L);
            MemorySegment.copy(utf8, 0, input, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, utf8.length);
            MemorySegment result = (MemorySegment) parse.invokeExact((SegmentAllocator) arena, input);
            try {
                MemorySegment error = result.get(ADDRESS, ERROR_OFFSET);
                if (!error.equals(MemorySegment.NULL)) {
                    MemorySegment e = error.reinterpret(ERROR.byteSize());
                    throw new SqlParseException(cString(e.get(ADDRESS, MESSAGE_OFFSET), "the parser refused the text"),
                            e.get(JAVA_INT, CURSOR_OFFSET));
                }
                MemorySegment tree = result.get(ADDRESS, TREE_OFFSET);
                if (tree.equals(MemorySegment.NULL)) throw new SqlParseException("the parser returned no tree", 0);
                return cString(tree, "");
            } finally {
                freeParseResult.invokeExact(result);
            }
        } catch (SqlParseException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("calling libpg_query failed", t);
        }
    }

    /**
     * The tokens of {@code utf8} as PostgreSQL's own lexer ({@code scan.l}) finds them: libpg_query's
     * {@code ScanResult} protobuf message ({@code pg_query.proto}), or null when the lexer refuses the
     * text (an unterminated string or comment). Whitespace is not a token; comments are. The lexer does
     * not recurse, so any text is scanned on the caller's thread.
     */
    byte[] scan(byte[] utf8) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment input = arena.allocate(utf8.length + 1L);
            MemorySegment.copy(utf8, 0, input, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, utf8.length);
            MemorySegment result = (MemorySegment) scan.invokeExact((SegmentAllocator) arena, input);
            try {
                if (!result.get(ADDRESS, SCAN_ERROR_OFFSET).equals(MemorySegment.NULL)) return null;
                long length = result.get(JAVA_LONG, SCAN_LEN_OFFSET);
                MemorySegment data = result.get(ADDRESS, SCAN_DATA_OFFSET);
                if (length == 0) return new byte[0];
                if (data.equals(MemorySegment.NULL) || length > Integer.MAX_VALUE) return null;
                return data.reinterpret(length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            } finally {
                freeScanResult.invokeExact(result);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("calling libpg_query failed", t);
        }
    }

    private static String cString(MemorySegment pointer, String ifNull) {
        if (pointer.equals(MemorySegment.NULL)) return ifNull;
        return pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
