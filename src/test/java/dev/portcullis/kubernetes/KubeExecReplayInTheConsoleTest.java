package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.testing.Kubectl;
import dev.portcullis.testing.WebDriver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A {@code kubectl exec} recorded by the gateway, played back as a terminal in the console (headless Chromium). */
class KubeExecReplayInTheConsoleTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static KubeGatewayFixture f;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(WebDriver.CHROMEDRIVER), "no /usr/bin/chromedriver (bin/setup installs it)");
        f = new KubeGatewayFixture(dir);
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    /** The recorded session whose events include a terminal recording, once it is recorded. */
    static String sessionWithACast(String sre) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            JsonNode list = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort
                    + "/api/v1/sessions?subject=agent-1&protocol=kubernetes")).header("Authorization", "Bearer " + sre).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            for (JsonNode s : list.path("sessions")) {
                JsonNode detail = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort
                        + "/api/v1/sessions/" + s.path("id").asText())).header("Authorization", "Bearer " + sre).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                for (JsonNode e : detail.path("events")) if (e.path("cast").asBoolean()) return s.path("id").asText();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no recorded exec");
    }

    @Test
    void anSreReplaysAKubectlExecAsATerminal() throws Exception {
        Path agent = f.kubeconfig("agent", f.token("agent-1", "agents"));
        Process kubectl = new ProcessBuilder(Kubectl.binary("1.33"), "--kubeconfig", agent.toString(), "--cache-dir",
                dir.resolve("cache").toString(), "exec", "web-1", "-n", "dev", "--", "ls", "-la").redirectErrorStream(true).start();
        String out = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(kubectl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("app.py");
        String id = sessionWithACast(f.token("sre-1", "sre"));

        f.issuer.enqueueCallback(new DefaultOAuth2TokenCallback("default", "sre-2", "JWT", List.of("portcullis-console"),
                Map.of("groups", List.of("sre")), 3600));
        try (WebDriver browser = new WebDriver()) {
            browser.windowSize(1280, 800);
            browser.navigate("http://127.0.0.1:" + f.adminPort + "/console/sessions/" + id);
            browser.click(browser.await("#sign-in"));
            browser.awaitText("#who", t -> t.contains("sre-2"));
            browser.awaitText("ol#events", t -> t.contains("exec pods/web-1 in dev: ls -la"));
            browser.click(browser.await("div.cast .ap-player"));
            assertThat(browser.awaitText("div.cast .ap-term, div.cast .ap-terminal", t -> t.contains("app.py"))).contains("app.py");
            browser.script("document.querySelector('div.cast').closest('li').scrollIntoView({block: 'start'})");
            browser.screenshot(Path.of("target/console-screenshots/kubectl-exec-replay.png"));
            assertThat(browser.consoleMessages()).noneMatch(m -> m.contains("Content Security Policy"));
        }
    }
}
