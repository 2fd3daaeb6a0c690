package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server-facing half against real clients: pgjdbc, psql and pgbench talk to a minimal pass-through built only
 * from this package's API (no policy), which logs in upstream with SCRAM. Proves the frontend
 * framing, the backend encoder and raw forwarding interoperate with a real driver.
 */
@Timeout(120)
class RealClientsThroughAPassThroughTest {

    static ServerSocket listener;

    @BeforeAll
    static void start() throws Exception {
        RealServerTest.startServer();
        listener = new ServerSocket(0);
        Thread.ofVirtual().start(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket client = listener.accept();
                    Thread.ofVirtual().start(() -> serve(client));
                } catch (IOException closed) {
                    return;
                }
            }
        });
    }

    @AfterAll
    static void stop() throws IOException {
        listener.close();
        RealServerTest.stopServer();
    }

    @Test
    void jdbcRunsPreparedAndSimpleStatementsThroughTheProtocolLayers() throws Exception {
        Properties props = new Properties();
        props.setProperty("user", "agent");
        props.setProperty("password", "agent-token");
        props.setProperty("prepareThreshold", "1"); // named server-side statements on the second run
        String url = "jdbc:postgresql://127.0.0.1:" + listener.getLocalPort() + "/postgres";
        try (Connection c = DriverManager.getConnection(url, props)) {
            for (int i = 0; i < 3; i++) {
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2 AS doubled, ?::text AS label")) {
                    ps.setInt(1, 21 + i);
                    ps.setString(2, null);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt("doubled")).isEqualTo(2 * (21 + i));
                        assertThat(rs.getString("label")).isNull();
                    }
                }
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM generate_series(1, 100000)")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(100000);
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE t(x int)");
                assertThat(s.executeUpdate("INSERT INTO t SELECT generate_series(1, 5)")).isEqualTo(5);
            }
            c.rollback();
        }
    }

    @Test
    void psqlAndPgbenchRunThroughTheProtocolLayers() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")) && Files.isExecutable(Path.of("/usr/bin/pgbench")),
                "psql and pgbench are installed");
        String port = String.valueOf(listener.getLocalPort());
        assertThat(run("/usr/bin/psql", "-h", "127.0.0.1", "-p", port, "-U", "agent", "-d", "postgres", "-At",
                "-c", "SELECT 40 + 2", "-c", "SELECT string_agg(g::text, ',') FROM generate_series(1, 3) g"))
                .isEqualTo("42\n1,2,3\n");
        Path script = Files.createTempFile("pgbench", ".sql");
        Files.writeString(script, "\\set n random(1, 1000)\nSELECT :n::int * 2;\n");
        String bench = run("/usr/bin/pgbench", "-h", "127.0.0.1", "-p", port, "-U", "agent", "-n", "-M", "prepared",
                "-c", "4", "-t", "250", "-f", script.toString(), "postgres");
        assertThat(bench).contains("number of transactions actually processed: 1000/1000");
        Files.delete(script);
    }

    private static String run(String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", "agent-token");
        builder.environment().put("PGCONNECT_TIMEOUT", "10");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return output;
    }

    /** Startup with the agent, login upstream, then byte-for-byte forwarding both ways. */
    private static void serve(Socket client) {
        try (client) {
            PgFrameReader fromClient = PgFrameReader.fromClient(client.getInputStream());
            PgMessageWriter toClient = new PgMessageWriter(client.getOutputStream());
            FrontendMessage.StartupPacket packet;
            while ((packet = fromClient.readStartupPacket()) instanceof FrontendMessage.SslRequest
                    || packet instanceof FrontendMessage.GssEncRequest) {
                toClient.writeNegotiationByte('N');
                toClient.flush();
            }
            if (!(packet instanceof FrontendMessage.Startup startup)) {
                return;
            }
            toClient.write(new BackendMessage.AuthenticationCleartextPassword());
            toClient.flush();
            FrontendMessage.PasswordMessage password = (FrontendMessage.PasswordMessage) fromClient.readFrontend();
            if (!password.asPassword().equals("agent-token") || !"agent".equals(startup.user())) {
                toClient.write(PgErrors.fatal("28P01", "token rejected"));
                toClient.flush();
                return;
            }
            UpstreamConnection upstream = UpstreamConnection.open("localhost", RealServerTest.postgres.getPort(),
                    startup.database(), RealServerTest.SCRAM_USER, RealServerTest.PASSWORD, Map.of());
            try {
                toClient.write(new BackendMessage.AuthenticationOk());
                for (Map.Entry<String, String> p : upstream.parameters().entrySet()) {
                    toClient.write(new BackendMessage.ParameterStatus(p.getKey(), p.getValue()));
                }
                toClient.write(new BackendMessage.BackendKeyData(1, 2));
                toClient.write(PgErrors.readyForQuery(upstream.transactionStatus()));
                toClient.flush();
                Thread back = Thread.ofVirtual().start(() -> pump(upstream.reader(), toClient));
                pump(fromClient, upstream.writer());
                upstream.close(); // ends the other pump
                back.join();
            } finally {
                upstream.close();
            }
        } catch (IOException | InterruptedException e) {
            // the test's assertions report what went wrong on the client side
        }
    }

    private static void pump(PgFrameReader from, PgMessageWriter to) {
        try {
            while (true) {
                byte type = from.readHeader();
                from.forwardPayload(to);
                if (type == 'X') {
                    to.flush();
                    return;
                }
                if (!from.hasBufferedInput()) {
                    to.flush();
                }
            }
        } catch (EOFException end) {
            // peer closed
        } catch (IOException e) {
            // socket closed by the other pump
        }
    }
}
