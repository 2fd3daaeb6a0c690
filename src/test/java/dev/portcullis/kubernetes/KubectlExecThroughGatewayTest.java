package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.testing.Kubectl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kubectl exec through the gateway: over SPDY (1.27) and WebSocket (1.33), the command judged before
 * anything reaches the pod, a shell held for an sre, and every exec recorded as an asciicast that
 * {@code asciinema} reads.
 */
class KubectlExecThroughGatewayTest {
    private static final ObjectMapper JSON = new ObjectMapper();

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

    @BeforeEach
    void forget() {
        f.api.reset();
    }

    record Result(int exit, String out) {
    }

    static Result exec(String version, String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Kubectl.binary(version), "--kubeconfig", agent.toString(),
                "--cache-dir", dir.resolve("cache-" + version).toString(), "exec"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (stdin != null) p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as(out).isTrue();
        return new Result(p.exitValue(), out);
    }

    /** The asciicasts recorded so far, newest last, across the agent's sessions. */
    static List<Replay.Cast> casts() throws Exception {
        List<Replay.Cast> all = new ArrayList<>();
        try (AuditStore store = LoggedStore.openForReading(f.dir.resolve("data").resolve("portcullis.db"))) {
            Replay replay = new Replay(store, ZoneId.of("UTC"));
            var sessions = new ArrayList<>(store.sessions(SessionQuery.newest().limit(1000)));
            java.util.Collections.reverse(sessions);
            for (var s : sessions) all.addAll(replay.casts(s.id()));
        }
        return all;
    }

    /** The recorded terminal session that shows {@code text}, once it is recorded. */
    static Replay.Cast awaitCast(String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (Replay.Cast c : casts()) if (c.asciicast().contains(text)) return c;
            Thread.sleep(50);
        }
        throw new AssertionError("no recorded terminal session shows " + text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void anAllowedCommandRunsInThePodAndIsRecordedAsATerminalSession(String version) throws Exception {
        Result ls = exec(version, null, "web-1", "-n", "dev", "--", "ls", "-la");
        assertThat(ls.exit()).as(ls.out()).isZero();
        assertThat(ls.out()).contains("app.py");
        assertThat(f.reached("/api/v1/namespaces/dev/pods/web-1/exec")).isNotEmpty()
                .allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer " + KubeGatewayFixture.CLUSTER_TOKEN));

        String marker = "typed-through-" + version;
        Result cat = exec(version, marker + "\n", "-i", "web-1", "-n", "dev", "--", "cat");
        assertThat(cat.exit()).as(cat.out()).isZero();
        assertThat(cat.out()).contains(marker);

        // kubectl is done once it has the exit status; the gateway records the stream's end as both sides close
        Replay.Cast recorded = awaitCast(marker);
        assertThat(recorded.summary()).isEqualTo("exec pods/web-1 in dev: cat");
        List<String> lines = recorded.asciicast().lines().toList();
        JsonNode header = JSON.readTree(lines.getFirst());
        assertThat(header.path("version").asInt()).isEqualTo(2);
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("\"i\"").contains(marker)); // what the agent typed
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("\"o\"").contains(marker)); // what the pod wrote back
        assertThat(lines.getLast()).contains("Success");

        // asciinema itself reads the cast the replay command exports (under script(1): it wants a terminal)
        Path file = dir.resolve("exec-" + version + ".cast");
        Files.writeString(file, recorded.asciicast());
        Process asciinema = new ProcessBuilder("script", "-qec", "asciinema cat " + file, "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).redirectErrorStream(true).start();
        String played = new String(asciinema.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(asciinema.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(asciinema.exitValue()).as(played).isZero();
        assertThat(played).contains(marker);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void aCommandOutsideTheListIsForbiddenAndNeverReachesThePod(String version) throws Exception {
        Result rm = exec(version, null, "web-1", "-n", "dev", "--", "rm", "-rf", "/");
        assertThat(rm.exit()).isNotZero();
        assertThat(rm.out()).contains("Error from server (Forbidden)").contains("exec pods/web-1 in dev: rm -rf /");
        Result wrapped = exec(version, null, "web-1", "-n", "dev", "--", "env", "A=1", "rm", "-rf", "/");
        assertThat(wrapped.out()).contains("Forbidden");
        Result otherNamespace = exec(version, null, "web-1", "-n", "staging", "--", "ls");
        assertThat(otherNamespace.out()).contains("Forbidden");
        assertThat(f.api.received()).noneSatisfy(r -> assertThat(r.path()).endsWith("/exec"));
    }

    private static String marker(String version) {
        return "tty-" + version.replace(".", "");
    }

    /**
     * An exec's stream lasts as long as the agent keeps it open; its outcome is recorded when it ends. That time is the
     * agent's, not the gateway's: {@code portcullis_gateway_added_seconds} leaves the stream out.
     */
    @Test
    void anExecStreamsLifeIsNotCountedAsTimeTheGatewayAdded() throws Exception {
        Process p = new ProcessBuilder(Kubectl.binary("1.33"), "--kubeconfig", agent.toString(), "--cache-dir",
                dir.resolve("cache-held").toString(), "exec", "-i", "web-1", "-n", "dev", "--", "cat")
                .redirectErrorStream(true).start();
        String marker = "held-open-for-two-seconds";
        try {
            p.getOutputStream().write((marker + "\n").getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().flush();
            Thread.sleep(2000); // the stream stays open, the agent idle
            p.getOutputStream().close();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains(marker);
            assertThat(p.exitValue()).isZero();
        } finally {
            p.destroyForcibly();
        }
        awaitCast(marker); // the stream's end is recorded

        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + f.adminPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher sum = Pattern.compile("(?m)^portcullis_gateway_added_seconds_sum\\{connection=\"cluster\",?\\} (\\S+)$").matcher(metrics);
        // kubectl's calls before the exec are counted (each a few milliseconds); the two seconds the stream was open are not
        double seconds = sum.find() ? Double.parseDouble(sum.group(1)) : 0;
        assertThat(seconds).as(metrics).isLessThan(1.0);
    }

    /** kubectl exec -it under script(1), which gives it a terminal: the shell is held, approved, used, and its resizes recorded. */
    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void anInteractiveShellWithATerminalRunsOnceApproved(String version) throws Exception {
        String sre = f.token("oncall-2", "sre");
        String kubectl = Kubectl.binary(version) + " --kubeconfig " + agent + " exec -it web-1 -n dev -- bash";
        Process p = new ProcessBuilder("script", "-qec", kubectl, "/dev/null").redirectErrorStream(true).start();
        try {
            String id = f.awaitPending(sre, "exec pods/web-1 in dev: bash");
            assertThat(f.approvals("POST", "/" + id + "/approve", sre).statusCode()).isEqualTo(200);
            Thread.sleep(1500); // the terminal is set up once the stream is open
            p.getOutputStream().write(("echo " + marker(version) + "\r").getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().flush();
            Thread.sleep(500);
            p.getOutputStream().write("exit\r".getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().flush();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        // recorded when the stream ends: what the agent typed, what the shell answered, how it ended
        Replay.Cast cast = awaitCast("ran: echo " + marker(version));
        assertThat(cast.summary()).isEqualTo("exec pods/web-1 in dev: bash");
        assertThat(cast.asciicast()).contains("\"i\"").contains("Success");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void aSessionAdminEndsALiveExecAndTheRecordingSaysWho(String version) throws Exception {
        String sre = f.token("oncall-3", "sre");
        String agentToken = f.token("agent-live-" + version.replace(".", ""), "agents");
        Path kubeconfig = f.kubeconfig("live-" + version, agentToken);
        Path printed = dir.resolve("live-" + version + ".out");
        Process cat = new ProcessBuilder(Kubectl.binary(version), "--kubeconfig", kubeconfig.toString(), "-v=6", "exec", "-i", "web-1", "-n", "dev",
                "--", "cat").redirectErrorStream(true).redirectOutput(printed.toFile()).start(); // stdin stays open: the stream stays live
        try {
            String id = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (id == null && System.nanoTime() < deadline) {
                var live = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/sessions/live")).header("Authorization", "Bearer " + sre).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                for (JsonNode s : JSON.readTree(live.body()).path("sessions")) {
                    if (s.path("subject").asText().startsWith("agent-live-" + version.replace(".", ""))) id = s.path("id").asText();
                }
                if (id == null) Thread.sleep(100);
            }
            assertThat(id).as("the exec is listed as live").isNotNull();
            // and it is live from end to end: kubectl has its streams (over SPDY, 1.27 sets them up after the 101)
            // and what is typed comes back; only then is it ended
            String typed = "live-" + version + "\n";
            cat.getOutputStream().write(typed.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            cat.getOutputStream().flush();
            while (!Files.readString(printed).contains(typed.strip() + "\n") && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(Files.readString(printed)).as("the pod echoed what was typed").contains(typed.strip() + "\n");
            var killed = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + f.adminPort + "/api/v1/sessions/" + id + "/terminate"))
                    .header("Authorization", "Bearer " + sre).header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"reason\":\"stop now " + version + "\"}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(killed.statusCode()).as(killed.body()).isEqualTo(200);
            boolean ended = cat.waitFor(30, TimeUnit.SECONDS);
            assertThat(ended).as("kubectl ends with the stream; it printed:\n%s", Files.readString(printed)).isTrue();
        } finally {
            cat.destroyForcibly();
        }
        assertThat(awaitCast("terminated by oncall-3: stop now " + version).summary()).isEqualTo("exec pods/web-1 in dev: cat");
    }

    @Test
    void theReplayCommandExportsTheSessionsExecsForAsciinema() throws Exception {
        String marker = "exported-" + System.nanoTime();
        Result cat = exec("1.33", marker + "\n", "-i", "web-1", "-n", "dev", "--", "cat");
        assertThat(cat.exit()).as(cat.out()).isZero();
        String session = awaitCast(marker).sessionId();
        Path cast = dir.resolve("session.cast");
        var main = Class.forName("dev.portcullis.cli.Main").getDeclaredMethod("commandLine");
        main.setAccessible(true);
        var cli = (picocli.CommandLine) main.invoke(null);
        java.io.StringWriter err = new java.io.StringWriter();
        cli.setErr(new java.io.PrintWriter(err));
        java.io.PrintStream stdout = System.out;
        int exit;
        try {
            System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            exit = cli.execute("replay", session, "--store", f.dir.resolve("data").resolve("portcullis.db").toString(), "--cast", cast.toString());
        } finally {
            System.setOut(stdout);
        }
        assertThat(exit).as(err.toString()).isZero();
        Path written;
        try (var files = Files.list(dir)) {
            written = files.filter(p -> p.getFileName().toString().startsWith("session")).filter(p -> {
                try {
                    return Files.readString(p).contains(marker);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).findFirst().orElseThrow(() -> new AssertionError("no exported cast shows " + marker));
        }
        Process asciinema = new ProcessBuilder("script", "-qec", "asciinema cat " + written, "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).redirectErrorStream(true).start();
        String played = new String(asciinema.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(asciinema.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(played).contains(marker);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void attachIsRefusedByTheExampleAndNeverReachesThePod(String version) throws Exception {
        Process p = new ProcessBuilder(Kubectl.binary(version), "--kubeconfig", agent.toString(), "attach", "web-1", "-n", "dev", "-i")
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("attach pods/web-1 in dev is forbidden");
        assertThat(f.api.received()).noneSatisfy(r -> assertThat(r.path()).endsWith("/attach"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void portForwardIsRefusedByDefault(String version) throws Exception {
        Process p = new ProcessBuilder(Kubectl.binary(version), "--kubeconfig", agent.toString(), "port-forward", "pod/web-1", "-n", "dev",
                "0:8080").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8); // kubectl gives up on its own
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("portforward pods/web-1 in dev is forbidden: Portcullis rule default-deny");
        assertThat(f.api.received()).noneSatisfy(r -> assertThat(r.path()).endsWith("/portforward"));
    }

    @Test
    void aShellWaitsForAnSreAndRunsOnceApproved() throws Exception {
        String sre = f.token("oncall-1", "sre");
        CompletableFuture<Result> shell = CompletableFuture.supplyAsync(() -> {
            try {
                return exec("1.33", "hostname\nexit\n", "-i", "web-1", "-n", "dev", "--", "sh");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        String id = f.awaitPending(sre, "exec pods/web-1 in dev: sh");
        assertThat(f.api.received()).as("nothing before the approval").noneSatisfy(r -> assertThat(r.path()).endsWith("/exec"));
        assertThat(f.approvals("POST", "/" + id + "/approve", sre).statusCode()).isEqualTo(200);
        Result run = shell.get(60, TimeUnit.SECONDS);
        assertThat(run.exit()).as(run.out()).isZero();
        assertThat(run.out()).contains("ran: hostname");
        assertThat(awaitCast("ran: hostname").summary()).isEqualTo("exec pods/web-1 in dev: sh");
    }
}
