package dev.portcullis.postgres;

import dev.portcullis.postgres.FrontendMessage.CancelRequest;
import dev.portcullis.postgres.FrontendMessage.SslRequest;
import dev.portcullis.postgres.FrontendMessage.Startup;
import dev.portcullis.postgres.FrontendMessage.StartupPacket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On a network agent that holds a database's credentials ({@code credentials: agent} on the gateway's
 * connection): the agent logs in to the database itself, with a user and password that never leave the
 * private network, and hands the gateway's stream a session already authenticated (AuthenticationOk,
 * the server's parameters, its cancel key, ReadyForQuery); then the two are joined byte for byte. A cancel
 * request is passed on as it is. The gateway judges and records every statement as ever.
 */
public final class AgentLogin {
    private static final Logger log = LoggerFactory.getLogger(AgentLogin.class);

    /** A database the agent logs in to: where, and as whom (the password from the agent's environment). */
    public record Target(String host, int port, String user, String password) {
        public Target {
            Objects.requireNonNull(host);
            Objects.requireNonNull(user);
            Objects.requireNonNull(password);
        }

        @Override
        public String toString() {
            return "Target[" + user + "@" + host + ":" + port + ", password=(redacted)]";
        }
    }

    private AgentLogin() {
    }

    /** Serves one stream from the gateway: blocks until it ends. */
    public static void serve(Socket gateway, Target target) {
        try (gateway) {
            InputStream in = gateway.getInputStream();
            OutputStream out = gateway.getOutputStream();
            PgFrameReader reader = PgFrameReader.fromClient(in);
            PgMessageWriter writer = new PgMessageWriter(out);
            StartupPacket packet = reader.readStartupPacket();
            if (packet instanceof SslRequest) { // the tunnel is encrypted already; the gateway goes on in plain
                writer.writeNegotiationByte('N');
                writer.flush();
                packet = reader.readStartupPacket();
            }
            switch (packet) {
                case CancelRequest c -> UpstreamConnection.sendCancel(target.host(), target.port(), c.processId(), c.secretKey());
                case Startup s -> login(s, target, gateway, writer);
                default -> log.warn("agent login for {}:{}: an unexpected first message from the gateway", target.host(), target.port());
            }
        } catch (IOException e) {
            log.warn("agent login for {}:{}: {}", target.host(), target.port(), e.getMessage());
        }
    }

    private static void login(Startup startup, Target target, Socket gateway, PgMessageWriter writer) throws IOException {
        Map<String, String> extra = new LinkedHashMap<>(startup.parameters());
        String database = extra.getOrDefault("database", target.user());
        extra.remove("user");
        extra.remove("database");
        extra.remove("client_encoding"); // UTF8, set by the login itself
        UpstreamConnection upstream;
        try {
            upstream = UpstreamConnection.open(target.host(), target.port(), database, target.user(), target.password(), extra);
        } catch (IOException | RuntimeException e) {
            log.warn("agent login to {}:{} as {} failed: {}", target.host(), target.port(), target.user(), e.getMessage());
            writer.write(PgErrors.fatal("28000", "Portcullis network agent: its login to " + target.host() + ":" + target.port()
                    + " as " + target.user() + " failed: " + e.getMessage()));
            writer.flush();
            return;
        }
        try {
            writer.write(new BackendMessage.AuthenticationOk());
            for (var p : upstream.parameters().entrySet()) writer.write(new BackendMessage.ParameterStatus(p.getKey(), p.getValue()));
            writer.write(upstream.backendKey());
            for (BackendMessage.NoticeResponse notice : upstream.notices()) writer.write(notice);
            writer.write(PgErrors.readyForQuery(upstream.transactionStatus()));
            writer.flush();
            Socket db = upstream.socket();
            Thread back = Thread.ofVirtual().start(() -> dev.portcullis.core.Tunnels.pipe(db, gateway));
            dev.portcullis.core.Tunnels.pipe(gateway, db);
            back.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            upstream.close();
        }
    }
}
