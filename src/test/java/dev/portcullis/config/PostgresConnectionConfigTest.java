package dev.portcullis.config;

import dev.portcullis.postgres.PostgresConnectionConfig;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code type: postgres} connections: mistakes are reported with file, line, column and field. */
class PostgresConnectionConfigTest {

    static final Map<String, String> ENV = Map.of(
            "PORTCULLIS_OIDC_ISSUER", "https://idp.example.com/oauth2/default",
            "PORTCULLIS_OIDC_AUDIENCE", "portcullis",
            "PG_DATABASE", "app", "PG_USER", "gateway", "PG_PASSWORD", "s3cr3t-upstream");

    /** A valid config that tests break one line at a time. */
    static final String VALID = """
            identity:
              issuer: https://idp.example.com
              audience: portcullis
            connections:
              - name: customers
                type: postgres
                listen: 127.0.0.1:15432
                upstream:
                  host: db.internal
                  port: 5432
                  database: app
                  user: gateway
                  password: ${PG_PASSWORD}
                allow-plaintext: true
                policy:
                  rules:
                    - id: read
                      when:
                        groups: [agents]
                        sql:
                          read-only: true
                      action: allow
            """;

    @TempDir
    Path dir;

    String errorsOf(String yaml) throws IOException {
        Path f = dir.resolve("gw.yaml");
        Files.writeString(f, yaml);
        try {
            ConfigLoader.load(f, ENV);
        } catch (ConfigException e) {
            return e.getMessage().replace(f.toString(), "gw.yaml");
        }
        throw new AssertionError("expected a ConfigException");
    }

    @Test
    void theValidShapeLoads() throws Exception {
        Path f = dir.resolve("gw.yaml");
        Files.writeString(f, VALID);
        PostgresConnectionConfig c = (PostgresConnectionConfig) ConfigLoader.load(f, ENV).connections().getFirst();
        assertThat(c.upstream().host()).isEqualTo("db.internal");
        assertThat(c.upstream().port()).isEqualTo(5432);
        assertThat(c.allowPlaintext()).isTrue();
        assertThat(c.tls()).isEmpty();
        assertThat(c.toString()).doesNotContain("s3cr3t-upstream");
    }

    @Test
    void redactNamesJsonFieldsOfParametersAndTheBuiltInSecretsApplyWithoutIt() throws Exception {
        Path f = dir.resolve("gw.yaml");
        Files.writeString(f, VALID);
        PostgresConnectionConfig plain = (PostgresConnectionConfig) ConfigLoader.load(f, ENV).connections().getFirst();
        assertThat(plain.redactor().sql("ALTER ROLE a PASSWORD 'x'")).isEqualTo("ALTER ROLE a PASSWORD '[redacted]'");

        Files.writeString(f, VALID.replace("    policy:\n", "    redact: [card_number]\n    policy:\n"));
        PostgresConnectionConfig c = (PostgresConnectionConfig) ConfigLoader.load(f, ENV).connections().getFirst();
        assertThat(c.redactor().value("{\"card_number\":\"4111111111111111\"}")).isEqualTo("{\"card_number\":\"[redacted]\"}");
        assertThat(errorsOf(VALID.replace("    policy:\n", "    redact: [\"[0]\"]\n    policy:\n")))
                .startsWith("gw.yaml:15:14: connections[0].redact[0]: expected a field");
    }

    @Test
    void missingUpstreamFieldsAreEachNamedAtTheUpstreamMapping() throws Exception {
        assertThat(errorsOf(VALID.replace("      host: db.internal\n", "").replace("      user: gateway\n", "")))
                .isEqualTo("""
                        gw.yaml:9:7: connections[0].upstream.host: missing; expected a host name or address
                        gw.yaml:9:7: connections[0].upstream.user: missing; expected a database role""");
    }

    @Test
    void aMissingUpstreamIsNamed() throws Exception {
        String noUpstream = VALID.replaceAll("(?s)    upstream:\n.*?(?=    allow-plaintext)", "");
        assertThat(errorsOf(noUpstream))
                .isEqualTo("gw.yaml:5:5: connections[0].upstream: missing; expected a mapping with host, port, database, user and password");
    }

    @Test
    void neitherTlsNorAllowPlaintextIsRefused() throws Exception {
        assertThat(errorsOf(VALID.replace("    allow-plaintext: true\n", "")))
                .isEqualTo("gw.yaml:5:5: connections[0].tls: missing; expected a tls key store, or allow-plaintext: true"
                        + " (only where the network is trusted)");
        assertThat(errorsOf(VALID.replace("allow-plaintext: true", "allow-plaintext: false")))
                .startsWith("gw.yaml:5:5: connections[0].tls: missing");
    }

    @Test
    void badPortsAreRefusedWhereTheyAreWritten() throws Exception {
        assertThat(errorsOf(VALID.replace("port: 5432", "port: 70000")))
                .isEqualTo("gw.yaml:10:13: connections[0].upstream.port: expected a port number 1-65535, got '70000'");
        assertThat(errorsOf(VALID.replace("port: 5432", "port: five")))
                .isEqualTo("gw.yaml:10:13: connections[0].upstream.port: expected a port number 1-65535, got 'five'");
        assertThat(errorsOf(VALID.replace("listen: 127.0.0.1:15432", "listen: 127.0.0.1:0x")))
                .startsWith("gw.yaml:7:13: connections[0].listen: expected host:port");
    }

    @Test
    void tlsNeedsAKeyStoreAndItsPasswordAndNothingElse() throws Exception {
        assertThat(errorsOf(VALID.replace("    allow-plaintext: true\n", "    tls:\n      keystore: gw.p12\n      pasword: x\n")))
                .contains("gw.yaml:16:7: connections[0].tls.pasword: unknown key")
                .contains("connections[0].tls.password: missing");
    }

    @Test
    void tlsKeyStoreIsResolvedBesideTheConfigFile() throws Exception {
        Path f = dir.resolve("gw.yaml");
        Files.writeString(f, VALID.replace("    allow-plaintext: true\n",
                "    tls:\n      keystore: gw.p12\n      password: ${PG_PASSWORD}\n    allow-plaintext: false\n"));
        PostgresConnectionConfig c = (PostgresConnectionConfig) ConfigLoader.load(f, ENV).connections().getFirst();
        assertThat(c.tls()).get().satisfies(t -> assertThat(t.keystore()).isEqualTo(dir.resolve("gw.p12")));
        assertThat(c.allowPlaintext()).isFalse();
        assertThat(c.toString()).doesNotContain("s3cr3t-upstream");
    }

    @Test
    void examplePostgresConfigLoads() throws Exception {
        GatewayConfig c = ConfigLoader.load(Path.of("examples/postgres.yaml"), ENV);
        PostgresConnectionConfig pg = (PostgresConnectionConfig) c.connections().getFirst();
        assertThat(pg.name()).isEqualTo("customers");
        assertThat(pg.upstream().user()).isEqualTo("gateway");
        assertThat(pg.policy().rules()).extracting(dev.portcullis.policy.Rule::id).containsExactly("agents-read-only",
                "writers-insert", "writers-update-delete-with-where", "jit-writers-on-approval",
                "schema-and-privileges-need-a-dba");
        assertThat(pg.policy().rules().get(3).grant()).contains(java.time.Duration.ofMinutes(30));
    }
}
