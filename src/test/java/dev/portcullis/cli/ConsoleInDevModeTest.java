package dev.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.Ports;
import dev.portcullis.testing.WebDriver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console in {@code portcullis dev}, as a newcomer meets it: one click on the development issuer's
 * "sign in as" page, then the call the tour holds for approval shows up and is approved, and the held call
 * goes through.
 */
class ConsoleInDevModeTest {
    @TempDir
    Path dir;

    @Test
    void oneClickSignInAndTheToursHeldCallIsApprovedInTheConsole() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(WebDriver.CHROMEDRIVER), "no /usr/bin/chromedriver (bin/setup installs it)");
        int admin = Ports.free();
        int listen = Ports.free();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.portcullis.cli.Main",
                "dev", "--admin", "127.0.0.1:" + admin, "--listen", "127.0.0.1:" + listen,
                "--issuer-port", String.valueOf(Ports.free()), "--log-level", "warn"));
        Path out = dir.resolve("out.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("PORTCULLIS_DATA", dir.resolve("data").toString());
        Process p = pb.start();
        try (WebDriver browser = new WebDriver()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(out).contains("export TOKEN=") && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
            String printed = Files.readString(out);
            Matcher token = Pattern.compile("export TOKEN=(\\S+)").matcher(printed);
            assertThat(token.find()).as(printed).isTrue();
            String console = "http://127.0.0.1:" + admin + "/console/";
            assertThat(printed).contains(console);

            browser.windowSize(1280, 800);
            browser.navigate(console);
            browser.click(browser.await("#sign-in"));
            browser.awaitText("h1", t -> t.contains("Development issuer"));
            browser.screenshot(Path.of("target/console-screenshots/dev-issuer-sign-in.png"));
            browser.click(browser.await("form button[type=submit]")); // the first choice: approver-1
            browser.awaitText("#who", t -> t.contains("approver-1"));

            // the tour's held call, made as the tour makes it
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> users = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listen + "/api/v1/users?limit=1"))
                    .header("Authorization", "Bearer " + token.group(1)).build(), HttpResponse.BodyHandlers.ofString());
            String user = users.body().replaceAll("(?s).*?\"id\":\"([^\"]+)\".*", "$1");
            CompletableFuture<HttpResponse<String>> held = http.sendAsync(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + listen + "/api/v1/users/" + user + "/roles")).timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + token.group(1)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"SUPER_ADMIN\"}")).build(), HttpResponse.BodyHandlers.ofString());

            browser.awaitText("#approvals-list", t -> t.contains("SUPER_ADMIN") || t.contains("/roles"));
            String id = browser.script("return document.querySelector('article.approval').dataset.id").asText();
            browser.click(browser.await("button.approve[data-id='" + id + "']"));
            assertThat(browser.awaitText("[data-message='" + id + "']", t -> t.startsWith("Approved") || t.contains("rror")))
                    .startsWith("Approved");

            HttpResponse<String> done = held.get(60, TimeUnit.SECONDS);
            assertThat(done.statusCode()).as(done.body()).isBetween(200, 201);
            assertThat(done.body()).contains("\"type\":\"SUPER_ADMIN\"");
            assertThat(browser.consoleMessages()).noneMatch(m -> m.contains("Content Security Policy"));
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }
}
