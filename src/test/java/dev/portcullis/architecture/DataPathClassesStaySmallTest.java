package dev.portcullis.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Fails the build when a class on the data path grows past {@value #MAX_CODE_LINES} lines of code:
 * a session class of a thousand lines is how one protocol's concerns end up tangled (TLS, login,
 * loops, statement state, approvals, masking in one place). Split it by responsibility instead.
 *
 * <p>Lines of code are the source file's non-blank lines that are not comment lines (a line whose
 * first characters are {@code //}, {@code /*} or {@code *}); javadoc is never a reason to split.
 */
class DataPathClassesStaySmallTest {
    static final int MAX_CODE_LINES = 400;

    /** What every operation passes through: adapters, the gate and everything it calls. */
    static final List<String> DATA_PATH = List.of("core", "identity", "gate", "policy", "approval", "masking", "sql",
            "recording", "store", "net", "http", "postgres");

    static final Path SOURCES = Path.of("src/main/java/dev/portcullis");

    static int codeLines(Path file) {
        try (Stream<String> lines = Files.lines(file)) {
            return (int) lines.map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("//") && !l.startsWith("/*") && !l.startsWith("*"))
                    .count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void noClassOnTheDataPathIsOverTheLimit() throws IOException {
        Map<String, Integer> tooLarge = new TreeMap<>();
        int files = 0;
        for (String pkg : DATA_PATH) {
            Path dir = SOURCES.resolve(pkg);
            assertThat(dir).as("data-path package %s", pkg).isDirectory();
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path f : walk.filter(p -> p.toString().endsWith(".java")).toList()) {
                    files++;
                    int n = codeLines(f);
                    if (n > MAX_CODE_LINES) tooLarge.put(SOURCES.relativize(f).toString(), n);
                }
            }
        }
        assertThat(files).as("source files looked at").isGreaterThan(50);
        assertThat(tooLarge).as("classes over %d lines of code; split them by responsibility", MAX_CODE_LINES).isEmpty();
    }

    @Test
    void theCountSkipsBlankAndCommentLines() throws IOException {
        Path f = Files.createTempFile("Sample", ".java");
        try {
            Files.writeString(f, """
                    /** A sample.
                     * Two lines of javadoc.
                     */
                    final class Sample {

                        // a comment
                        int x = 1; // counted
                    }
                    """);
            assertThat(codeLines(f)).isEqualTo(3);
        } finally {
            Files.delete(f);
        }
    }
}
