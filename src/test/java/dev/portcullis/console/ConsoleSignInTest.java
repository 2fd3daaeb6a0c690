package dev.portcullis.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.postgres.PostgresGatewayFixture;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's sign-in and session against a real OIDC issuer (mock-oauth2-server, which checks PKCE) and
 * the gateway started from {@code examples/postgres.yaml}: the flow itself, then every forged or replayed
 * piece refused with a clear page or problem, nothing signed in and nothing changed.
 */
class ConsoleSignInTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String CLIENT = "portcullis-console";

    @TempDir
    static Path data;
    static PostgresGatewayFixture f;
    static URI admin;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data);
        admin = URI.create("http://127.0.0.1:" + f.adminPort);
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    /**
     * The next sign-in at the issuer is {@code subject} with {@code groups} (the issuer takes it when it issues
     * tokens: a sign-in that is refused before that must not set one).
     */
    static void nextSignInIs(String subject, String... groups) {
        f.issuer.enqueueCallback(new DefaultOAuth2TokenCallback("default", subject, "JWT", List.of(CLIENT),
                Map.of("groups", List.of(groups)), 3600));
    }

    static Map<String, String> query(URI uri) {
        Map<String, String> out = new HashMap<>();
        for (String part : uri.getRawQuery().split("&")) {
            int eq = part.indexOf('=');
            out.put(URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** Signs in through the whole flow; answers the browser, holding its session. */
    static ConsoleBrowser signedIn(String subject, String... groups) throws Exception {
        nextSignInIs(subject, groups);
        ConsoleBrowser b = new ConsoleBrowser();
        HttpResponse<String> done = b.follow(admin.resolve("/console/login?next=/console/sessions"));
        assertThat(done.uri().getPath()).isEqualTo("/console/sessions");
        return b;
    }

    static JsonNode me(ConsoleBrowser b) throws Exception {
        HttpResponse<String> r = b.get(admin.resolve("/api/v1/me"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void theAuthorizationCodeFlowWithPkceSignsAPersonInWithTheirGroups() throws Exception {
        nextSignInIs("dba-1", "dba", "sre");
        ConsoleBrowser b = new ConsoleBrowser();

        HttpResponse<String> login = b.get(admin.resolve("/console/login?next=/console/sessions"));
        assertThat(login.statusCode()).isEqualTo(303);
        URI authorize = URI.create(login.headers().firstValue("Location").orElseThrow());
        Map<String, String> q = query(authorize);
        assertThat(authorize.toString()).startsWith(f.issuer.issuerUrl("default").toString());
        assertThat(q).containsEntry("response_type", "code").containsEntry("client_id", CLIENT).containsEntry("code_challenge_method", "S256")
                .containsEntry("redirect_uri", admin + "/console/callback").containsKeys("state", "nonce", "code_challenge");
        assertThat(q.get("scope").split(" ")).contains("openid", "groups");
        assertThat(login.headers().allValues("Set-Cookie")).anySatisfy(c -> assertThat(c).startsWith("portcullis-login=")
                .contains("HttpOnly", "SameSite=Lax", "Path=/"));

        HttpResponse<String> back = b.get(authorize);
        URI callback = URI.create(back.headers().firstValue("Location").orElseThrow());
        assertThat(callback.getPath()).isEqualTo("/console/callback");
        HttpResponse<String> signedIn = b.get(callback);
        assertThat(signedIn.statusCode()).as(signedIn.body()).isEqualTo(303);
        assertThat(signedIn.headers().firstValue("Location")).hasValue("/console/sessions");
        assertThat(signedIn.headers().allValues("Set-Cookie")).anySatisfy(c -> assertThat(c).startsWith("portcullis-console=")
                .contains("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"));

        JsonNode me = me(b);
        assertThat(me.path("subject").asText()).isEqualTo("dba-1");
        assertThat(me.path("groups").toString()).isEqualTo("[\"dba\",\"sre\"]");
        assertThat(me.path("via").asText()).isEqualTo("console");
        assertThat(me.path("csrfToken").asText()).hasSizeGreaterThan(40);
        assertThat(me.path("roles").path("sessionAdmin").asBoolean()).isTrue();
        // the sign-in is in the trail: who, their groups, from where, until when
        String trail = recorded(b, "/api/v1/sessions?connection=admin&subject=dba-1");
        assertThat(trail).contains("\"subject\":\"dba-1\"", "signed in to the console, session until", "console via admin from 127.0.0.1");
        // Nothing of the tokens is kept: the store holds the cookie's hash and who signed in.
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + data.resolve("portcullis.db"));
             var rs = c.createStatement().executeQuery("SELECT * FROM console_session")) {
            StringBuilder row = new StringBuilder();
            while (rs.next()) for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) row.append(rs.getString(i)).append('|');
            assertThat(row.toString()).doesNotContain("eyJ").doesNotContain(b.cookie("portcullis-console").orElseThrow().getValue());
        }
    }

    @Test
    void signingOutEndsTheSessionOnTheServer() throws Exception {
        ConsoleBrowser b = signedIn("dba-2", "dba");
        String cookie = b.cookie("portcullis-console").orElseThrow().getValue();
        String csrf = me(b).path("csrfToken").asText();

        HttpResponse<String> out = b.send("POST", admin.resolve("/console/logout"), "{}", Optional.of(csrf), Optional.of(admin.toString()));
        assertThat(out.statusCode()).isEqualTo(204);
        assertThat(out.headers().allValues("Set-Cookie")).anySatisfy(c -> assertThat(c).startsWith("portcullis-console=;").contains("Max-Age=0"));

        assertThat(recorded(signedIn("dba-9", "dba"), "/api/v1/sessions?connection=admin&subject=dba-2")).contains("signed out of the console");
        ConsoleBrowser stolen = new ConsoleBrowser();
        stolen.setCookie(admin, "portcullis-console", cookie);
        HttpResponse<String> after = stolen.get(admin.resolve("/api/v1/me"));
        assertThat(after.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(after.body()).path("detail").asText()).contains("sign in again");
    }

    @Test
    void aTamperedOrUnknownSessionCookieOpensNothing() throws Exception {
        ConsoleBrowser b = signedIn("dba-3", "dba");
        String cookie = b.cookie("portcullis-console").orElseThrow().getValue();
        for (String forged : List.of(cookie.substring(0, 42) + (cookie.endsWith("A") ? "B" : "A"), "x", cookie + "A", "' OR 1=1 --")) {
            ConsoleBrowser other = new ConsoleBrowser();
            other.setCookie(admin, "portcullis-console", forged);
            HttpResponse<String> r = other.get(admin.resolve("/api/v1/approvals"));
            assertThat(r.statusCode()).as(forged).isEqualTo(401);
            assertThat(JSON.readTree(r.body()).path("title").asText()).isEqualTo("Session expired");
        }
    }

    @Test
    void aForgedOrMissingStateIsRefusedWithAClearPage() throws Exception {
        ConsoleBrowser b = new ConsoleBrowser();
        URI authorize = URI.create(b.get(admin.resolve("/console/login")).headers().firstValue("Location").orElseThrow());
        URI callback = URI.create(b.get(authorize).headers().firstValue("Location").orElseThrow());
        String code = query(callback).get("code");

        HttpResponse<String> forged = b.get(admin.resolve("/console/callback?code=" + code + "&state=forged-state"));
        assertThat(forged.statusCode()).isEqualTo(400);
        assertThat(forged.body()).contains("Sign-in refused", "the state does not match", "Nothing was changed");
        assertThat(forged.headers().allValues("Set-Cookie")).noneSatisfy(c -> assertThat(c).startsWith("portcullis-console=").doesNotContain("Max-Age=0"));
        assertThat(b.get(admin.resolve("/console/callback?code=" + code)).statusCode()).isEqualTo(400);
        assertThat(b.get(admin.resolve("/console/callback")).body()).contains("answer is missing");
        assertThat(b.get(admin.resolve("/api/v1/me")).statusCode()).isEqualTo(401);
        assertThat(recorded(signedIn("dba-10", "dba"), "/api/v1/sessions?connection=admin&refused=true"))
                .contains("console-sign-in-refused", "the state does not match");
    }

    /** Every event of the sessions a search finds, as the gateway replays them (read by an auditor). */
    static String recorded(ConsoleBrowser auditor, String search) throws Exception {
        StringBuilder trail = new StringBuilder();
        for (JsonNode s : JSON.readTree(auditor.get(admin.resolve(search)).body()).path("sessions")) {
            trail.append(auditor.get(admin.resolve("/api/v1/sessions/" + s.path("id").asText())).body());
        }
        return trail.toString();
    }

    @Test
    void aCallbackReplayedInAnotherBrowserIsRefusedAndUsesTheStateUp() throws Exception {
        ConsoleBrowser victim = new ConsoleBrowser();
        URI authorize = URI.create(victim.get(admin.resolve("/console/login")).headers().firstValue("Location").orElseThrow());
        URI callback = URI.create(victim.get(authorize).headers().firstValue("Location").orElseThrow());

        ConsoleBrowser attacker = new ConsoleBrowser();
        HttpResponse<String> stolen = attacker.get(callback);
        assertThat(stolen.statusCode()).isEqualTo(400);
        assertThat(stolen.body()).contains("not started in this browser");
        assertThat(attacker.get(admin.resolve("/api/v1/me")).statusCode()).isEqualTo(401);
        // the state was spent by the attempt: the victim's own callback no longer signs in either
        assertThat(victim.get(callback).statusCode()).isEqualTo(400);
        assertThat(victim.get(admin.resolve("/api/v1/me")).statusCode()).isEqualTo(401);
    }

    @Test
    void aCodeInjectedIntoAnotherSignInFailsPkce() throws Exception {
        // The attacker gets a code for their own sign-in, and slips it into the victim's callback (state of the victim).
        ConsoleBrowser attacker = new ConsoleBrowser();
        URI attackerAuthorize = URI.create(attacker.get(admin.resolve("/console/login")).headers().firstValue("Location").orElseThrow());
        String attackerCode = query(URI.create(attacker.get(attackerAuthorize).headers().firstValue("Location").orElseThrow())).get("code");

        ConsoleBrowser victim = new ConsoleBrowser();
        String victimState = query(URI.create(victim.get(admin.resolve("/console/login")).headers().firstValue("Location").orElseThrow())).get("state");
        HttpResponse<String> injected = victim.get(admin.resolve("/console/callback?code=" + attackerCode + "&state=" + victimState));

        assertThat(injected.statusCode()).isEqualTo(400);
        assertThat(injected.body()).contains("would not exchange the code", "invalid_grant");
        assertThat(victim.get(admin.resolve("/api/v1/me")).statusCode()).isEqualTo(401);
    }

    @Test
    void anIdentityProviderErrorOnTheCallbackIsShownAndSignsNobodyIn() throws Exception {
        ConsoleBrowser b = new ConsoleBrowser();
        String state = query(URI.create(b.get(admin.resolve("/console/login")).headers().firstValue("Location").orElseThrow())).get("state");

        HttpResponse<String> r = b.get(admin.resolve("/console/callback?error=access_denied&error_description=User+is+not+assigned+to+the+client+%3Cscript%3E&state=" + state));

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("The identity provider did not sign you in", "access_denied", "User is not assigned to the client &lt;script&gt;")
                .doesNotContain("<script>");
        assertThat(r.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp -> assertThat(csp).contains("script-src 'self'"));
        assertThat(b.get(admin.resolve("/api/v1/me")).statusCode()).isEqualTo(401);
    }

    @Test
    void aSignInNeverReturnsAnywhereButTheConsole() throws Exception {
        for (String next : List.of("https://evil.example/", "//evil.example/console", "/\\evil.example", "/console/../api/v1/me",
                "/console/%2e%2e/x", "javascript:alert(1)", "/console/x?y=<script>", "/api/v1/approvals")) {
            ConsoleBrowser b = new ConsoleBrowser();
            for (String name : List.of("next", "redirect")) {
                HttpResponse<String> r = b.get(admin.resolve("/console/login?" + name + "=" + java.net.URLEncoder.encode(next, StandardCharsets.UTF_8)));
                assertThat(r.statusCode()).as(next).isEqualTo(400);
                assertThat(r.body()).as(next).contains("not a page of this console", "Nothing was done");
                assertThat(r.headers().firstValue("Location")).as(next).isEmpty();
            }
        }
    }

    @Test
    void approvingWithoutTheCsrfTokenOrFromAnotherSiteChangesNothingAndIsRecorded() throws Exception {
        Path out = data.resolve("held.out");
        Path err = data.resolve("held.err");
        try (var c = f.admin(); var st = c.createStatement()) {
            st.execute("CREATE TABLE scratch_csrf (id int)");
            st.execute("ALTER TABLE scratch_csrf OWNER TO " + PostgresGatewayFixture.DB_USER);
        }
        Process psql = f.startPsql("disable", f.token("agent-1", "agents"), out, err, "DROP TABLE scratch_csrf");
        try {
            ConsoleBrowser b = signedIn("dba-6", "dba");
            String id = awaitPending(b);
            String csrf = me(b).path("csrfToken").asText();
            URI approve = admin.resolve("/api/v1/approvals/" + id + "/approve");

            HttpResponse<String> noToken = b.send("POST", approve, "{}", Optional.empty(), Optional.empty());
            HttpResponse<String> wrongToken = b.send("POST", approve, "{}", Optional.of(csrf.substring(1) + "x"), Optional.empty());
            HttpResponse<String> crossSite = b.send("POST", approve, "{}", Optional.of(csrf), Optional.of("https://evil.example"));
            ConsoleBrowser expired = new ConsoleBrowser();
            expired.setCookie(admin, "portcullis-console", "A".repeat(43));
            HttpResponse<String> noSession = expired.send("POST", approve, "{}", Optional.of(csrf), Optional.empty());

            assertThat(noToken.statusCode()).isEqualTo(403);
            assertThat(JSON.readTree(noToken.body()).path("detail").asText()).contains("no X-CSRF-Token header", "nothing was changed");
            assertThat(wrongToken.statusCode()).isEqualTo(403);
            assertThat(crossSite.statusCode()).isEqualTo(403);
            assertThat(JSON.readTree(crossSite.body()).path("detail").asText()).contains("https://evil.example");
            assertThat(noSession.statusCode()).isEqualTo(401);
            assertThat(state(b, id)).isEqualTo("pending");
            assertThat(f.tableExists("scratch_csrf")).isTrue();
            // recorded in the trail, as the gateway itself replays it
            assertThat(recorded(b, "/api/v1/sessions?connection=admin&refused=true")).contains("console-csrf").contains("dba-6").contains("console-session-refused");

            HttpResponse<String> approved = b.send("POST", approve, "{}", Optional.of(csrf), Optional.of(admin.toString()));
            assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
            assertThat(JSON.readTree(approved.body()).path("approvals").get(0).path("subject").asText()).isEqualTo("dba-6");
            assertThat(psql.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(out) + Files.readString(err)).contains("DROP TABLE");
            assertThat(f.tableExists("scratch_csrf")).isFalse();
        } finally {
            psql.destroyForcibly();
        }
    }

    @Test
    void everyEndpointTheConsoleCallsIsDescribedInTheOpenApiDocumentAndAnswers() throws Exception {
        String script = Files.readString(Path.of("src/main/resources/dev/portcullis/console/web/app.js"));
        JsonNode doc = JSON.readTree(new ConsoleBrowser().get(admin.resolve("/api/v1/openapi.json")).body());
        ConsoleBrowser b = signedIn("dba-8", "dba");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("'(/api/v1/[a-z/]*[a-z])[/?']").matcher(script);
        java.util.Set<String> called = new java.util.TreeSet<>();
        while (m.find()) called.add(m.group(1));
        assertThat(called).contains("/api/v1/me", "/api/v1/approvals", "/api/v1/sessions", "/api/v1/sessions/live", "/api/v1/trail",
                "/api/v1/policy", "/api/v1/policy/test", "/api/v1/trail/verify");
        for (String path : called) {
            assertThat(doc.path("paths").has(path)).as("%s in the OpenAPI document", path).isTrue();
            boolean post = doc.path("paths").path(path).has("post") && !doc.path("paths").path(path).has("get");
            HttpResponse<String> r = post ? b.send("POST", admin.resolve(path), "{}", Optional.of(me(b).path("csrfToken").asText()), Optional.empty())
                    : b.get(admin.resolve(path));
            assertThat(r.statusCode()).as("%s answers: %s", path, r.body()).isIn(200, 400);
        }
    }

    @Test
    void readinessShowsTheTrailsLastVerificationWithoutDependingOnIt() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        JsonNode ready;
        do {
            ready = JSON.readTree(new ConsoleBrowser().get(admin.resolve("/readyz")).body());
        } while (!ready.path("checks").path("trail").asText().startsWith("intact") && System.nanoTime() < deadline && sleep());
        assertThat(ready.path("status").asText()).isEqualTo("ready");
        assertThat(ready.path("checks").path("trail").asText()).startsWith("intact: ").contains("sessions", "events", "head ", "verified ");
    }

    static boolean sleep() throws InterruptedException {
        Thread.sleep(100);
        return true;
    }

    static String awaitPending(ConsoleBrowser b) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            JsonNode list = JSON.readTree(b.get(admin.resolve("/api/v1/approvals?state=pending")).body()).path("approvals");
            for (JsonNode r : list) if (r.path("summary").asText().contains("scratch_csrf")) return r.path("id").asText();
            Thread.sleep(50);
        }
        throw new AssertionError("no pending approval for the held DROP");
    }

    static String state(ConsoleBrowser b, String id) throws Exception {
        return JSON.readTree(b.get(admin.resolve("/api/v1/approvals/" + id)).body()).path("state").asText();
    }

    static boolean exists(Path p) {
        return Files.exists(p);
    }
}
