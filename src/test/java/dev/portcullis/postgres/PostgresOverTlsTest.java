package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.testing.SelfSignedKeyStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway with {@code tls:} and {@code allow-plaintext: false}: real psql and pgjdbc over TLS. */
class PostgresOverTlsTest {
    static final String KEYSTORE_PASSWORD = "changeit-test";

    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static String agent;

    @BeforeAll
    static void start() throws Exception {
        SelfSignedKeyStore.create(data.resolve("gateway.p12"), KEYSTORE_PASSWORD);
        f = new PostgresGatewayFixture(data, yaml -> yaml
                .replace("    # tls:\n    #   keystore: /etc/portcullis/gateway.p12\n    #   password: ${PORTCULLIS_TLS_PASSWORD}\n",
                        "    tls:\n      keystore: gateway.p12\n      password: " + KEYSTORE_PASSWORD + "\n")
                .replace("allow-plaintext: true", "allow-plaintext: false"));
        agent = f.token("tls-agent", "agents");
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            LoginLog.install(st);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @Test
    void psqlWithSslmodeRequireReadsMaskedRows() throws Exception {
        var r = f.psqlWith("require", agent, "SELECT email, phone, ssl FROM customers, pg_stat_ssl WHERE pg_stat_ssl.pid = "
                + "pg_backend_pid() AND customers.id = 1", "\\conninfo");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("[masked]", "(1 row)").doesNotContain("@example.", "+1 415");
        assertThat(r.out()).contains("SSL connection (protocol: TLSv1.3");
    }

    @Test
    void jdbcWithSslmodeRequireReadsMaskedRows() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", agent);
        p.setProperty("sslmode", "require");
        p.setProperty("sslfactory", "org.postgresql.ssl.NonValidatingFactory");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + f.port + "/customers", p);
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT email, lower(email) AS e, name FROM customers WHERE id = 2")) {
            assertThat(c.unwrap(org.postgresql.PGConnection.class)).isNotNull();
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("[masked]");
            assertThat(rs.getString(2)).isEqualTo("[masked]"); // lower(email) derives from email
            assertThat(rs.getString(3)).isEqualTo("Customer 2");
        }
    }

    @Test
    void aPlaintextClientIsRefusedBeforeItsTokenIsLookedAtAndNothingReachesTheServer() throws Exception {
        long logins = LoginLog.gatewayLogins(f);

        var psql = f.psqlWith("disable", "not-even-a-token", "SELECT 1");
        assertThat(psql.exitCode()).isNotZero();
        assertThat(psql.err()).contains("FATAL", "requires TLS").doesNotContain("token");

        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", agent);
        p.setProperty("sslmode", "disable");
        assertThatThrownBy(() -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + f.port + "/customers", p))
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28000");
                    assertThat(e.getMessage()).contains("requires TLS");
                });
        assertThat(LoginLog.gatewayLogins(f)).isEqualTo(logins);
    }
}
