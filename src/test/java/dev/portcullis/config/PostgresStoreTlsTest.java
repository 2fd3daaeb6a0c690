package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.store.AuditStoreException;
import dev.portcullis.store.PostgresStore;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store over TLS, configured with {@code ssl-mode} and {@code ssl-root-cert}, against a PostgreSQL
 * server that accepts TLS only: verify-full with the server's CA connects; another CA, or no TLS, is
 * refused with a message that says so.
 */
class PostgresStoreTlsTest {
    @TempDir
    static Path dir;
    static EmbeddedPostgres postgres;
    static Path ca;
    static Path otherCa;

    @BeforeAll
    static void startTlsOnlyServer() throws Exception {
        ca = selfSigned("server", "IP:127.0.0.1,DNS:localhost");
        otherCa = selfSigned("other", "DNS:elsewhere.example");
        postgres = EmbeddedPostgres.builder()
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", dir.resolve("server.crt").toString())
                .setServerConfig("ssl_key_file", dir.resolve("server.key").toString())
                .setDataDirectoryCustomizer(data -> {
                    try {
                        Files.writeString(data.toPath().resolve("pg_hba.conf"), """
                                local   all all              trust
                                hostssl all all 127.0.0.1/32 trust
                                host    all all 127.0.0.1/32 reject
                                """);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (postgres != null) postgres.close();
    }

    /** A self-signed certificate (it is its own CA) and its key, with openssl; returns the certificate. */
    private static Path selfSigned(String name, String san) throws Exception {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=" + name, "-addext", "subjectAltName=" + san,
                "-keyout", dir.resolve(name + ".key").toString(), "-out", dir.resolve(name + ".crt").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).as(out).isTrue();
        Files.setPosixFilePermissions(dir.resolve(name + ".key"), PosixFilePermissions.fromString("rw-------"));
        return dir.resolve(name + ".crt");
    }

    private static StoreConfig.Postgres config(String tls) throws Exception {
        Path file = Files.writeString(dir.resolve("gw-" + Math.abs(tls.hashCode()) + ".yaml"), """
                store:
                  type: postgres
                  url: jdbc:postgresql://127.0.0.1:%d/postgres
                  user: postgres
                  password: unused
                  replica: a
                  trail: %s
                %s""".formatted(postgres.getPort(), dir.resolve("trail"), tls) + ConfigLoaderTest.VALID);
        return (StoreConfig.Postgres) ConfigLoader.load(file, ConfigLoaderTest.ENV).store();
    }

    private static PostgresStore open(StoreConfig.Postgres c) {
        return PostgresStore.open(c.url(), c.user(), c.password(), c.schema(), c.replica(), c.poolSize());
    }

    @Test
    void verifyFullWithTheServersCaConnects() throws Exception {
        StoreConfig.Postgres c = config("  ssl-mode: verify-full\n  ssl-root-cert: " + ca + "\n");
        assertThat(c.url()).contains("sslmode=verify-full", "sslrootcert=");
        try (PostgresStore store = open(c)) {
            assertThat(store.head().lastGlobalSeq()).isZero();
        }
    }

    @Test
    void anotherCaOrNoTlsIsRefusedWithWhy() throws Exception {
        StoreConfig.Postgres wrongCa = config("  ssl-mode: verify-full\n  ssl-root-cert: " + otherCa + "\n");
        assertThatThrownBy(() -> open(wrongCa)).isInstanceOf(AuditStoreException.class)
                .hasMessageContaining("cannot connect to the store at PostgreSQL").hasMessageNotContaining("unused");
        StoreConfig.Postgres plain = config("  ssl-mode: disable\n");
        assertThatThrownBy(() -> open(plain)).isInstanceOf(AuditStoreException.class).hasMessageContaining("no encryption");
    }

    @Test
    void tlsSetTwiceOrAMissingCaFileIsAConfigurationError() throws Exception {
        Path file = Files.writeString(dir.resolve("twice.yaml"), """
                store:
                  type: postgres
                  url: jdbc:postgresql://db/p?sslmode=require
                  user: u
                  password: p
                  ssl-mode: verify-full
                """ + ConfigLoaderTest.VALID);
        assertThat(ConfigLoaderTest.errorsOf(file, ConfigLoaderTest.ENV)).contains("set it once");
        Path missing = Files.writeString(dir.resolve("missing.yaml"), """
                store:
                  type: postgres
                  url: jdbc:postgresql://db/p
                  user: u
                  password: p
                  ssl-root-cert: /nonexistent/ca.pem
                """ + ConfigLoaderTest.VALID);
        assertThat(ConfigLoaderTest.errorsOf(missing, ConfigLoaderTest.ENV)).contains("cannot read /nonexistent/ca.pem");
    }
}
