package dev.portcullis.testprotocol;

import dev.portcullis.core.Identity;
import dev.portcullis.gate.ApprovalFlow;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.identity.TokenRejectedException;
import dev.portcullis.masking.TextMasker;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.ConnectionSession;
import dev.portcullis.recording.Excerpt;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The echo protocol's listener: {@code TOKEN <token>}, then one command per line. Each answer is one
 * line: the target's echo (masked as policy says), {@code HELD <id> <page>} while a command waits for
 * approval, or {@code ERR <why>}. It translates; the gate decides.
 */
final class EchoListener implements AutoCloseable {
    private final ServerSocket server;
    private final ExecutorService sessions = Executors.newVirtualThreadPerTaskExecutor();

    private EchoListener(ServerSocket server) {
        this.server = server;
    }

    static EchoListener start(EchoConnectionConfig config, Gate gate) throws IOException {
        ServerSocket server = new ServerSocket(config.listen().getPort(), 50, InetAddress.getByName(config.listen().getHostString()));
        EchoListener listener = new EchoListener(server);
        Thread.ofVirtual().name("echo-" + config.name()).start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    listener.sessions.submit(() -> new Session(config, gate, client).run());
                } catch (IOException e) {
                    return;
                }
            }
        });
        return listener;
    }

    int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
        sessions.shutdownNow();
    }

    private record Session(EchoConnectionConfig config, Gate gate, Socket client) {
        void run() {
            String address = client.getInetAddress().getHostAddress();
            try (client;
                 BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
                 PrintWriter out = new PrintWriter(client.getOutputStream(), true, StandardCharsets.UTF_8)) {
                String hello = in.readLine();
                Identity identity;
                try {
                    identity = gate.authenticate(config.name(), "echo", address,
                            hello != null && hello.startsWith("TOKEN ") ? Optional.of(hello.substring(6).strip()) : Optional.empty());
                } catch (TokenRejectedException e) {
                    out.println("ERR token refused (" + e.reason().label() + "): " + e.getMessage());
                    return;
                }
                try (ConnectionSession session = gate.openSession(identity, config.name(), "echo", address);
                     Socket upstream = new Socket(config.upstream().getHostString(), config.upstream().getPort());
                     BufferedReader fromTarget = new BufferedReader(new InputStreamReader(upstream.getInputStream(), StandardCharsets.UTF_8));
                     PrintWriter toTarget = new PrintWriter(upstream.getOutputStream(), true, StandardCharsets.UTF_8)) {
                    out.println("OK " + identity.subject());
                    String line;
                    while ((line = in.readLine()) != null) {
                        out.println(command(session, identity, EchoCommand.parse(line), in, fromTarget, toTarget));
                    }
                }
            } catch (IOException | GateUnavailableException e) {
                // the client or the target went away, or the store did: the session ends
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** Judges one command and answers it: the target's echo, or why not. */
        private String command(ConnectionSession session, Identity identity, EchoCommand command, BufferedReader client,
                               BufferedReader fromTarget, PrintWriter toTarget) throws IOException, InterruptedException {
            long start = System.nanoTime();
            Gate.Judged judged;
            try {
                judged = gate.judge(session, config.name(), identity, command, config.policy(), command.summary());
            } catch (GateUnavailableException e) {
                return "ERR " + e.getMessage();
            }
            TextMasker masker = TextMasker.of(java.util.Set.of());
            switch (judged.decision().verdict()) {
                case Verdict.Deny deny -> {
                    judged.completeRefused(start);
                    return "ERR refused by rule " + deny.ruleId() + ": " + deny.reason();
                }
                case Verdict.HoldForApproval hold -> {
                    PrintWriter out = new PrintWriter(this.client.getOutputStream(), true, StandardCharsets.UTF_8);
                    ApprovalFlow.Outcome outcome = gate.approvals().hold(judged, identity, new byte[0], hold, hold.holdTimeout(),
                            new ApprovalFlow.Client() {
                                @Override
                                public void held(dev.portcullis.approval.ApprovalRequest request, String page) {
                                    out.println("HELD " + request.id() + " " + page);
                                }

                                @Override
                                public boolean left() throws IOException {
                                    return !client.ready() && this.closed();
                                }

                                private boolean closed() throws IOException {
                                    int before = Session.this.client.getSoTimeout();
                                    Session.this.client.setSoTimeout(10);
                                    try {
                                        client.mark(1);
                                        boolean eof = client.read() < 0;
                                        if (!eof) client.reset();
                                        return eof;
                                    } catch (java.net.SocketTimeoutException e) {
                                        return false;
                                    } finally {
                                        Session.this.client.setSoTimeout(before);
                                    }
                                }
                            });
                    if (!(outcome instanceof ApprovalFlow.Outcome.Released)) {
                        judged.completeRefused(start);
                        return switch (outcome) {
                            case ApprovalFlow.Outcome.Refused r -> "ERR approval " + r.why().label() + ": " + r.message();
                            default -> "ERR not released: " + outcome;
                        };
                    }
                }
                case Verdict.Mask mask -> masker = TextMasker.of(mask.plan().detectors());
                case Verdict.Allow allow -> {
                }
                case Verdict.Granted granted -> {
                }
            }
            toTarget.println(command.summary());
            String echoed = fromTarget.readLine();
            if (echoed == null) {
                judged.completeUpstreamFailed("the echo server closed the connection", start);
                return "ERR the target went away";
            }
            String masked = masker.mask(echoed);
            try {
                judged.completeForwarded(0, new Excerpt(masked, false, masked.length()), start);
            } catch (GateUnavailableException e) {
                return "ERR " + e.getMessage();
            }
            return masked;
        }
    }
}
