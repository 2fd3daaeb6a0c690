package dev.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import dev.portcullis.approval.ApprovalApiFixture;
import dev.portcullis.approval.ApprovalRequest;
import dev.portcullis.approval.ApprovalState;
import dev.portcullis.approval.OperationFingerprint;
import dev.portcullis.config.TlsConfig;
import dev.portcullis.policy.Verdict.HoldForApproval;
import dev.portcullis.testing.SelfSignedKeyStore;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The commands a person runs, with their output and exit codes. */
class CliTest {
    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
    }

    @Test
    void theGatewayRunsWithoutNettysLeakDetectorUnlessAnOperatorAsksForIt() {
        String saved = System.getProperty("io.netty.leakDetection.level");
        try {
            System.clearProperty("io.netty.leakDetection.level");
            Main.quietBufferLeakDetection();
            assertThat(System.getProperty("io.netty.leakDetection.level")).isEqualTo("disabled");

            System.setProperty("io.netty.leakDetection.level", "paranoid"); // -D in PORTCULLIS_JAVA_OPTS
            Main.quietBufferLeakDetection();
            assertThat(System.getProperty("io.netty.leakDetection.level")).isEqualTo("paranoid");
        } finally {
            if (saved == null) System.clearProperty("io.netty.leakDetection.level");
            else System.setProperty("io.netty.leakDetection.level", saved);
        }
    }

    @Test
    void everyCommandIsListedWithAWholeSentence() {
        CommandLine cli = Main.commandLine(Map.of());
        for (CommandLine sub : cli.getSubcommands().values()) {
            var spec = sub.getCommandSpec().usageMessage();
            String summary = spec.header().length > 0 ? spec.header()[0] : spec.description()[0];
            assertThat(summary).as("the summary of %s in portcullis --help", sub.getCommandName())
                    .matches("[A-Z].*[.)]").hasSizeLessThanOrEqualTo(100);
        }
        assertThat(run("--help").out()).contains("Try it in a minute", "Run only the development token issuer", "End an approval or a running");
    }

    static Run run(String... args) {
        return runWith(System.getenv(), args);
    }

    static Run runWith(Map<String, String> env, String... args) {
        PrintStream originalOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cli = Main.commandLine(env);
            cli.setErr(new PrintWriter(err, true));
            int code = cli.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(originalOut);
        }
    }

    @Test
    void everyCommandHasHelp() {
        for (List<String> command : List.of(List.of("serve"), List.of("dev"), List.of("dev-issuer"), List.of("sessions", "list"), List.of("replay"),
                List.of("audit", "verify"), List.of("config", "check"), List.of("policy", "test"),
                List.of("approvals", "list"), List.of("approve"), List.of("deny"), List.of("revoke"))) {
            String[] args = new java.util.ArrayList<String>(command) {{ add("--help"); }}.toArray(String[]::new);
            Run r = run(args);
            assertThat(r.exitCode()).as(String.join(" ", command)).isZero();
            assertThat(r.out()).as(String.join(" ", command)).contains("Usage: portcullis " + String.join(" ", command));
        }
    }

    @Test
    void theShippedPolicyTestsPassWithoutSecrets() {
        Run r = run("policy", "test", "examples/okta-policy-test.yaml");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("PASS  ").doesNotContain("FAIL").containsPattern("\\d+ passed, 0 failed");
    }

    @Test
    void aFailingPolicyCaseIsReportedAndExitsNonZero() throws Exception {
        Files.copy(Path.of("examples/okta.yaml"), dir.resolve("okta.yaml"));
        Files.writeString(dir.resolve("t.yaml"), """
                config: okta.yaml
                connection: okta
                cases:
                  - name: deleting users is fine (it is not)
                    identity: {subject: a, groups: [agents]}
                    http: {method: DELETE, path: /api/v1/users/00u1}
                    expect: {action: allow}
                """);

        Run r = run("policy", "test", dir.resolve("t.yaml").toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("FAIL  deleting users is fine (it is not)", "deny by no-user-deletion", "0 passed, 1 failed");
    }

    @Test
    void configCheckNamesFileLineAndFieldOfEveryError() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(Path.of("examples/okta.yaml"))
                .replace("action: deny", "action: permit")
                .replace("groups-claim: groups", "groups-clam: groups"));

        Run r = run("config", "check", bad.toString());

        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("bad.yaml:").contains("action: expected one of allow, deny, require-approval, got 'permit'")
                .contains("groups-clam").contains("PORTCULLIS_OIDC_ISSUER");
    }

    @Test
    void sessionsReplayAndVerifyReadTheStoreAndVerifyCatchesAnEditedEvent() throws Exception {
        Path db = dir.resolve("portcullis.db");
        try (var store = dev.portcullis.store.EmbeddedStore.open(db);
             var recorder = new dev.portcullis.recording.DurableRecorder(store, java.time.Clock.systemUTC())) {
            var identity = new dev.portcullis.core.Identity("agent-7", java.util.Set.of("agents"), "jti-7", "cli", "https://idp",
                    java.util.Map.of(), java.time.Instant.now().plusSeconds(600));
            var session = recorder.sessionFor(identity, "okta", "http", "127.0.0.1");
            var call = new dev.portcullis.core.HttpCall("DELETE", "/api/v1/users/00u1", "", java.util.Map.of(), "",
                    java.util.Optional.empty(), 0);
            session.record(dev.portcullis.recording.AuditEvent.OperationRecorded.of(call, dev.portcullis.recording.Excerpt.NONE,
                    dev.portcullis.policy.Decision.of(new dev.portcullis.policy.Verdict.Deny("no-user-deletion", "no")),
                    dev.portcullis.recording.Upstream.NOT_FORWARDED, dev.portcullis.recording.Excerpt.NONE,
                    new dev.portcullis.recording.Timings(1, 0, 2)));
        }

        Run list = run("sessions", "list", "--store", db.toString());
        assertThat(list.exitCode()).isZero();
        assertThat(list.out()).contains("agent-7", "okta");
        Run json = run("sessions", "list", "--store", db.toString(), "--json");
        assertThat(json.out()).contains("\"subject\" : \"agent-7\"");
        Run replay = run("replay", "latest", "--store", db.toString());
        assertThat(replay.exitCode()).isZero();
        assertThat(replay.out()).contains("DELETE /api/v1/users/00u1", "verdict: deny (rule no-user-deletion)");
        assertThat(run("audit", "verify", "--store", db.toString()).exitCode()).isZero();

        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE audit_event SET payload = replace(payload, 'DELETE', 'GET') WHERE code = 'PC2000'");
        }
        Run tampered = run("audit", "verify", "--store", db.toString());
        assertThat(tampered.exitCode()).isEqualTo(1);
        assertThat(tampered.out()).contains("TAMPERED");
    }

    @Test
    void aMissingStoreIsAClearError() {
        Run r = run("sessions", "list", "--store", dir.resolve("nope.db").toString());

        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("no store at").contains("nope.db");
    }

    @Test
    void approvalsAreListedApprovedAndDeniedAgainstTheRunningApi() throws Exception {
        try (ApprovalApiFixture gw = new ApprovalApiFixture(dir)) {
            ApprovalRequest first = gw.pendingRequest();
            ApprovalRequest second = gw.pendingRequest();
            String server = gw.base.toString();
            Map<String, String> alice = Map.of("PORTCULLIS_TOKEN", gw.token("alice", "dba"));

            Run list = runWith(alice, "approvals", "list", "--server", server);
            assertThat(list.exitCode()).as(list.err()).isZero();
            assertThat(list.out()).contains("ID", "OPERATION", first.id(), second.id(), "agent-7", "orders-db", "prod-writes",
                    "0/1", "DELETE FROM orders WHERE id = $1");

            Run approve = runWith(alice, "approve", first.id(), "--server", server);
            assertThat(approve.exitCode()).as(approve.err()).isZero();
            assertThat(approve.out()).contains("approved " + first.id(), "by alice");
            assertThat(gw.service.consume(first.id(), OperationFingerprint.of(ApprovalApiFixture.DELETE))).isTrue();

            Run deny = runWith(alice, "deny", second.id(), "--reason", "not during the freeze", "--server", server);
            assertThat(deny.exitCode()).as(deny.err()).isZero();
            assertThat(deny.out()).contains("denied " + second.id(), "not during the freeze");
            assertThat(gw.service.get(second.id()).orElseThrow().state()).isEqualTo(ApprovalState.DENIED);

            Run json = runWith(alice, "approvals", "list", "--state", "all", "--json", "--server", server);
            assertThat(json.exitCode()).isZero();
            assertThat(json.out()).contains("\"state\" : \"released\"", "\"state\" : \"denied\"");
            assertThat(runWith(alice, "approvals", "list", "--server", server).out()).contains("no pending approval requests");
        }
    }

    @Test
    void aGrantIsListedWithItsLengthApprovedWithItsEndAndRevokedWithAReason() throws Exception {
        try (ApprovalApiFixture gw = new ApprovalApiFixture(dir)) {
            HoldForApproval grant = new HoldForApproval("jit-writes", "writes need a DBA", List.of("dba"), 1,
                    Duration.ofMinutes(10), Optional.of(Duration.ofMinutes(90)));
            ApprovalRequest r = gw.service.request(ApprovalApiFixture.AGENT, "orders-db", ApprovalApiFixture.DELETE,
                    OperationFingerprint.of(ApprovalApiFixture.DELETE), grant, grant.holdTimeout());
            ApprovalRequest single = gw.pendingRequest();
            String server = gw.base.toString();
            Map<String, String> alice = Map.of("PORTCULLIS_TOKEN", gw.token("alice", "dba"));

            Run pending = runWith(alice, "approvals", "list", "--server", server);
            assertThat(pending.exitCode()).as(pending.err()).isZero();
            assertThat(pending.out()).contains("GRANT", "GRANT UNTIL");
            assertThat(line(pending.out(), r.id())).contains("jit-writes").containsPattern("1h30m\\s+-\\s+DELETE");
            assertThat(line(pending.out(), single.id())).containsPattern("  -\\s+-\\s+DELETE");

            Run early = runWith(alice, "revoke", r.id(), "--reason", "not yet", "--server", server);
            assertThat(early.exitCode()).isEqualTo(1);
            assertThat(early.err()).contains("409", "only an approved request or a running grant can be revoked");

            Run approve = runWith(alice, "approve", r.id(), "--server", server);
            assertThat(approve.exitCode()).as(approve.err()).isZero();
            Instant until = gw.service.get(r.id()).orElseThrow().grant().orElseThrow().until().orElseThrow();
            String untilLocal = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault()).format(until);
            assertThat(approve.out()).contains("approved " + r.id(), "agent-7 may run every operation of rule jit-writes on orders-db",
                    "for 1h30m, until " + untilLocal, "portcullis revoke " + r.id()).doesNotContain("run once");

            Run approved = runWith(alice, "approvals", "list", "--state", "approved", "--server", server);
            assertThat(line(approved.out(), r.id())).contains("approved", "1h30m", untilLocal);
            Run json = runWith(alice, "approvals", "list", "--state", "approved", "--json", "--server", server);
            assertThat(json.out()).contains("\"duration\" : \"PT1H30M\"", "\"minutes\" : 90", "\"until\" : \"" + until + "\"");

            assertThat(runWith(alice, "revoke", r.id(), "--server", server).err()).contains("Missing required option: '--reason=TEXT'");
            Run outsider = runWith(Map.of("PORTCULLIS_TOKEN", gw.token("mallory", "marketing")), "revoke", r.id(),
                    "--reason", "mine now", "--server", server);
            assertThat(outsider.exitCode()).isEqualTo(1);
            assertThat(outsider.err()).contains("403");
            assertThat(gw.service.activeGrant("agent-7", "orders-db", "jit-writes")).isPresent();

            Run revoke = runWith(alice, "revoke", r.id(), "--reason", "incident closed", "--server", server);
            assertThat(revoke.exitCode()).as(revoke.err()).isZero();
            assertThat(revoke.out()).contains("revoked " + r.id(), "reason: incident closed",
                    "the grant of rule jit-writes to agent-7 has ended");
            assertThat(gw.service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.REVOKED);
            assertThat(gw.service.activeGrant("agent-7", "orders-db", "jit-writes")).isEmpty();
            assertThat(line(runWith(alice, "approvals", "list", "--state", "revoked", "--server", server).out(), r.id()))
                    .contains("revoked", "1h30m");
            assertThat(runWith(alice, "approvals", "list", "--state", "revoked", "--json", "--server", server).out())
                    .contains("\"revocation\" : {", "\"subject\" : \"alice\"", "\"reason\" : \"incident closed\"");
        }
    }

    /** The one line of a table that mentions {@code id}. */
    private static String line(String table, String id) {
        return table.lines().filter(l -> l.contains(id)).findFirst().orElseThrow(() -> new AssertionError(id + " not in\n" + table));
    }

    @Test
    void aRefusalExitsNonZeroWithTheServersDetail() throws Exception {
        try (ApprovalApiFixture gw = new ApprovalApiFixture(dir)) {
            ApprovalRequest r = gw.pendingRequest();
            String server = gw.base.toString();

            Run outsider = runWith(Map.of("PORTCULLIS_TOKEN", gw.token("mallory", "marketing")), "approve", r.id(), "--server", server);
            assertThat(outsider.exitCode()).isEqualTo(1);
            assertThat(outsider.err()).contains("403", "none of the approver groups");

            Run badToken = runWith(Map.of("PORTCULLIS_TOKEN", "not-a-token"), "approvals", "list", "--server", server);
            assertThat(badToken.exitCode()).isEqualTo(1);
            assertThat(badToken.err()).contains("401");

            Run unknown = runWith(Map.of("PORTCULLIS_TOKEN", gw.token("alice", "dba")), "deny", "apr_aaaaaaaaaaaaaaaaaaaa",
                    "--reason", "x", "--server", server);
            assertThat(unknown.exitCode()).isEqualTo(1);
            assertThat(unknown.err()).contains("404", "no approval request apr_aaaaaaaaaaaaaaaaaaaa");
            assertThat(gw.service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.PENDING);
        }
    }

    @Test
    void againstAnHttpsAdminListenerTheCommandsTrustItsCertificateThroughCacertOrPortcullisCacert() throws Exception {
        SelfSignedKeyStore keyStore = SelfSignedKeyStore.create(dir.resolve("admin.p12"), "changeit-cli");
        Path pem = keyStore.writePem(dir.resolve("admin.pem"));
        try (ApprovalApiFixture gw = new ApprovalApiFixture(dir, Optional.of(new TlsConfig(keyStore.path(), "changeit-cli")))) {
            ApprovalRequest first = gw.pendingRequest();
            ApprovalRequest second = gw.pendingRequest();
            String server = gw.base.toString();
            assertThat(server).startsWith("https://127.0.0.1:");
            String token = gw.token("alice", "dba");

            Run list = runWith(Map.of("PORTCULLIS_TOKEN", token), "approvals", "list", "--server", server, "--cacert", pem.toString());
            assertThat(list.exitCode()).as(list.err()).isZero();
            assertThat(list.out()).contains(first.id(), second.id(), "prod-writes");

            Run approve = runWith(Map.of("PORTCULLIS_TOKEN", token, "PORTCULLIS_CACERT", pem.toString()), "approve", first.id(),
                    "--server", server);
            assertThat(approve.exitCode()).as(approve.err()).isZero();
            assertThat(approve.out()).contains("approved " + first.id(), "by alice");

            Run deny = runWith(Map.of("PORTCULLIS_TOKEN", token, "PORTCULLIS_CACERT", dir.resolve("elsewhere.pem").toString()),
                    "deny", second.id(), "--reason", "not now", "--server", server, "--cacert", pem.toString());
            assertThat(deny.exitCode()).as("--cacert wins over PORTCULLIS_CACERT: " + deny.err()).isZero();
            assertThat(gw.service.get(second.id()).orElseThrow().state()).isEqualTo(ApprovalState.DENIED);
        }
    }

    @Test
    void withoutCacertAnHttpsAdminListenerWithAPrivateCertificateIsAClearCertificateError() throws Exception {
        SelfSignedKeyStore keyStore = SelfSignedKeyStore.create(dir.resolve("admin.p12"), "changeit-cli");
        SelfSignedKeyStore another = SelfSignedKeyStore.create(dir.resolve("another.p12"), "changeit-cli");
        Path anotherPem = another.writePem(dir.resolve("another.pem"));
        try (ApprovalApiFixture gw = new ApprovalApiFixture(dir, Optional.of(new TlsConfig(keyStore.path(), "changeit-cli")))) {
            ApprovalRequest r = gw.pendingRequest();
            String server = gw.base.toString();
            Map<String, String> alice = Map.of("PORTCULLIS_TOKEN", gw.token("alice", "dba"));

            Run untrusted = runWith(alice, "approve", r.id(), "--server", server);
            assertThat(untrusted.exitCode()).isEqualTo(1);
            assertThat(untrusted.err()).startsWith("portcullis: cannot verify the TLS certificate of " + server + ": it is"
                    + " not signed by a CA in the default trust store, or not issued for 127.0.0.1; for a private CA or a"
                    + " self-signed certificate pass the CA's certificate (PEM), or the gateway's own, with --cacert FILE"
                    + " or PORTCULLIS_CACERT=FILE [").contains("PKIX path building failed");

            Run plainHttp = runWith(alice, "approve", r.id(), "--server", server.replace("https://", "http://"));
            assertThat(plainHttp.exitCode()).isEqualTo(1);
            assertThat(plainHttp.err()).startsWith("portcullis: " + server.replace("https://", "http://") + " gave no HTTP answer (")
                    .contains("; if the admin listener has tls, use --server https://...");

            Run wrongCa = runWith(alice, "approve", r.id(), "--server", server, "--cacert", anotherPem.toString());
            assertThat(wrongCa.exitCode()).isEqualTo(1);
            assertThat(wrongCa.err()).startsWith("portcullis: cannot verify the TLS certificate of " + server + ": it is"
                    + " not signed by a certificate in --cacert " + anotherPem + ", or not issued for 127.0.0.1 [");
            assertThat(gw.service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.PENDING);
        }
    }

    @Test
    void httpsAgainstAPlainHttpAdminListenerSaysToUseHttp() throws Exception {
        try (ApprovalApiFixture gw = new ApprovalApiFixture(dir)) {
            String https = gw.base.toString().replace("http://", "https://");

            Run r = runWith(Map.of("PORTCULLIS_TOKEN", gw.token("alice", "dba")), "approvals", "list", "--server", https);

            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.err()).startsWith("portcullis: TLS with " + https + " failed (")
                    .contains("); if the admin listener has no tls, use --server http://...");
        }
    }

    @Test
    void aCacertFileThatIsMissingOrHoldsNoCertificateIsNamed() throws Exception {
        Map<String, String> env = Map.of("PORTCULLIS_TOKEN", "any");
        Path missing = dir.resolve("missing.pem");
        Path notPem = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");

        Run noFile = runWith(env, "approvals", "list", "--server", "https://127.0.0.1:1", "--cacert", missing.toString());
        Run fromEnv = runWith(Map.of("PORTCULLIS_TOKEN", "any", "PORTCULLIS_CACERT", missing.toString()), "approvals", "list",
                "--server", "https://127.0.0.1:1");
        Run noCertificate = runWith(env, "approvals", "list", "--server", "https://127.0.0.1:1", "--cacert", notPem.toString());

        assertThat(noFile.exitCode()).isEqualTo(1);
        assertThat(noFile.err().strip()).isEqualTo("portcullis: --cacert " + missing + ": no such file");
        assertThat(fromEnv.err().strip()).isEqualTo("portcullis: PORTCULLIS_CACERT=" + missing + ": no such file");
        assertThat(noCertificate.exitCode()).isEqualTo(1);
        assertThat(noCertificate.err()).startsWith("portcullis: --cacert " + notPem + ": not a PEM certificate (-----BEGIN CERTIFICATE-----): ");
    }

    @Test
    void withoutPortcullisTokenTheApprovalCommandsSaySo() {
        Run r = runWith(Map.of(), "approve", "apr_aaaaaaaaaaaaaaaaaaaa", "--server", "http://127.0.0.1:1");

        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("PORTCULLIS_TOKEN is not set");
    }
}
