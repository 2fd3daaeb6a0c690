package dev.portcullis.postgres;

import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.identity.TokenRejectedException;
import dev.portcullis.sql.SqlParser;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's login, before any statement: SSL negotiation (TLS when configured; plaintext only where
 * allowed), the agent's OIDC token taken as its password and verified by the gate, the upstream login
 * with the connection's own credentials (which the agent never sees), the session's recording and
 * cancel key. Fills in the {@link PgSession}'s connection state; false when the session ends here.
 */
final class PgStartup {
    private static final Logger log = LoggerFactory.getLogger(PgStartup.class);
    /** Startup parameters passed upstream; anything else (notably {@code options}, which can set a role) is dropped. */
    static final Set<String> FORWARDED_PARAMETERS = Set.of("application_name", "DateStyle", "TimeZone",
            "IntervalStyle", "extra_float_digits", "datestyle", "timezone", "intervalstyle");

    private PgStartup() {
    }

    /** Like the server's authentication_timeout: a client that does not finish logging in is dropped. */
    static final int LOGIN_TIMEOUT_MILLIS = 60_000;

    static boolean run(PgSession session) throws IOException {
        session.socket.setSoTimeout(LOGIN_TIMEOUT_MILLIS);
        session.clientIn = PgFrameReader.fromClient(session.socket.getInputStream(), session.config.maxMessageBytes());
        session.clientOut = new PgMessageWriter(session.socket.getOutputStream());
        boolean secure = false;
        FrontendMessage.Startup startup = null;
        while (startup == null) {
            switch (session.clientIn.readStartupPacket()) {
                case FrontendMessage.SslRequest ssl -> {
                    if (session.tls == null || secure) {
                        session.clientOut.writeNegotiationByte('N');
                        session.clientOut.flush();
                    } else {
                        session.clientOut.writeNegotiationByte('S');
                        session.clientOut.flush();
                        SSLSocket s = (SSLSocket) session.tls.getSocketFactory().createSocket(session.socket,
                                session.socket.getInetAddress().getHostAddress(), session.socket.getPort(), true);
                        s.setUseClientMode(false);
                        s.startHandshake();
                        session.clientTls = true;
                        session.clientIn = PgFrameReader.fromClient(s.getInputStream(), session.config.maxMessageBytes());
                        session.clientOut = new PgMessageWriter(s.getOutputStream());
                        secure = true;
                    }
                }
                case FrontendMessage.GssEncRequest gss -> {
                    session.clientOut.writeNegotiationByte('N');
                    session.clientOut.flush();
                }
                case FrontendMessage.CancelRequest cancel -> {
                    boolean known = session.cancels.cancel(cancel.processId(), cancel.secretKey());
                    log.info("cancel request from {} on {}: {}", session.clientAddress, session.config.name(), known ? "forwarded" : "unknown key, ignored");
                    return false;
                }
                case FrontendMessage.Startup s -> startup = s;
            }
        }
        if (!secure && !session.config.allowPlaintext()) {
            session.sendFatal(PgErrors.fatal("28000", "Portcullis: connection '" + session.config.name() + "' requires TLS",
                    null, "connect with sslmode=require"));
            return false;
        }

        // The agent's OIDC token is its password; cleartext is how a password reaches us intact.
        session.clientOut.write(new BackendMessage.AuthenticationCleartextPassword());
        session.clientOut.flush();
        byte type = session.clientIn.readHeader();
        if (type != 'p') throw new PgProtocolException("expected a password message, got '" + (char) type + "'");
        String token = ((FrontendMessage.PasswordMessage) FrontendMessage.decode(session.clientIn.readPayload())).asPassword();
        try {
            session.identity = session.gate.authenticate(session.config.name(), "postgres", session.clientAddress,
                    token.isBlank() ? Optional.empty() : Optional.of(token.strip()));
        } catch (TokenRejectedException e) {
            session.sendFatal(PgErrors.fatal("28P01", "Portcullis refused the token (" + e.reason().label() + "): " + e.getMessage(),
                    null, "use your OIDC access token as the password"));
            return false;
        } catch (GateUnavailableException e) {
            session.sendFatal(PgErrors.fatal("08006", "Portcullis: " + e.getMessage()));
            return false;
        }

        Map<String, String> params = new LinkedHashMap<>();
        startup.parameters().forEach((k, v) -> {
            if (PgStartup.FORWARDED_PARAMETERS.contains(k)) params.put(k, v);
        });
        params.putIfAbsent("application_name", "portcullis");
        try {
            session.upstream = session.dialer.open(params);
        } catch (dev.portcullis.core.Tunnels.Unavailable e) {
            // Its network agent is offline, or refuses or cannot reach the database: 08001, as a client that
            // cannot connect reports it, naming the agent. Recorded as a refused session start.
            log.warn("connection '{}': {}", session.config.name(), e.getMessage());
            return refuseLogin(session, PgErrors.fatal("08001", "Portcullis: connection '" + session.config.name()
                    + "' cannot reach its database: " + e.getMessage()), "the database cannot be reached: " + e.getMessage());
        } catch (IOException e) {
            log.warn("connection '{}': session.upstream login failed: {}", session.config.name(), e.getMessage());
            session.sendFatal(PgErrors.fatal("08006", "Portcullis: connection '" + session.config.name()
                    + "' cannot reach its database: " + e.getMessage()));
            return false;
        }
        for (String setting : SqlParser.sqlReadingSettings()) {
            String value = session.upstream.parameters().get(setting);
            if (!SqlParser.readsSqlAsTheParser(setting, value)) {
                // e.g. standard_conforming_strings = off in the server's configuration: a backslash would end
                // or not end a string where the gateway's parser does not, so no statement could be judged.
                String reason = "the database reads SQL text with " + setting + " = " + (value == null ? "(not reported)" : value)
                        + "; Portcullis reads it as UTF-8 with standard conforming strings and cannot judge this session";
                log.warn("connection '{}': {}", session.config.name(), reason);
                return refuseLogin(session, PgErrors.fatal("0A000", "Portcullis: " + reason), reason);
            }
        }
        try {
            session.recording = session.gate.openSession(session.identity, session.config.name(), "postgres", session.clientAddress);
        } catch (GateUnavailableException e) {
            session.sendFatal(PgErrors.fatal("08006", "Portcullis: " + e.getMessage()));
            return false;
        }
        session.socket.setSoTimeout(0); // logged in: an idle session may stay, as with the server itself
        session.cancelKey = session.cancels.register(session);
        session.clientOut.write(new BackendMessage.AuthenticationOk());
        for (var p : session.upstream.parameters().entrySet()) {
            session.clientOut.write(new BackendMessage.ParameterStatus(p.getKey(), p.getValue()));
        }
        session.clientOut.write(new BackendMessage.BackendKeyData(session.cancelKey[0], session.cancelKey[1]));
        session.lastStatus = session.upstream.transactionStatus();
        session.clientOut.write(PgErrors.readyForQuery(session.lastStatus));
        session.clientOut.flush();
        log.info("{} connected to '{}' from {}", session.identity.subject(), session.config.name(), session.clientAddress);
        return true;
    }

    /**
     * Ends a login the gateway refuses after the identity was proven: the client gets {@code fatal}, and
     * the trail a session that started and ended at once with {@code reason}. Always false.
     */
    private static boolean refuseLogin(PgSession session, BackendMessage.ErrorResponse fatal, String reason) {
        session.sendFatal(fatal);
        try {
            session.gate.openSession(session.identity, session.config.name(), "postgres", session.clientAddress)
                    .end("refused: " + reason);
        } catch (GateUnavailableException | RuntimeException notRecorded) {
            log.warn("connection '{}': the refusal could not be recorded: {}", session.config.name(), notRecorded.getMessage());
        }
        return false;
    }
}
