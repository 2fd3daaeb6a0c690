package dev.portcullis.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.WebDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An SSH command recorded by the gateway, played back as a terminal in the console: the real OpenSSH
 * client through the gateway to a real sshd, then headless Chromium running asciinema's player on the
 * recording, under the console's strict CSP.
 */
class SshReplayInTheConsoleTest {
    @TempDir
    static Path dir;
    static SshGatewayFixture f;
    static Path sshConfig;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(WebDriver.CHROMEDRIVER), "no /usr/bin/chromedriver (bin/setup installs it)");
        f = new SshGatewayFixture(dir);
        sshConfig = f.sshLogin(dir.resolve("agent"), "agent-1", "agents");
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @Test
    void anSreReplaysAnSshCommandAsATerminal() throws Exception {
        SshGatewayFixture.Run run = f.ssh(sshConfig, "web", "echo replay-marker-one && echo replay-marker-two");
        assertThat(run.exit()).as(run.err()).isZero();

        String console = "http://127.0.0.1:" + f.adminPort + "/console";
        // The issuer signs the next sign-in in at once as an sre (no login page: mock-oauth2-server's default).
        f.issuer.enqueueCallback(new DefaultOAuth2TokenCallback("default", "sre-1", "JWT", List.of("portcullis-console"),
                Map.of("groups", List.of("sre")), 3600));
        try (WebDriver browser = new WebDriver()) {
            browser.windowSize(1280, 800);
            browser.navigate(console + "/sessions?subject=agent-1&protocol=ssh");
            browser.click(browser.await("#sign-in"));
            browser.awaitText("#who", t -> t.contains("sre-1"));
            browser.awaitText("table#sessions tbody", t -> t.contains("agent-1"));
            browser.click(browser.await("table#sessions tbody tr a"));

            browser.awaitText("ol#events", t -> t.contains("echo replay-marker-one"));
            browser.await("div.cast .ap-player");
            browser.click(browser.await("div.cast .ap-player"));
            String terminal = browser.awaitText("div.cast .ap-term, div.cast .ap-terminal", t -> t.contains("replay-marker-two"));
            assertThat(terminal).contains("replay-marker-one");
            assertThat(browser.script("return document.querySelector('a.download-cast').getAttribute('href')").asText())
                    .matches("/api/v1/sessions/[0-9a-f-]{36}/casts/[0-9]+");
            browser.script("document.querySelector('div.cast').closest('li').scrollIntoView({block: 'start'})");
            browser.screenshot(Path.of("target/console-screenshots/ssh-replay.png"));
            assertThat(browser.consoleMessages()).noneMatch(m -> m.contains("Content Security Policy"));
        }
    }
}
