package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import dev.portcullis.testing.Kubectl;

/**
 * Streams through the gateway with the real kubectl: a watch and a followed log arrive as they happen
 * (nothing is gathered first), and a watch of Secrets shows their names only.
 */
class KubectlStreamsThroughGatewayTest {
    @TempDir
    static Path dir;
    static KubeGatewayFixture f;
    static Path agent;

    @BeforeAll
    static void start() throws Exception {
        f = new KubeGatewayFixture(dir);
        agent = f.kubeconfig("agent", f.token("agent-1", "agents"));
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    private static Process background(String version, Path out, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Kubectl.binary(version), "--kubeconfig", agent.toString(),
                "--cache-dir", dir.resolve("cache-" + version).toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    private static void waitFor(Path out, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (Files.exists(out) && Files.readString(out, StandardCharsets.UTF_8).contains(text)) return;
            Thread.sleep(50);
        }
        throw new AssertionError("'" + text + "' never showed; kubectl printed: " + (Files.exists(out) ? Files.readString(out) : ""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void aWatchShowsANewPodAsItAppears(String version) throws Exception {
        Path out = dir.resolve("watch-" + version + ".txt");
        Process watch = background(version, out, "get", "pods", "-n", "dev", "-w");
        try {
            waitFor(out, "web-1");
            String name = "added-" + version.replace(".", "");
            f.api.put("pods", "dev", KubeGatewayFixture.object("{\"metadata\":{\"name\":\"" + name + "\"}}"));
            waitFor(out, name);
        } finally {
            watch.destroy();
            watch.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void aWatchOfSecretsShowsNamesAndNeverAValue(String version) throws Exception {
        Path out = dir.resolve("watch-secrets-" + version + ".txt");
        Process watch = background(version, out, "get", "secrets", "-n", "staging", "-w", "-o", "json");
        try {
            waitFor(out, "\"db\"");
            String name = "token-" + version.replace(".", "");
            f.api.put("secrets", "staging", KubeGatewayFixture.object("{\"metadata\":{\"name\":\"" + name + "\"},\"stringData\":{\"key\":\""
                    + KubeGatewayFixture.SECRET_VALUE + "\"},\"data\":{\"k\":\"c2VjcmV0LXZhbHVlLWluLWJhc2U2NA==\"}}"));
            waitFor(out, name);
            String printed = Files.readString(out);
            assertThat(printed).doesNotContain(KubeGatewayFixture.SECRET_VALUE).doesNotContain("c2VjcmV0LXZhbHVlLWluLWJhc2U2NA==")
                    .doesNotContain("aHVudGVy");
        } finally {
            watch.destroy();
            watch.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void aFollowedLogShowsEachLineAsTheContainerWritesIt(String version) throws Exception {
        f.api.log("dev", "web-1", "started " + version);
        Path out = dir.resolve("logs-" + version + ".txt");
        Process logs = background(version, out, "logs", "-f", "web-1", "-n", "dev");
        try {
            waitFor(out, "started " + version);
            f.api.log("dev", "web-1", "served a request " + version);
            waitFor(out, "served a request " + version);
        } finally {
            logs.destroy();
            logs.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
