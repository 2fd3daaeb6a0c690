package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.approval.web.WebDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web page's Terminate button, in a real headless Chromium: a session admin sees the live psql
 * session and ends it with a reason; psql hears why (57P01); someone who is not a session admin sees no
 * live sessions at all.
 */
class TerminateFromTheWebPageTest {
    @TempDir
    Path data;
    PostgresGatewayFixture f;
    WebDriver browser;

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(WebDriver.CHROMEDRIVER), "no /usr/bin/chromedriver (bin/setup installs it)");
        f = new PostgresGatewayFixture(data, yaml -> yaml);
        browser = new WebDriver();
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) browser.close();
        if (f != null) f.close();
    }

    void signIn(String token) throws Exception {
        browser.navigate("http://127.0.0.1:" + f.adminPort + "/approvals");
        WebDriver.Element field = browser.await("#token");
        browser.type(field, token);
        browser.click(browser.await("#load"));
    }

    /** The id of {@code subject}'s live session, once it is open (through the API, as a session admin). */
    String liveSession(String admin, String subject) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/sessions/live"))
                    .header("Authorization", "Bearer " + admin).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            for (var s : new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("sessions")) {
                if (s.path("subject").asText().equals(subject)) return s.path("id").asText();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no live session of " + subject);
    }

    @Test
    void aSessionAdminEndsALivePsqlSessionWithAReasonAndOthersSeeNone() throws Exception {
        Path out = data.resolve("psql.out");
        Path err = data.resolve("psql.err");
        Process psql = f.startPsql("disable", f.token("agent-1", "agents"), out, err,
                "SELECT 1", "SELECT count(*) FROM generate_series(1, 2000000000)");
        String id = liveSession(f.token("dba-1", "dba"), "agent-1");

        // not a session admin: no live sessions shown
        signIn(f.token("someone", "agents"));
        browser.awaitText("#status", t -> !t.isEmpty() && !t.startsWith("Loading"));
        assertThat(browser.script("return document.getElementById('live').hidden").asBoolean()).isTrue();
        assertThat(browser.find("article.live")).isEmpty();

        // a session admin: the session, a reason, Terminate
        browser.click(browser.await("#forget"));
        signIn(f.token("dba-1", "dba"));
        WebDriver.Element card = browser.await("article.live[data-session='" + id + "']");
        assertThat(browser.text(card)).contains("agent-1").contains("postgres");
        browser.type(browser.await("article.live[data-session='" + id + "'] input.terminate-reason"), "runaway query");
        browser.click(browser.await("article.live[data-session='" + id + "'] button.terminate"));
        assertThat(browser.awaitText("article.live[data-session='" + id + "'] [role=alert]", t -> t.startsWith("Terminated")))
                .isEqualTo("Terminated by dba-1: runaway query");

        assertThat(psql.waitFor(10, TimeUnit.SECONDS)).as("psql's session ends").isTrue();
        assertThat(Files.readString(err)).contains("dba-1").contains("runaway query");
    }
}
