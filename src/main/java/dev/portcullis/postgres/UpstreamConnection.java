package dev.portcullis.postgres;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramException;
import dev.portcullis.postgres.BackendMessage.AuthenticationCleartextPassword;
import dev.portcullis.postgres.BackendMessage.AuthenticationMd5Password;
import dev.portcullis.postgres.BackendMessage.AuthenticationOk;
import dev.portcullis.postgres.BackendMessage.AuthenticationSasl;
import dev.portcullis.postgres.BackendMessage.AuthenticationSaslContinue;
import dev.portcullis.postgres.BackendMessage.AuthenticationSaslFinal;
import dev.portcullis.postgres.BackendMessage.AuthenticationUnsupported;
import dev.portcullis.postgres.BackendMessage.BackendKeyData;
import dev.portcullis.postgres.BackendMessage.ErrorResponse;
import dev.portcullis.postgres.BackendMessage.NegotiateProtocolVersion;
import dev.portcullis.postgres.BackendMessage.NoticeResponse;
import dev.portcullis.postgres.BackendMessage.ParameterStatus;
import dev.portcullis.postgres.BackendMessage.ReadyForQuery;
import dev.portcullis.postgres.BackendMessage.TransactionStatus;
import dev.portcullis.postgres.FrontendMessage.CancelRequest;
import dev.portcullis.postgres.FrontendMessage.PasswordMessage;
import dev.portcullis.postgres.FrontendMessage.SslRequest;
import dev.portcullis.postgres.FrontendMessage.Startup;
import dev.portcullis.postgres.FrontendMessage.Terminate;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A session with the real PostgreSQL server, opened with the gateway's own credentials: startup,
 * authentication (cleartext, MD5, SCRAM-SHA-256 without channel binding), then the server's
 * parameters and cancel key up to the first ReadyForQuery. After {@link #open} the relay owns
 * {@link #reader()} and {@link #writer()}.
 *
 * <p>The session always runs with {@code client_encoding=UTF8}, because the decoders read text as
 * strict UTF-8; a relay must not let a client change it.
 */
public final class UpstreamConnection implements Closeable {

    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** The user the gateway names when its network agent holds the credentials (the agent logs in as its own). */
    public static final String AGENT_LOGIN_USER = "portcullis-agent-login";
    /** Startup and authentication must finish within this; afterwards reads block for as long as the relay wants. */
    public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

    private static final String SCRAM_SHA_256 = "SCRAM-SHA-256";

    private final Socket socket;
    /** How a second connection to the same server is made (a cancel request): directly, or through the same agent. */
    private SocketSource source;
    private final String host;
    private final int port;
    private final PgFrameReader reader;
    private final PgMessageWriter writer;
    private final SequencedMap<String, String> parameters;
    private final BackendKeyData backendKey;
    private final TransactionStatus transactionStatus;
    private final List<NoticeResponse> notices;

    private UpstreamConnection(Socket socket, String host, int port, PgFrameReader reader, PgMessageWriter writer,
            SequencedMap<String, String> parameters, BackendKeyData backendKey, TransactionStatus transactionStatus,
            List<NoticeResponse> notices) {
        this.socket = socket;
        this.host = host;
        this.port = port;
        this.reader = reader;
        this.writer = writer;
        this.parameters = Collections.unmodifiableSequencedMap(parameters);
        this.backendKey = backendKey;
        this.transactionStatus = transactionStatus;
        this.notices = List.copyOf(notices);
    }

    /** Opens a plain-TCP session. {@code extraStartupParams} are sent after user and database (e.g. application_name). */
    public static UpstreamConnection open(String host, int port, String database, String user, String password,
            Map<String, String> extraStartupParams) throws IOException {
        return open(host, port, database, user, password, extraStartupParams, null);
    }

    /**
     * Opens a session over TLS, which is then required: a server answering 'N' to SSLRequest is
     * refused. The host name is verified against the certificate.
     */
    public static UpstreamConnection openTls(String host, int port, String database, String user, String password,
            Map<String, String> extraStartupParams, SSLContext tls) throws IOException {
        return open(host, port, database, user, password, extraStartupParams, Objects.requireNonNull(tls, "tls"));
    }

    /** How a session's socket is made: straight to the server, or through a network agent. */
    interface SocketSource {
        Socket connect() throws IOException;
    }

    /** Opens a plain session over a socket {@code source} makes (through a network agent); host and port name the server. */
    static UpstreamConnection open(SocketSource source, String host, int port, String database, String user, String password,
            Map<String, String> extraStartupParams) throws IOException {
        return open(source, host, port, database, user, password, extraStartupParams, null);
    }

    private static UpstreamConnection open(String host, int port, String database, String user, String password,
            Map<String, String> extraStartupParams, SSLContext tls) throws IOException {
        return open(() -> connect(host, port), host, port, database, user, password, extraStartupParams, tls);
    }

    private static UpstreamConnection open(SocketSource source, String host, int port, String database, String user, String password,
            Map<String, String> extraStartupParams, SSLContext tls) throws IOException {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        LinkedHashMap<String, String> startup = new LinkedHashMap<>();
        startup.put("user", user);
        startup.put("database", database);
        startup.put("client_encoding", "UTF8");
        for (Map.Entry<String, String> extra : extraStartupParams.entrySet()) {
            String name = extra.getKey();
            if (name.equals("user") || name.equals("database")
                    || (name.equals("client_encoding") && !extra.getValue().equalsIgnoreCase("UTF8"))) {
                throw new IllegalArgumentException("startup parameter " + name + " cannot be overridden");
            }
            startup.put(name, extra.getValue());
        }

        Socket socket = source.connect();
        try {
            socket.setSoTimeout((int) STARTUP_TIMEOUT.toMillis());
            if (tls != null) {
                socket = startTls(socket, host, port, tls);
            }
            PgFrameReader reader = PgFrameReader.fromServer(socket.getInputStream());
            PgMessageWriter writer = new PgMessageWriter(socket.getOutputStream());
            writer.write(new Startup(3, 0, startup));
            writer.flush();
            UpstreamConnection connection = new Handshake(host, port, user, password, reader, writer).run(socket);
            connection.source = source;
            socket.setSoTimeout(0);
            return connection;
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    /**
     * Asks the server to cancel the query running in backend {@code processId}. Returns once the
     * server has closed the cancel connection; whether anything was cancelled is not reported (the
     * protocol does not say).
     */
    public static void sendCancel(String host, int port, int processId, int secretKey) throws IOException {
        try (Socket socket = connect(host, port)) {
            sendCancel(socket, processId, secretKey);
        }
    }

    /** Sends a cancel request over a connection already made to the server, and waits for the server to close it. */
    static void sendCancel(Socket socket, int processId, int secretKey) throws IOException {
        socket.setSoTimeout((int) CONNECT_TIMEOUT.toMillis());
        OutputStream out = socket.getOutputStream();
        out.write(PgMessageWriter.encode(new CancelRequest(processId, secretKey)));
        out.flush();
        socket.shutdownOutput();
        InputStream in = socket.getInputStream();
        while (in.read() >= 0) {
            // the server answers nothing; waiting for its close means the request was processed
        }
    }

    /** Cancels whatever this session is running, through a separate connection. */
    public void cancel() throws IOException {
        if (source == null) {
            sendCancel(host, port, backendKey.processId(), backendKey.secretKey());
            return;
        }
        try (Socket cancel = source.connect()) {
            sendCancel(cancel, backendKey.processId(), backendKey.secretKey());
        }
    }

    /** ParameterStatus values from startup (server_version, integer_datetimes, TimeZone, ...), in arrival order. */
    public SequencedMap<String, String> parameters() {
        return parameters;
    }

    /** The upstream backend's pid and cancel secret. */
    public BackendKeyData backendKey() {
        return backendKey;
    }

    /** The status of the first ReadyForQuery (normally IDLE). */
    public TransactionStatus transactionStatus() {
        return transactionStatus;
    }

    /** NoticeResponses the server sent during startup. */
    public List<NoticeResponse> notices() {
        return notices;
    }

    /** Reads what the server sends from now on. */
    public PgFrameReader reader() {
        return reader;
    }

    /** Writes to the server; remember to flush. */
    public PgMessageWriter writer() {
        return writer;
    }

    public Socket socket() {
        return socket;
    }

    /** Sends Terminate (best effort) and closes the socket. */
    @Override
    public void close() {
        if (socket.isClosed()) {
            return;
        }
        try {
            writer.write(new Terminate());
            writer.flush();
        } catch (IOException ignored) {
            // the socket is going away either way
        }
        closeQuietly(socket);
    }

    @Override
    public String toString() {
        return "UpstreamConnection[" + host + ":" + port + ", pid " + backendKey.processId() + "]";
    }

    /** The exchange from StartupMessage to the first ReadyForQuery. */
    private static final class Handshake {
        private final String host;
        private final int port;
        private final String user;
        private final String password;
        private final PgFrameReader reader;
        private final PgMessageWriter writer;
        private final LinkedHashMap<String, String> parameters = new LinkedHashMap<>();
        private final List<NoticeResponse> notices = new ArrayList<>();
        private ScramClient scram;
        private boolean scramVerified;
        private boolean authenticated;
        private BackendKeyData backendKey;

        Handshake(String host, int port, String user, String password, PgFrameReader reader, PgMessageWriter writer) {
            this.host = host;
            this.port = port;
            this.user = user;
            this.password = password;
            this.reader = reader;
            this.writer = writer;
        }

        /** The password; with the network agent's credentials there is none, and the server should not have asked. */
        private String passwordOrRefuse() throws IOException {
            if (password.isEmpty()) {
                throw new IOException("the server " + host + ":" + port + " asked for a password, and this connection's credentials are"
                        + " its network agent's: the agent did not log in (start it with --postgres-login " + host + ":" + port + "=USER)");
            }
            return password;
        }

        UpstreamConnection run(Socket socket) throws IOException {
            while (true) {
                BackendMessage message = reader.readBackend();
                switch (message) {
                    case AuthenticationOk _ -> {
                        if (scram != null && !scramVerified) {
                            throw refused("server ended SCRAM authentication without proving it knows the password", null);
                        }
                        authenticated = true;
                    }
                    case AuthenticationCleartextPassword _ -> send(PasswordMessage.password(passwordOrRefuse()));
                    case AuthenticationMd5Password m -> send(PasswordMessage.password(md5Password(user, passwordOrRefuse(), m.salt())));
                    case AuthenticationSasl m -> {
                        passwordOrRefuse();
                        startScram(m.mechanisms());
                    }
                    case AuthenticationSaslContinue m -> continueScram(m.data());
                    case AuthenticationSaslFinal m -> finishScram(m.data());
                    case AuthenticationUnsupported m ->
                            throw refused("server asks for authentication method " + m.code() + ", which the gateway does not support", null);
                    case ParameterStatus m -> parameters.put(m.name(), m.value());
                    case BackendKeyData m -> backendKey = m;
                    case NoticeResponse m -> notices.add(m);
                    case NegotiateProtocolVersion _ -> {
                        // we ask for 3.0; the server names options it ignored, which is harmless here
                    }
                    case ErrorResponse m -> throw refused(m.describe(), m);
                    case ReadyForQuery m -> {
                        if (!authenticated) {
                            throw new PgProtocolException("server sent ReadyForQuery before AuthenticationOk");
                        }
                        if (backendKey == null) {
                            throw new PgProtocolException("server sent no BackendKeyData; queries could not be cancelled");
                        }
                        return new UpstreamConnection(socket, host, port, reader, writer, parameters, backendKey,
                                m.status(), notices);
                    }
                    default -> throw new PgProtocolException("unexpected " + message.getClass().getSimpleName()
                            + " during startup");
                }
            }
        }

        private void startScram(List<String> mechanisms) throws IOException {
            if (!mechanisms.contains(SCRAM_SHA_256)) {
                throw refused("server offers SASL mechanisms " + mechanisms + " but not " + SCRAM_SHA_256, null);
            }
            // Channel binding (-PLUS) needs the TLS certificate hash; we offer the plain mechanism only.
            scram = ScramClient.builder()
                    .advertisedMechanisms(List.of(SCRAM_SHA_256))
                    .username("*") // the server takes the user from the startup packet
                    .password(password.toCharArray())
                    .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION)
                    .build();
            send(PasswordMessage.saslInitialResponse(SCRAM_SHA_256,
                    scram.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8)));
        }

        private void continueScram(byte[] serverFirst) throws IOException {
            if (scram == null) {
                throw new PgProtocolException("server sent AuthenticationSASLContinue without starting SASL");
            }
            try {
                scram.serverFirstMessage(new String(serverFirst, StandardCharsets.UTF_8));
            } catch (ScramException e) {
                throw new UpstreamStartupException("invalid SCRAM server-first message from " + host + ":" + port, e);
            }
            send(PasswordMessage.saslResponse(scram.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8)));
        }

        private void finishScram(byte[] serverFinal) throws IOException {
            if (scram == null) {
                throw new PgProtocolException("server sent AuthenticationSASLFinal without starting SASL");
            }
            try {
                scram.serverFinalMessage(new String(serverFinal, StandardCharsets.UTF_8));
            } catch (ScramException e) {
                throw new UpstreamStartupException("SCRAM verification of server " + host + ":" + port + " failed: "
                        + e.getMessage(), e);
            }
            scramVerified = true;
        }

        private void send(FrontendMessage message) throws IOException {
            writer.write(message);
            writer.flush();
        }

        private UpstreamStartupException refused(String why, ErrorResponse error) {
            return new UpstreamStartupException("upstream " + host + ":" + port + " refused the session for user "
                    + user + ": " + why, error);
        }
    }

    /** {@code "md5" + md5hex(md5hex(password + user) + salt)}, the server's MD5 challenge answer. */
    static String md5Password(String user, String password, byte[] salt) {
        try {
            HexFormat hex = HexFormat.of();
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            String inner = hex.formatHex(md5.digest((password + user).getBytes(StandardCharsets.UTF_8)));
            md5.update(inner.getBytes(StandardCharsets.US_ASCII));
            md5.update(salt);
            return "md5" + hex.formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK must provide MD5", e);
        }
    }

    private static Socket connect(String host, int port) throws IOException {
        IOException last = null;
        for (InetAddress address : InetAddress.getAllByName(host)) {
            // A channel's socket, so that a session's connection can move onto an event loop once logged in (PgLoop).
            Socket socket = SocketChannel.open().socket();
            try {
                socket.setTcpNoDelay(true);
                socket.setKeepAlive(true);
                socket.connect(new InetSocketAddress(address, port), (int) CONNECT_TIMEOUT.toMillis());
                return socket;
            } catch (IOException e) {
                closeQuietly(socket);
                if (last != null) {
                    e.addSuppressed(last);
                }
                last = e;
            }
        }
        throw new IOException("cannot connect to upstream " + host + ":" + port, last);
    }

    private static Socket startTls(Socket plain, String host, int port, SSLContext tls) throws IOException {
        OutputStream out = plain.getOutputStream();
        out.write(PgMessageWriter.encode(new SslRequest()));
        out.flush();
        int answer = plain.getInputStream().read();
        switch (answer) {
            case 'S' -> {
                SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, host, port, true);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                return socket;
            }
            case 'N' -> throw new UpstreamStartupException("upstream " + host + ":" + port
                    + " does not accept TLS (answered 'N' to SSLRequest) and TLS is required", (ErrorResponse) null);
            case -1 -> throw new PgProtocolException("upstream closed the connection after SSLRequest");
            default -> throw new PgProtocolException("unexpected answer " + answer + " to SSLRequest");
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }
}
