package dev.portcullis.ssh;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.gate.ApprovalFlow;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.ConnectionSession;
import dev.portcullis.recording.Excerpt;
import dev.portcullis.recording.WithoutTerminal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.EnumSet;
import java.util.concurrent.ExecutorService;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One exec request (or shell) of an agent's SSH session: judged, then refused on stderr with exit status
 * 126, held for approval (the approval id and page on stderr, then run once approved), or run on the host
 * over the gateway's own SSH connection, its output recorded as an asciicast v2.
 */
final class ExecCommand implements Command {
    private static final Logger log = LoggerFactory.getLogger(ExecCommand.class);
    private static final ObjectMapper JSON = Json.mapper();
    static final int REFUSED = 126;
    private static final int MAX_CAST_BYTES = 1024 * 1024;

    private final SshConnectionConfig config;
    private final Gate gate;
    private final SshListener.Upstream upstream;
    private final ExecutorService threads;
    private final String command; // null: a shell
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;
    private volatile ChannelExec running;

    ExecCommand(SshConnectionConfig config, Gate gate, SshListener.Upstream upstream, ExecutorService threads, String command) {
        this.config = config;
        this.gate = gate;
        this.upstream = upstream;
        this.threads = threads;
        this.command = command;
    }

    @Override
    public void setInputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
        this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
        this.exit = callback;
    }

    private Environment env;

    @Override
    public void start(ChannelSession channel, Environment env) {
        this.env = env;
        threads.execute(() -> run(channel));
    }

    @Override
    public void destroy(ChannelSession channel) {
        ChannelExec c = running;
        if (c != null) c.close(true);
    }

    private void run(ChannelSession channel) {
        Identity identity = channel.getSession().getAttribute(SshListener.IDENTITY);
        SshCommand operation = command == null ? SshCommand.interactiveShell() : SshCommand.exec(command);
        long start = System.nanoTime();
        Gate.Judged judged;
        try {
            ConnectionSession recording = SshListener.recording(channel.getSession(), gate, config, identity);
            judged = gate.judge(recording, config.name(), identity, operation, config.policy(), "");
        } catch (GateUnavailableException e) {
            finish(REFUSED, "portcullis: refused: " + e.getMessage());
            return;
        }
        switch (judged.decision().verdict()) {
            case Verdict.Deny deny -> {
                judged.completeRefused(start);
                finish(REFUSED, "portcullis: refused by rule " + deny.ruleId() + ": " + deny.reason() + " (" + operation.summary() + ")");
            }
            case Verdict.HoldForApproval hold -> held(judged, identity, hold, operation, start);
            default -> forward(judged, operation, start);
        }
    }

    private void held(Gate.Judged judged, Identity identity, Verdict.HoldForApproval hold, SshCommand operation, long start) {
        ApprovalFlow.Outcome outcome;
        try {
            outcome = gate.approvals().hold(judged, identity, operation.line().getBytes(StandardCharsets.UTF_8), hold, hold.holdTimeout(),
                    new ApprovalFlow.Client() {
                        @Override
                        public void held(dev.portcullis.approval.ApprovalRequest request, String page) throws IOException {
                            err.write(("portcullis: waiting for approval " + request.id() + " by " + String.join(", ", hold.approverGroups())
                                    + " (rule " + hold.ruleId() + "): " + page + "\n").getBytes(StandardCharsets.UTF_8));
                            err.flush();
                        }
                    });
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            judged.completeRefused(start);
            finish(REFUSED, "portcullis: the gateway stopped while the command waited for approval");
            return;
        }
        if (outcome instanceof ApprovalFlow.Outcome.Released) {
            forward(judged, operation, start);
            return;
        }
        judged.completeRefused(start);
        String why = switch (outcome) {
            case ApprovalFlow.Outcome.Refused r -> r.message();
            case ApprovalFlow.Outcome.Pending p -> "approval " + p.request().id() + " was not given in time";
            case ApprovalFlow.Outcome.Unavailable u -> u.message();
            case ApprovalFlow.Outcome.ClientLeft l -> "the client left";
            case ApprovalFlow.Outcome.Released r -> throw new AssertionError();
        };
        finish(REFUSED, "portcullis: not run: " + why);
    }

    private void forward(Gate.Judged judged, SshCommand operation, long start) {
        if (operation.shell()) {
            shell(judged, start);
            return;
        }
        Cast cast = new Cast(operation.summary(), !env.getPtyModes().isEmpty());
        try (ClientSession session = upstream.open(); ChannelExec exec = session.createExecChannel(operation.line())) {
            running = exec;
            exec.setIn(in);
            exec.setOut(cast.tee(out));
            exec.setErr(cast.tee(err));
            relay(judged, exec, cast, start, 255, "");
        } catch (IOException | RuntimeException e) {
            upstreamFailed(judged, start, e);
        }
    }

    /**
     * Opens the host's channel, registers it as live (a session admin may end it), waits for its end,
     * records it with the cast and the exit status ({@code noStatus} when the host sent none), and ends
     * the agent's channel the same way.
     */
    private void relay(Gate.Judged judged, org.apache.sshd.client.channel.ClientChannel channel, Cast cast, long start, int noStatus,
                       String lineBreak) throws IOException {
        var live = gate.live().register(judged.sessionId(), judged.identity(), config.name(), "ssh", (by, reason) -> {
            try {
                err.write((lineBreak + "portcullis: this session was ended by " + by + ": " + reason + "\n").getBytes(StandardCharsets.UTF_8));
                err.flush();
            } catch (IOException ignored) {
                // the client is gone already
            }
            channel.close(true);
        });
        try {
            channel.open().verify(config.connectTimeout());
            judged.upstreamLatency(System.nanoTime() - start);
            channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 0L);
            Integer status = channel.getExitStatus();
            int code = status == null ? noStatus : status;
            try {
                judged.completeForwarded(code, cast.excerpt(code), start);
            } catch (GateUnavailableException e) {
                log.error("recording the end of an ssh command on {} failed: {}", config.name(), e.getMessage());
            }
            finish(code, null);
        } finally {
            live.close();
        }
    }

    private void upstreamFailed(Gate.Judged judged, long start, Exception e) {
        log.warn("ssh upstream on {} failed: {}", config.name(), e.toString());
        judged.completeUpstreamFailed("upstream " + config.upstreamHost() + ":" + config.upstreamPort() + ": " + e.getMessage(), start);
        finish(255, "portcullis: the host " + config.upstreamHost() + " cannot be reached: " + e.getMessage());
    }

    /** An interactive shell on the host, with the agent's terminal (type, size, resizes) when it asked for one. */
    private void shell(Gate.Judged judged, long start) {
        java.util.Map<String, String> vars = env.getEnv();
        boolean pty = !env.getPtyModes().isEmpty();
        int[] size = {number(vars.get(Environment.ENV_COLUMNS), 80), number(vars.get(Environment.ENV_LINES), 24)};
        Cast cast = new Cast("shell", size[0], size[1], pty);
        try (ClientSession session = upstream.open(); var shell = session.createShellChannel()) {
            if (pty) {
                shell.setPtyType(vars.getOrDefault(Environment.ENV_TERM, "xterm"));
                shell.setPtyColumns(size[0]);
                shell.setPtyLines(size[1]);
                shell.setPtyModes(env.getPtyModes());
            } else {
                shell.setUsePty(false);
            }
            shell.setIn(cast.input(in));
            shell.setOut(cast.tee(out));
            shell.setErr(cast.tee(err));
            env.addSignalListener((channel, signal) -> {
                int cols = number(env.getEnv().get(Environment.ENV_COLUMNS), size[0]);
                int rows = number(env.getEnv().get(Environment.ENV_LINES), size[1]);
                cast.resize(cols, rows);
                try {
                    shell.sendWindowChange(cols, rows);
                } catch (IOException e) {
                    log.debug("window change not sent: {}", e.getMessage());
                }
            }, org.apache.sshd.server.Signal.WINCH);
            relay(judged, shell, cast, start, 0, "\r\n");
        } catch (IOException | RuntimeException e) {
            upstreamFailed(judged, start, e);
        }
    }

    private static int number(String text, int otherwise) {
        try {
            return text == null ? otherwise : Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    private void finish(int code, String message) {
        try {
            if (message != null) {
                err.write((message + "\n").getBytes(StandardCharsets.UTF_8));
                err.flush();
            }
            out.flush();
        } catch (IOException ignored) {
            // the client is gone
        }
        exit.onExit(code, message == null ? "" : message);
    }

    /** The command's output as an asciicast v2 document, kept up to 1 MiB. */
    private static final class Cast {
        private final long startNanos = System.nanoTime();
        private final ByteArrayOutputStream text = new ByteArrayOutputStream();
        private long total;
        private boolean cut;

        /** Present when the program has no terminal: its line feeds are recorded as a terminal would show them. */
        private final WithoutTerminal noTerminal;

        Cast(String title, boolean terminal) {
            this(title, 80, 24, terminal);
        }

        Cast(String title, int width, int height, boolean terminal) {
            noTerminal = terminal ? null : new WithoutTerminal();
            line(JSON.createObjectNode().put("version", 2).put("width", width).put("height", height)
                    .put("timestamp", Instant.now().getEpochSecond()).put("title", title).toString());
        }

        synchronized void output(byte[] b, int off, int len) {
            String data = new String(b, off, len, StandardCharsets.UTF_8);
            event("o", noTerminal == null ? data : noTerminal.translate(data));
        }

        synchronized void event(String type, String data) {
            line(JSON.createArrayNode().add(Math.round((System.nanoTime() - startNanos) / 1e3) / 1e6).add(type).add(data).toString());
        }

        void resize(int cols, int rows) {
            event("r", cols + "x" + rows);
        }

        /** What the agent types, recorded as input events on its way to the host. */
        InputStream input(InputStream from) {
            return new java.io.FilterInputStream(from) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) event("i", String.valueOf((char) b));
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) event("i", new String(b, off, n, StandardCharsets.UTF_8));
                    return n;
                }
            };
        }

        private void line(String l) {
            byte[] bytes = (l + "\n").getBytes(StandardCharsets.UTF_8);
            total += bytes.length;
            if (text.size() + bytes.length > MAX_CAST_BYTES) {
                cut = true;
                return;
            }
            text.writeBytes(bytes);
        }

        OutputStream tee(OutputStream to) {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    output(b, off, len);
                    to.write(b, off, len);
                    to.flush();
                }

                @Override
                public void flush() throws IOException {
                    to.flush();
                }
            };
        }

        synchronized Excerpt excerpt(int code) {
            line(JSON.createArrayNode().add(Math.round((System.nanoTime() - startNanos) / 1e3) / 1e6).add("m")
                    .add("{\"exit\":" + code + "}").toString());
            return new Excerpt(text.toString(StandardCharsets.UTF_8), cut, total);
        }
    }
}
