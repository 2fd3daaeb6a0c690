package dev.portcullis.postgres;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.server.Gateway;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * A real PostgreSQL server (password-protected), a real OIDC issuer, and the gateway started from the
 * shipped {@code examples/postgres.yaml}. Clients: real psql and pgjdbc.
 */
public final class PostgresGatewayFixture implements AutoCloseable {
    public static final String AUDIENCE = "portcullis";
    public static final String DB_USER = "gateway";
    static final String DB_PASSWORD = "upstream-secret-the-agent-never-sees";

    final EmbeddedPostgres postgres;
    public final MockOAuth2Server issuer;
    public final Gateway gateway;
    public final Path data;
    /** The environment the configuration was read with (a second gateway on the same store starts from it). */
    public final Map<String, String> env = new HashMap<>();
    public final int port;
    /** The admin listener: health, metrics and the approval API. */
    public final int adminPort;

    public PostgresGatewayFixture(Path data) throws Exception {
        this(data, UnaryOperator.identity());
    }

    /** The same, with {@code examples/postgres.yaml} edited first (e.g. to configure TLS). */
    PostgresGatewayFixture(Path data, UnaryOperator<String> configEdit) throws Exception {
        this(data, configEdit, false);
    }

    /**
     * @param interactiveLogin the issuer's authorization endpoint shows mock-oauth2-server's login page (a
     *                         subject and claims typed in) instead of signing in at once
     */
    public PostgresGatewayFixture(Path data, UnaryOperator<String> configEdit, boolean interactiveLogin) throws Exception {
        this.data = data;
        issuer = new MockOAuth2Server(new no.nav.security.mock.oauth2.OAuth2Config(interactiveLogin));
        postgres = EmbeddedPostgres.builder()
                .setDataDirectoryCustomizer(dir -> writeHba(dir.toPath(), """
                        local all all trust
                        host  all postgres 127.0.0.1/32 trust
                        host  all postgres ::1/128      trust
                        host  all all 127.0.0.1/32 scram-sha-256
                        host  all all ::1/128      scram-sha-256
                        """))
                .start();

        try (Connection c = admin(); Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE " + DB_USER + " LOGIN PASSWORD '" + DB_PASSWORD + "'");
            st.execute("""
                    CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text, phone text,
                                            notes text, profile jsonb, card text);
                    INSERT INTO customers (name, email, phone, notes, profile, card)
                    SELECT 'Customer ' || i, 'user' || i || '@example.com', '+1 415 555 ' || lpad(i::text, 4, '0'),
                           CASE WHEN i % 2 = 0 THEN 'call me at +44 20 7946 ' || lpad(i::text, 4, '0') ELSE 'no notes' END,
                           jsonb_build_object('contact', 'alt' || i || '@example.org', 'tier', 'gold'),
                           '4111 1111 1111 1111'
                    FROM generate_series(1, 20) i;
                    CREATE TABLE orders (id serial PRIMARY KEY, customer_id int, amount numeric);
                    INSERT INTO orders (customer_id, amount) SELECT i, i * 10 FROM generate_series(1, 20) i;
                    GRANT ALL ON ALL TABLES IN SCHEMA public TO gateway;
                    GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO gateway;
                    """);
        }
        issuer.start(InetAddress.getByName("127.0.0.1"), 0);
        port = freePort();
        env.put("PORTCULLIS_OIDC_ISSUER", issuer.issuerUrl("default").toString());
        env.put("PORTCULLIS_OIDC_AUDIENCE", AUDIENCE);
        env.put("PORTCULLIS_DATA", data.toString());
        adminPort = freePort();
        env.put("PORTCULLIS_ADMIN_LISTEN", "127.0.0.1:" + adminPort);
        env.put("PORTCULLIS_CONSOLE_URL", "http://127.0.0.1:" + adminPort);
        env.put("PORTCULLIS_PG_LISTEN", "127.0.0.1:" + port);
        env.put("PG_HOST", "127.0.0.1");
        env.put("PG_PORT", String.valueOf(postgres.getPort()));
        env.put("PG_DATABASE", "postgres");
        env.put("PG_USER", DB_USER);
        env.put("PG_PASSWORD", DB_PASSWORD);
        Path configFile = data.resolve("postgres.yaml");
        Files.writeString(configFile, configEdit.apply(Files.readString(Path.of("examples/postgres.yaml"))));
        GatewayConfig config = ConfigLoader.load(configFile, env);
        gateway = Gateway.start(config, Clock.systemUTC());
    }

    private static void writeHba(Path dir, String content) {
        try {
            Files.writeString(dir.resolve("pg_hba.conf"), content);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public String token(String subject, String... groups) {
        return issuer.issueToken("default", subject, AUDIENCE, Map.of("groups", List.of(groups)), 3600L).serialize();
    }

    /** A superuser connection straight to the database, bypassing the gateway: for set-up and checks. */
    public Connection admin() throws Exception {
        return postgres.getPostgresDatabase().getConnection();
    }

    /** A JDBC connection through the gateway with the agent's token as password. */
    Connection jdbc(String token) throws Exception {
        return jdbc(token, new Properties());
    }

    /** The same with extra pgjdbc properties (e.g. {@code binaryTransfer}, {@code preferQueryMode}). */
    Connection jdbc(String token, Properties extra) throws Exception {
        Properties p = new Properties();
        p.putAll(extra);
        p.setProperty("user", "agent");
        p.setProperty("password", token);
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/customers", p);
    }

    public long count(String table) throws Exception {
        try (Connection c = admin(); Statement st = c.createStatement(); var rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public boolean tableExists(String table) throws Exception {
        try (Connection c = admin(); Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT to_regclass('public." + table + "') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Runs the real psql with the token as password; returns exit code, stdout and stderr. */
    public PsqlRun psql(String token, String... commands) throws Exception {
        return psqlWith("disable", token, commands);
    }

    /** Runs the real psql with that sslmode. */
    PsqlRun psqlWith(String sslmode, String token, String... commands) throws Exception {
        Path out = Files.createTempFile(data, "psql", ".out");
        Path err = Files.createTempFile(data, "psql", ".err");
        Process p = startPsql(sslmode, token, out, err, commands);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("psql did not finish: " + Files.readString(err));
        }
        return new PsqlRun(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Starts the real psql, one {@code -c} per command, its output going to the two files. */
    public Process startPsql(String sslmode, String token, Path out, Path err, String... commands) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-v", "ON_ERROR_STOP=0",
                "host=127.0.0.1 port=" + port + " dbname=customers user=agent sslmode=" + sslmode));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PGPASSWORD", token);
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        return pb.start();
    }

    public record PsqlRun(int exitCode, String out, String err) {
    }

    public static int freePort() throws IOException {
        return dev.portcullis.testing.Ports.free(); // never the same port twice in this JVM
    }

    @Override
    public void close() throws Exception {
        gateway.close();
        issuer.shutdown();
        postgres.close();
    }
}
