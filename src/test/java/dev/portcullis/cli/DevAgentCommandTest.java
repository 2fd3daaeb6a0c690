package dev.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code portcullis dev agent}, as a newcomer runs it: the tour it prints works, through the agent, and revoking it shows. */
class DevAgentCommandTest {
    @TempDir
    Path dir;

    @Test
    void theToursCommandsWorkThroughTheAgent() throws Exception {
        int admin = Ports.free();
        int listen = Ports.free();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.portcullis.cli.Main",
                "dev", "agent", "--admin", "127.0.0.1:" + admin, "--listen", "127.0.0.1:" + listen,
                "--agents", "127.0.0.1:" + Ports.free(), "--issuer-port", String.valueOf(Ports.free()), "--log-level", "warn"));
        Path out = dir.resolve("out.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("PORTCULLIS_DATA", dir.resolve("data").toString());
        Process p = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(out).contains("export PORTCULLIS_TOKEN=") && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
            String printed = Files.readString(out);
            Matcher agent = Pattern.compile("export TOKEN=(\\S+)").matcher(printed);
            Matcher platform = Pattern.compile("export PORTCULLIS_TOKEN=(\\S+)").matcher(printed);
            assertThat(agent.find() && platform.find()).as(printed).isTrue();
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> users = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listen + "/api/v1/users?limit=2"))
                    .header("Authorization", "Bearer " + agent.group(1)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(users.statusCode()).as(users.body()).isEqualTo(200);
            assertThat(users.body()).contains("\"login\"").doesNotContain("@example.com\"");
            HttpResponse<String> revoked = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/api/v1/agents/okta-edge/revoke"))
                    .header("Authorization", "Bearer " + platform.group(1)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
            HttpResponse<String> gone = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listen + "/api/v1/users?limit=2"))
                    .header("Authorization", "Bearer " + agent.group(1)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(gone.statusCode()).isEqualTo(502);
            assertThat(gone.body()).contains("network agent 'okta-edge'");
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }
}
