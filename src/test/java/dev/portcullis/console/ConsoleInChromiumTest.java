package dev.portcullis.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.postgres.PostgresGatewayFixture;
import dev.portcullis.testing.WebDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console in a real headless Chromium, signed in through mock-oauth2-server's own login page (an OIDC
 * issuer over HTTP, authorization code flow with PKCE), in front of a real PostgreSQL and real psql
 * sessions. Each page is photographed under {@code target/console-screenshots/}.
 */
class ConsoleInChromiumTest {
    static final Path SHOTS = Path.of("target/console-screenshots");

    @TempDir
    static Path data;
    static PostgresGatewayFixture f;
    static String console;
    WebDriver browser;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(WebDriver.CHROMEDRIVER), "no /usr/bin/chromedriver (bin/setup installs it)");
        f = new PostgresGatewayFixture(data, yaml -> yaml, true);
        console = "http://127.0.0.1:" + f.adminPort + "/console";
        try (var c = f.admin(); var st = c.createStatement()) {
            for (String t : new String[] {"scratch_approve", "scratch_deny", "scratch_refused"}) {
                st.execute("CREATE TABLE " + t + " (id int)");
                st.execute("ALTER TABLE " + t + " OWNER TO " + PostgresGatewayFixture.DB_USER);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @BeforeEach
    void open() throws Exception {
        browser = new WebDriver();
        browser.windowSize(1280, 800);
    }

    @AfterEach
    void close(TestInfo test) throws Exception {
        if (browser == null) return;
        try {
            // Strict CSP: nothing the console or its player does may be refused by it.
            assertThat(browser.consoleMessages()).as("browser console").noneMatch(m -> m.contains("Content Security Policy"));
        } finally {
            browser.close();
        }
    }

    /** Signs in on the issuer's login page as {@code subject} with {@code groups}, starting from {@code page}. */
    void signIn(String page, String subject, String... groups) throws Exception {
        browser.navigate(console + page);
        browser.click(browser.await("#sign-in"));
        browser.type(browser.await("input[name=username]"), subject);
        StringBuilder claims = new StringBuilder("{\"groups\": [");
        for (int i = 0; i < groups.length; i++) claims.append(i == 0 ? "" : ", ").append('"').append(groups[i]).append('"');
        browser.type(browser.await("textarea[name=claims]"), claims.append("]}").toString());
        browser.click(browser.await("input[type=submit]"));
        browser.awaitText("#who", t -> t.contains(subject));
        assertThat(browser.currentUrl()).isEqualTo(console + page);
    }

    /** The id of the card ({@code selector}) that mentions {@code text}. */
    String cardId(String selector, String text) throws Exception {
        return browser.script("return [...document.querySelectorAll('" + selector + "')]"
                + ".find(a => a.textContent.includes('" + text + "')).dataset.id").asText();
    }

    /** A message that is the outcome, not the "Sending…" shown while the request is under way. */
    static boolean settled(String text) {
        return !text.isBlank() && !text.endsWith("\u2026");
    }

    void shot(String name) throws Exception {
        browser.screenshot(SHOTS.resolve(name + ".png"));
    }

    @Test
    void aDbaSignsInSeesANewRequestArriveApprovesItAndThePsqlSessionFinishes() throws Exception {
        signIn("/approvals", "dba-1", "dba");
        assertThat(browser.script("return document.body.textContent.includes('scratch_approve')").asBoolean()).isFalse();

        // the page is open before the statement is held: it arrives without a reload
        Path out = data.resolve("approve.out");
        Path err = data.resolve("approve.err");
        Process psql = f.startPsql("disable", f.token("agent-1", "agents"), out, err, "DROP TABLE scratch_approve", "SELECT 40 + 2 AS answer");
        try {
            browser.awaitText("#approvals-list", t -> t.contains("scratch_approve"));
            String id = cardId("article.approval", "scratch_approve");
            String card = browser.text(browser.await("article.approval[data-id='" + id + "']"));
            assertThat(card).contains("DROP TABLE scratch_approve", "agent-1", "schema-and-privileges-need-a-dba", "0 of 1", "customers");
            shot("approvals");

            browser.click(browser.await("button.approve[data-id='" + id + "']"));

            assertThat(browser.awaitText("[data-message='" + id + "']", ConsoleInChromiumTest::settled)).startsWith("Approved");
            assertThat(psql.waitFor(20, TimeUnit.SECONDS)).as("psql finishes once approved").isTrue();
            assertThat(psql.exitValue()).isZero();
            assertThat(Files.readString(out)).contains("42");
            assertThat(f.tableExists("scratch_approve")).isFalse();
        } finally {
            psql.destroyForcibly();
        }

        // the session, replayed: the held statement, its verdict and rule, then what ran
        browser.navigate(console + "/sessions?subject=agent-1");
        browser.awaitText("table#sessions tbody", t -> t.contains("agent-1"));
        shot("sessions");
        browser.click(browser.await("table#sessions tbody tr a"));
        String events = browser.awaitText("ol#events", t -> t.contains("SELECT 40 + 2"));
        assertThat(events).contains("DROP TABLE scratch_approve", "hold", "schema-and-privileges-need-a-dba", "approved by dba-1", "released its operation");
        shot("session-replay");
    }

    @Test
    void aDenialWithAReasonReachesTheAgentAndNothingRuns() throws Exception {
        Path out = data.resolve("deny.out");
        Path err = data.resolve("deny.err");
        Process psql = f.startPsql("disable", f.token("agent-2", "agents"), out, err, "DROP TABLE scratch_deny");
        try {
            signIn("/approvals", "dba-2", "dba");
            browser.awaitText("#approvals-list", t -> t.contains("scratch_deny"));
            String id = cardId("article.approval", "scratch_deny");

            browser.type(browser.await("input.reason[data-id='" + id + "']"), "not during the freeze");
            browser.click(browser.await("button.deny[data-id='" + id + "']"));

            assertThat(browser.awaitText("[data-message='" + id + "']", ConsoleInChromiumTest::settled)).startsWith("Denied");
            assertThat(psql.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(err)).contains("not during the freeze");
            assertThat(f.tableExists("scratch_deny")).isTrue();
        } finally {
            psql.destroyForcibly();
        }
    }

    @Test
    void someoneWhoIsNotAnApproverIsRefusedAndTheRequestStaysPending() throws Exception {
        Path out = data.resolve("refused.out");
        Path err = data.resolve("refused.err");
        Process psql = f.startPsql("disable", f.token("agent-3", "agents"), out, err, "DROP TABLE scratch_refused");
        try {
            signIn("/approvals", "intern-1", "agents");
            // an approval request is shown to its approvers and requester only: the intern sees none of it
            browser.awaitText("#approvals-info", t -> !t.isBlank() && !t.contains("Loading"));
            assertThat(browser.find("article.approval")).isEmpty();
            // and the API refuses a decision from them outright
            String id = pendingId("scratch_refused");
            String answer = browser.script("return fetch('/api/v1/me', {credentials: 'same-origin'}).then(r => r.json())"
                    + ".then(me => fetch('/api/v1/approvals/" + id + "/approve', {method: 'POST', credentials: 'same-origin',"
                    + " headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken}, body: '{}'}))"
                    + ".then(r => r.json().then(p => r.status + ' ' + p.title + ': ' + p.detail))").asText();
            assertThat(answer).startsWith("403 Not an approver").contains("intern-1");
            assertThat(f.tableExists("scratch_refused")).isTrue();
            assertThat(psql.isAlive()).isTrue();

            browser.navigate(console + "/live");
            assertThat(browser.awaitText("#status", t -> !t.isBlank() && !t.contains("Loading"))).contains("intern-1", "admin.session-admins");
            browser.navigate(console + "/sessions");
            assertThat(browser.awaitText("#sessions-info", t -> !t.isBlank() && !t.contains("Loading"))).contains("may not read recorded sessions");
            assertThat(browser.script("return document.querySelector('nav a[data-page=sessions]').hidden").asBoolean()).isTrue();
        } finally {
            psql.destroyForcibly();
        }
    }

    String pendingId(String table) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/approvals?state=pending"))
                    .header("Authorization", "Bearer " + f.token("dba-9", "dba")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            for (var a : new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("approvals")) {
                if (a.path("summary").asText().contains(table)) return a.path("id").asText();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("nothing pending for " + table);
    }

    @Test
    void aSessionAdminTerminatesALivePsqlSessionWithAReason() throws Exception {
        Path out = data.resolve("live.out");
        Path err = data.resolve("live.err");
        Process psql = f.startPsql("disable", f.token("agent-4", "agents"), out, err, "SELECT 1", "SELECT count(*) FROM generate_series(1, 2000000000)");
        try {
            signIn("/live", "dba-3", "dba");
            String card = browser.awaitText("article.live", t -> t.contains("agent-4"));
            assertThat(card).contains("postgres", "customers");
            shot("live");
            String id = cardId("article.live", "agent-4");
            browser.type(browser.await("input.terminate-reason[data-id='" + id + "']"), "runaway query");
            browser.click(browser.await("button.terminate[data-id='" + id + "']"));

            assertThat(browser.awaitText("[data-live-message='" + id + "']", ConsoleInChromiumTest::settled)).startsWith("Terminated");
            assertThat(psql.waitFor(10, TimeUnit.SECONDS)).as("psql's session ends").isTrue();
            assertThat(Files.readString(err)).contains("dba-3").contains("runaway query");
        } finally {
            psql.destroyForcibly();
        }
    }

    @Test
    void trailHealthAndPolicyWithWhatWouldHappen() throws Exception {
        signIn("/trail", "dba-4", "dba");
        browser.click(browser.await("#verify-now"));
        assertThat(browser.awaitText("#trail-status", t -> t.equals("Intact"))).isEqualTo("Intact");
        assertThat(browser.awaitText("#trail-summary", t -> t.contains("sessions"))).contains("intact");
        assertThat(browser.text(browser.await("#store-state"))).contains("embedded");
        shot("trail");

        browser.navigate(console + "/policy");
        String rules = browser.awaitText("section.connection[data-name='customers']", t -> t.contains("schema-and-privileges-need-a-dba"));
        assertThat(rules).contains("require-approval", "dba");
        assertThat(browser.script("return document.querySelector(\"tr[data-rule='schema-and-privileges-need-a-dba'] pre.source\").textContent").asText())
                .contains("- id: schema-and-privileges-need-a-dba", "kinds: [drop, truncate, alter, grant, revoke]");
        browser.type(browser.await("#wi-subject"), "agent-1");
        browser.type(browser.await("#wi-groups"), "agents");
        browser.type(browser.await("#wi-operation"), "DELETE FROM customers");
        browser.click(browser.await("#wi-run"));
        assertThat(browser.awaitText("#wi-result", t -> !t.isBlank())).contains("deny");
        shot("policy");

        browser.windowSize(390, 844);
        browser.navigate(console + "/approvals");
        browser.awaitText("#who", t -> t.contains("dba-4"));
        shot("approvals-phone");
    }

    /**
     * What a page fails of the accessibility bar, checked in the browser: a form control without a label, a
     * button or link without a name, visible text under WCAG AA contrast (4.5:1, 3:1 when large), the page
     * wider than the window.
     */
    static final String AUDIT = """
            const out = [];
            const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
            for (const c of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
              if (visible(c) && !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby'))
                out.push('no label: ' + c.outerHTML.slice(0, 80));
            }
            for (const c of document.querySelectorAll('button, a[href]')) {
              if (visible(c) && !(c.textContent.trim() || c.getAttribute('aria-label') || c.title)) out.push('no name: ' + c.outerHTML.slice(0, 80));
            }
            const rgb = (s) => (s.match(/[0-9.]+/g) || []).map(Number);
            const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
              return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
            const background = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
              if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
              const e = n.parentElement;
              if (!n.textContent.trim() || !e || !visible(e) || e.closest('.ap-player')) continue;
              const st = getComputedStyle(e);
              if (st.visibility === 'hidden' || Number(st.opacity) === 0) continue;
              const a = lum(rgb(st.color).slice(0, 3)), b = lum(background(e));
              const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
              const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
              const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
              if (ratio < need) out.push('contrast ' + ratio.toFixed(2) + ' < ' + need + ': "' + n.textContent.trim().slice(0, 40) + '"');
            }
            if (document.documentElement.scrollWidth > window.innerWidth + 1) {
              const wide = [...document.querySelectorAll('body *')].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')
                  .map((e) => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth).slice(-3);
              out.push('wider than the window: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth + ' ' + wide.join(' '));
            }
            return out.join('\\n');
            """;

    @Test
    void everyPageIsLabelledReadableAndFitsALaptopAndAPhone() throws Exception {
        signIn("/approvals", "dba-5", "dba");
        for (int[] size : new int[][] {{1280, 800}, {390, 844}}) {
            browser.windowSize(size[0], size[1]);
            for (String page : new String[] {"/approvals", "/sessions", "/live", "/trail", "/policy"}) {
                browser.navigate(console + page);
                browser.awaitText("#who", t -> t.contains("dba-5"));
                browser.awaitText("#status", t -> !t.contains("Loading"));
                assertThat(browser.script(AUDIT).asText()).as("%s at %dx%d", page, size[0], size[1]).isEmpty();
            }
        }
        // keyboard: the skip link is the first stop, and moves to the content
        browser.navigate(console + "/approvals");
        browser.awaitText("#who", t -> t.contains("dba-5"));
        assertThat(browser.script("const f = document.querySelector('a[href=\"#main\"]'); f.focus(); return document.activeElement === f && "
                + "getComputedStyle(f).outlineStyle !== 'none' || getComputedStyle(f).boxShadow !== 'none'").asBoolean()).isTrue();
    }

}
