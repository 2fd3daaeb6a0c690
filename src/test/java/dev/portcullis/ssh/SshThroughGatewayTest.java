package dev.portcullis.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OpenSSH client through the gateway to a real sshd: certificate login, commands judged one by one. */
class SshThroughGatewayTest {
    @TempDir
    static Path dir;
    static SshGatewayFixture f;
    static Path sshConfig;

    @BeforeAll
    static void start() throws Exception {
        f = new SshGatewayFixture(dir);
        sshConfig = f.sshLogin(dir.resolve("agent"), "agent-1", "agents");
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @Test
    void anAllowedCommandRunsOnTheHost() throws Exception {
        SshGatewayFixture.Run r = f.ssh(sshConfig, "web", "echo hello-from-the-host && whoami");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("hello-from-the-host").contains(System.getProperty("user.name"));
    }

    @Test
    void aRefusedCommandSaysWhyWithExitStatus126AndNeverReachesTheHost() throws Exception {
        Path marker = dir.resolve("must-not-exist");
        long before = f.upstreamLogins();
        SshGatewayFixture.Run r = f.ssh(sshConfig, "web", "uptime; rm -rf " + marker + "; touch " + marker);
        assertThat(r.exit()).isEqualTo(126);
        assertThat(r.err()).contains("refused by rule never-destructive");
        assertThat(marker).doesNotExist();
        assertThat(f.upstreamLogins()).as("the gateway never logged in to the host").isEqualTo(before);
    }

    @Test
    void sudoAndUnreadableLinesAreRefused() throws Exception {
        long before = f.upstreamLogins();
        SshGatewayFixture.Run sudo = f.ssh(sshConfig, "web", "sudo uptime");
        assertThat(sudo.exit()).isEqualTo(126);
        assertThat(sudo.err()).contains("no-sudo");
        SshGatewayFixture.Run piped = f.ssh(sshConfig, "web", "echo dXB0aW1l | base64 -d | sh");
        assertThat(piped.exit()).isEqualTo(126);
        assertThat(piped.err()).contains("unreadable-is-refused");
        assertThat(f.upstreamLogins()).isEqualTo(before);
    }

    @Test
    void aKeyWithoutTheGatewaysCertificateIsRefused() throws Exception {
        Path key = dir.resolve("plain_key");
        if (!Files.exists(key)) SshGatewayFixture.run("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", key.toString());
        Path config = Files.writeString(dir.resolve("plain_config"), Files.readString(sshConfig)
                .replaceAll("(?m)^  IdentityFile .*$", "  IdentityFile " + key)
                .replaceAll("(?m)^  CertificateFile .*$", ""));
        SshGatewayFixture.Run r = f.ssh(config, "web", "uptime");
        assertThat(r.exit()).isEqualTo(255);
        assertThat(r.err()).contains("Permission denied");
        assertThat(replayShowing("user agent-1: a key without a certificate from this gateway"))
                .contains("authentication failed (certificate-refused) on web").contains("user agent-1: a key without a certificate from this gateway");
    }

    @Test
    void aCertificateFromAnotherAuthorityIsRefused() throws Exception {
        Path ca = dir.resolve("other_ca");
        Path key = dir.resolve("other_key");
        if (!Files.exists(ca)) {
            SshGatewayFixture.run("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", ca.toString());
            SshGatewayFixture.run("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", key.toString());
            SshGatewayFixture.run("ssh-keygen", "-q", "-s", ca.toString(), "-I", "forged", "-n", "agent-1", "-V", "-5m:+1h", key + ".pub");
        }
        Path config = Files.writeString(dir.resolve("forged_config"), Files.readString(sshConfig)
                .replaceAll("(?m)^  IdentityFile .*$", "  IdentityFile " + key)
                .replaceAll("(?m)^  CertificateFile .*$", "  CertificateFile " + key + "-cert.pub"));
        SshGatewayFixture.Run r = f.ssh(config, "web", "uptime");
        assertThat(r.exit()).isEqualTo(255);
        assertThat(r.err()).contains("Permission denied");
        assertThat(replayShowing("a certificate from another authority")).contains("authentication failed (certificate-refused) on web")
                .contains("user agent-1: a certificate from another authority");
    }

    @Test
    void portForwardingIsRefused() throws Exception {
        SshGatewayFixture.Run r = f.ssh(sshConfig, "-o", "ExitOnForwardFailure=yes", "-L", "127.0.0.1:0:127.0.0.1:" + f.sshPort, "web", "uptime");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).containsIgnoringCase("forward");
    }

    @Test
    void aRestartWaitsForAnSreThenRunsOnTheHost() throws Exception {
        String sre = f.token("oncall-1", "sre");
        Path marker = dir.resolve("restarted");
        CompletableFuture<SshGatewayFixture.Run> held = CompletableFuture.supplyAsync(() -> {
            try {
                return f.ssh(sshConfig, "web", "systemctl restart nginx");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        String id = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        HttpClient http = HttpClient.newHttpClient();
        while (id == null && System.nanoTime() < deadline) {
            HttpResponse<String> listed = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/approvals?state=pending"))
                    .header("Authorization", "Bearer " + sre).build(), HttpResponse.BodyHandlers.ofString());
            for (JsonNode a : new ObjectMapper().readTree(listed.body()).path("approvals")) {
                if (a.path("summary").asText().equals("exec: systemctl restart nginx")) id = a.path("id").asText();
            }
            if (id == null) Thread.sleep(100);
        }
        assertThat(id).isNotNull();
        long before = f.upstreamLogins();
        HttpResponse<String> approved = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/approvals/" + id + "/approve"))
                .header("Authorization", "Bearer " + sre).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(approved.statusCode()).isEqualTo(200);
        SshGatewayFixture.Run r = held.get(60, TimeUnit.SECONDS);
        assertThat(r.err()).contains("waiting for approval " + id);
        assertThat(f.upstreamLogins()).as("it ran on the host once approved").isEqualTo(before + 1);
        assertThat(r.exit()).as("systemctl's own exit status comes back: " + r.err()).isNotEqualTo(126);
    }

    @Test
    void everyCommandIsRecordedWithItsVerdictAndOutput() throws Exception {
        f.ssh(sshConfig, "web", "echo recorded-output-marker");
        f.ssh(sshConfig, "web", "reboot");
        String all = replayShowing("recorded-output-marker", "exec: reboot");
        assertThat(all).contains("exec: echo recorded-output-marker").contains("recorded-output-marker\\r\\n")
                .contains("exec: reboot").contains("deny (rule never-destructive)").contains("agent-1: ssh via web");
    }

    /** The replay of every recorded session, once it shows each of {@code texts} (or after 10 s). */
    static String replayShowing(String... texts) throws Exception {
        String all = "";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            StringBuilder text = new StringBuilder();
            try (AuditStore store = LoggedStore.openForReading(dir.resolve("data").resolve("portcullis.db"))) {
                Replay replay = new Replay(store, ZoneId.of("UTC"));
                for (var s : store.sessions(SessionQuery.newest().limit(1000))) text.append(replay.text(s.id()));
            }
            all = text.toString();
            String seen = all;
            if (java.util.Arrays.stream(texts).allMatch(seen::contains)) break;
            Thread.sleep(100);
        }
        return all;
    }

    @Test
    void aSessionAdminEndsARunningCommand() throws Exception {
        String sre = f.token("oncall-2", "sre");
        CompletableFuture<SshGatewayFixture.Run> running = CompletableFuture.supplyAsync(() -> {
            try {
                return f.ssh(sshConfig, "web", "tail -f /dev/null");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        HttpClient http = HttpClient.newHttpClient();
        String id = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (id == null && System.nanoTime() < deadline) {
            HttpResponse<String> live = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/sessions/live"))
                    .header("Authorization", "Bearer " + sre).build(), HttpResponse.BodyHandlers.ofString());
            for (JsonNode s : new ObjectMapper().readTree(live.body()).path("sessions")) {
                if (s.path("protocol").asText().equals("ssh")) id = s.path("id").asText();
            }
            if (id == null) Thread.sleep(100);
        }
        assertThat(id).as("the running command is live").isNotNull();
        HttpResponse<String> killed = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/sessions/" + id + "/terminate"))
                .header("Authorization", "Bearer " + sre).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"enough tailing\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(killed.statusCode()).as(killed.body()).isEqualTo(200);
        SshGatewayFixture.Run r = running.get(30, TimeUnit.SECONDS);
        assertThat(r.err()).contains("ended by oncall-2: enough tailing");
    }

    @Test
    void anInteractiveShellWaitsForAnSreThenRunsWithATerminalAndIsRecorded() throws Exception {
        String sre = f.token("oncall-3", "sre");
        Process ssh = new ProcessBuilder("ssh", "-F", sshConfig.toString(), "-o", "BatchMode=yes", "-tt", "web").start();
        ssh.getOutputStream().write("echo shell-$((6*7))-marker\nexit\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ssh.getOutputStream().flush();
        HttpClient http = HttpClient.newHttpClient();
        String id = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (id == null && System.nanoTime() < deadline) {
            HttpResponse<String> listed = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/approvals?state=pending"))
                    .header("Authorization", "Bearer " + sre).build(), HttpResponse.BodyHandlers.ofString());
            for (JsonNode a : new ObjectMapper().readTree(listed.body()).path("approvals")) {
                if (a.path("summary").asText().equals("shell")) id = a.path("id").asText();
            }
            if (id == null) Thread.sleep(100);
        }
        assertThat(id).isNotNull();
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/approvals/" + id + "/approve"))
                .header("Authorization", "Bearer " + sre).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        String out = new String(ssh.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(ssh.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("shell-42-marker");
        String all = "";
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!all.contains("shell-42-marker") && System.nanoTime() < deadline) {
            StringBuilder text = new StringBuilder();
            try (AuditStore store = LoggedStore.openForReading(dir.resolve("data").resolve("portcullis.db"))) {
                Replay replay = new Replay(store, ZoneId.of("UTC"));
                for (var s : store.sessions(SessionQuery.newest().limit(100))) {
                    for (Replay.Cast c : replay.casts(s.id())) if (c.summary().equals("shell")) text.append(c.asciicast());
                }
            }
            all = text.toString();
            Thread.sleep(100);
        }
        assertThat(all).as("the shell's keystrokes and output are recorded").contains("\"i\"").contains("shell-42-marker");
    }

    @Test
    void aCertificateForAnotherPrincipalOrOneTheGatewayNeverIssuedIsRefused() throws Exception {
        Path config = Files.writeString(dir.resolve("other_user_config"), Files.readString(sshConfig)
                .replaceAll("(?m)^  User .*$", "  User root"));
        assertThat(f.ssh(config, "web", "uptime").err()).contains("Permission denied");

        // signed with the gateway's own CA key (as if stolen), expired, and never issued by it: refused
        Path key = dir.resolve("expired_key");
        if (!Files.exists(key)) {
            SshGatewayFixture.run("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", key.toString());
            SshGatewayFixture.run("ssh-keygen", "-q", "-s", dir.resolve("data").resolve("ssh-web-user-ca").toString(), "-I", "old",
                    "-n", "agent-1", "-V", "20200101:20200102", key + ".pub");
        }
        Path expired = Files.writeString(dir.resolve("expired_config"), Files.readString(sshConfig)
                .replaceAll("(?m)^  IdentityFile .*$", "  IdentityFile " + key)
                .replaceAll("(?m)^  CertificateFile .*$", "  CertificateFile " + key + "-cert.pub"));
        SshGatewayFixture.Run r = f.ssh(expired, "web", "uptime");
        assertThat(r.exit()).isEqualTo(255);
        assertThat(r.err()).contains("Permission denied");

        // (OpenSSH does not even offer a certificate outside its validity period: UserCertificatesTest covers those)
        assertThat(replayShowing("user root: a certificate not valid for user root")).contains("user root: a certificate not valid for user root");
    }

    @Test
    void garbageInsteadOfAnSshClientIsDroppedAndOthersAreStillServed() throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", f.gatewayPort)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().write(new byte[64 * 1024]);
            s.getOutputStream().flush();
            byte[] answer = s.getInputStream().readNBytes(4096); // the server's version line, then the connection ends
            assertThat(new String(answer, java.nio.charset.StandardCharsets.US_ASCII)).startsWith("SSH-2.0-");
        } catch (java.net.SocketException closed) {
            // dropped while the garbage was still being written: just as good
        }
        SshGatewayFixture.Run r = f.ssh(sshConfig, "web", "echo still-serving");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("still-serving");
    }

    @Test
    void anOversizedPacketAfterTheVersionLineIsDroppedAndOthersAreStillServed() throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", f.gatewayPort)) {
            s.setSoTimeout(10_000);
            var out = s.getOutputStream();
            out.write("SSH-2.0-OpenSSH_9.2\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.write(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}); // a 2 GiB packet announced
            out.write(new byte[1024]);
            out.flush();
            Thread.sleep(200);
            out.write(new byte[8192]); // MINA reads a random few bytes more before it drops (no length oracle), as OpenSSH does
            out.flush();
            var in = s.getInputStream();
            var received = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) received.write(buffer, 0, n); // its version line, its key exchange offer, the end
            } catch (java.net.SocketException reset) {
                // dropped with a reset: just as good
            }
            assertThat(received.toString(java.nio.charset.StandardCharsets.ISO_8859_1)).startsWith("SSH-2.0-");
        }
        SshGatewayFixture.Run r = f.ssh(sshConfig, "web", "echo still-serving");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("still-serving");
    }

    @Test
    void unknownChannelsAndRequestsAndTheLargestWindowsAreRefusedOrCappedAndTheConnectionGoesOn() throws Exception {
        Path agentDir = dir.resolve("agent");
        java.security.KeyPair key = new org.apache.sshd.common.keyprovider.FileKeyPairProvider(agentDir.resolve("web")).loadKeys(null).iterator().next();
        java.security.PublicKey certificate = org.apache.sshd.common.config.keys.PublicKeyEntry
                .parsePublicKeyEntry(Files.readString(agentDir.resolve("web-cert.pub")).strip()).resolvePublicKey(null, java.util.Map.of(), null);
        try (org.apache.sshd.client.SshClient client = org.apache.sshd.client.SshClient.setUpDefaultClient()) {
            client.setServerKeyVerifier(org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier.INSTANCE); // pinning is tested with OpenSSH
            // the largest window and packet a peer can announce: the gateway must not trust them for its own buffers
            org.apache.sshd.core.CoreModuleProperties.WINDOW_SIZE.set(client, 0xFFFFFFFFL);
            org.apache.sshd.core.CoreModuleProperties.MAX_PACKET_SIZE.set(client, 0x1FFFFFFFL); // MINA's own ceiling as a client
            client.start();
            try (org.apache.sshd.client.session.ClientSession session = client.connect("agent-1", "127.0.0.1", f.gatewayPort)
                    .verify(10, TimeUnit.SECONDS).getSession()) {
                session.addPublicKeyIdentity(new java.security.KeyPair(certificate, key.getPrivate()));
                session.auth().verify(10, TimeUnit.SECONDS);

                // a channel type the gateway does not serve: the protocol's open failure
                var odd = new org.apache.sshd.client.channel.AbstractClientChannel("evil-channel@example.com") {
                    @Override
                    protected void doOpen() {
                    }
                };
                session.getService(org.apache.sshd.common.session.ConnectionService.class).registerChannel(odd);
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> odd.open().verify(10, TimeUnit.SECONDS))
                        .hasMessageContaining("evil-channel@example.com");

                // a global request it does not know: answered with a failure
                var request = session.createBuffer(org.apache.sshd.common.SshConstants.SSH_MSG_GLOBAL_REQUEST);
                request.putString("evil-global@example.com");
                request.putBoolean(true);
                assertThat(session.request("evil-global@example.com", request, 10, TimeUnit.SECONDS)).isNull();

                // an exec that also asks for agent forwarding: refused, the command still judged and run
                try (var exec = session.createExecChannel("echo after-odd-requests")) {
                    exec.setAgentForwarding(true);
                    var out = new java.io.ByteArrayOutputStream();
                    exec.setOut(out);
                    exec.setErr(new java.io.ByteArrayOutputStream());
                    exec.open().verify(10, TimeUnit.SECONDS);
                    exec.waitFor(java.util.EnumSet.of(org.apache.sshd.client.channel.ClientChannelEvent.CLOSED), TimeUnit.SECONDS.toMillis(20));
                    assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("after-odd-requests");
                    assertThat(exec.getExitStatus()).isZero();
                }
            }
        }
        assertThat(replayShowing("exec: echo after-odd-requests")).contains("exec: echo after-odd-requests");
    }

    static SshGatewayFixture.Run tool(String... command) throws Exception {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new SshGatewayFixture.Run(p.exitValue(), out, err);
    }

    @Test
    void sftpAndScpReadLogsAndWriteNothing() throws Exception {
        Path log = Path.of("/var/log/portcullis-test-" + ProcessHandle.current().pid() + ".log");
        Files.writeString(log, "a log line for the agent\n");
        try {
            Path fetched = dir.resolve("fetched.log");
            Path batch = Files.writeString(dir.resolve("sftp-get"), "get " + log + " " + fetched + "\n");
            SshGatewayFixture.Run get = tool("sftp", "-F", sshConfig.toString(), "-o", "BatchMode=yes", "-b", batch.toString(), "web");
            assertThat(get.exit()).as(get.err()).isZero();
            assertThat(Files.readString(fetched)).isEqualTo("a log line for the agent\n");

            Path upload = Files.writeString(dir.resolve("upload.txt"), "not for the host");
            Path target = Path.of("/tmp/portcullis-upload-" + ProcessHandle.current().pid());
            Path put = Files.writeString(dir.resolve("sftp-put"), "put " + upload + " " + target + "\n");
            SshGatewayFixture.Run refused = tool("sftp", "-F", sshConfig.toString(), "-o", "BatchMode=yes", "-b", put.toString(), "web");
            assertThat(refused.exit()).isNotZero();
            assertThat(target).doesNotExist();

            Path viaScp = dir.resolve("scp.log");
            SshGatewayFixture.Run scp = tool("scp", "-F", sshConfig.toString(), "-o", "BatchMode=yes", "web:" + log, viaScp.toString());
            assertThat(scp.exit()).as(scp.err()).isZero();
            assertThat(Files.readString(viaScp)).contains("a log line");
            SshGatewayFixture.Run scpUp = tool("scp", "-F", sshConfig.toString(), "-o", "BatchMode=yes", upload.toString(), "web:" + target);
            assertThat(scpUp.exit()).isNotZero();
            assertThat(target).doesNotExist();

            Path escape = Files.writeString(dir.resolve("sftp-escape"), "get /var/log/../../etc/hostname " + dir.resolve("hostname") + "\n");
            SshGatewayFixture.Run climbed = tool("sftp", "-F", sshConfig.toString(), "-o", "BatchMode=yes", "-b", escape.toString(), "web");
            assertThat(climbed.exit()).isNotZero();
            assertThat(dir.resolve("hostname")).doesNotExist();
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void aChangedHostKeyRefusesTheConnectionToTheHost() throws Exception {
        Path knownHosts = dir.resolve("known_hosts");
        String pinned = Files.readString(knownHosts);
        Path impostor = dir.resolve("impostor_key");
        if (!Files.exists(impostor)) SshGatewayFixture.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", impostor.toString());
        try {
            Files.writeString(knownHosts, "[127.0.0.1]:" + f.sshPort + " " + Files.readString(Path.of(impostor + ".pub")));
            Thread.sleep(1100); // the file's modification time moves on: the gateway reads it again
            long before = f.upstreamLogins();
            SshGatewayFixture.Run r = f.ssh(sshConfig, "web", "echo must-not-run");
            assertThat(r.exit()).isEqualTo(255);
            assertThat(r.out()).doesNotContain("must-not-run");
            assertThat(r.err()).contains("cannot be reached");
            assertThat(f.upstreamLogins()).isEqualTo(before);
        } finally {
            Files.writeString(knownHosts, pinned);
            Thread.sleep(1100);
        }
        assertThat(f.ssh(sshConfig, "web", "echo pinned-again").out()).contains("pinned-again");
    }

    @Test
    void asciinemaPlaysTheRecordedCommand() throws Exception {
        f.ssh(sshConfig, "web", "echo cast-marker-for-asciinema");
        Replay.Cast cast = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (cast == null && System.nanoTime() < deadline) {
            try (AuditStore store = LoggedStore.openForReading(dir.resolve("data").resolve("portcullis.db"))) {
                Replay replay = new Replay(store, ZoneId.of("UTC"));
                for (var s : store.sessions(SessionQuery.newest().limit(100))) {
                    for (Replay.Cast c : replay.casts(s.id())) if (c.asciicast().contains("cast-marker-for-asciinema")) cast = c;
                }
            }
            if (cast == null) Thread.sleep(100);
        }
        assertThat(cast).isNotNull();
        Path file = Files.writeString(dir.resolve("ssh.cast"), cast.asciicast());
        Process asciinema = new ProcessBuilder("script", "-qec", "asciinema cat " + file, "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).redirectErrorStream(true).start();
        String played = new String(asciinema.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(asciinema.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(played).contains("cast-marker-for-asciinema");
    }
}
