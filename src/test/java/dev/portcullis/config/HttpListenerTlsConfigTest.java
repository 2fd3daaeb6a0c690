package dev.portcullis.config;

import dev.portcullis.http.HttpConnectionConfig;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tls:} and {@code allow-plaintext:} on {@code type: http} connections: plaintext on loopback
 * as before, beyond loopback only with tls or an explicit allow-plaintext.
 */
class HttpListenerTlsConfigTest {
    static final Map<String, String> ENV = Map.of("OKTA_API_TOKEN", "00s3cr3t-token", "TLS_PASSWORD", "s3cr3t-store");

    /** {@link ConfigLoaderTest#VALID}: connection okta on 127.0.0.1:8081 (line 7) without tls. */
    static final String VALID = ConfigLoaderTest.VALID;

    @TempDir
    Path dir;

    Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("gw.yaml"), yaml);
    }

    HttpConnectionConfig load(String yaml) throws Exception {
        return (HttpConnectionConfig) ConfigLoader.load(write(yaml), ENV).connections().getFirst();
    }

    String errorsOf(String yaml) throws IOException {
        return ConfigLoaderTest.errorsOf(write(yaml), ENV);
    }

    static String listen(String address) {
        return VALID.replace("listen: 127.0.0.1:8081", "listen: " + address);
    }

    static String withTls(String yaml, String extra) {
        return yaml.replace("    upstream:\n",
                "    tls:\n      keystore: gw.p12\n      password: ${TLS_PASSWORD}\n" + extra + "    upstream:\n");
    }

    @Test
    void plaintextOnLoopbackLoadsAsBefore() throws Exception {
        for (String address : new String[] {"127.0.0.1:8081", "127.0.0.2:8081", "localhost:8081", "\"[::1]:8081\""}) {
            HttpConnectionConfig c = load(listen(address));
            assertThat(c.tls()).as(address).isEmpty();
            assertThat(c.allowPlaintext()).as(address).isFalse();
        }
    }

    @Test
    void plaintextBeyondLoopbackIsRefusedAtTheListenLineSayingWhatToDo() throws Exception {
        assertThat(errorsOf(listen("0.0.0.0:8081"))).isEqualTo("gw.yaml:7:13: connections[0].listen: 0.0.0.0 is not"
                + " a loopback address and there is no tls, so agents' tokens would cross the network in plaintext;"
                + " add tls (keystore, password), or allow-plaintext: true where TLS is terminated in front of the gateway");
        assertThat(errorsOf(listen("10.1.2.3:8081"))).startsWith("gw.yaml:7:13: connections[0].listen: 10.1.2.3 is not a loopback address");
        assertThat(errorsOf(listen("gateway.internal:8081"))).contains("gateway.internal is not a loopback address");
        assertThat(errorsOf(listen("\"[::]:8081\""))).contains(":: is not a loopback address");
        assertThat(errorsOf(listen("0.0.0.0:8081").replace("    upstream:\n", "    allow-plaintext: false\n    upstream:\n")))
                .contains("connections[0].listen: 0.0.0.0 is not a loopback address");
    }

    @Test
    void allowPlaintextLetsAListenerBeyondLoopbackGoWithoutTls() throws Exception {
        HttpConnectionConfig c = load(listen("0.0.0.0:8081").replace("    upstream:\n", "    allow-plaintext: true\n    upstream:\n"));
        assertThat(c.allowPlaintext()).isTrue();
        assertThat(c.tls()).isEmpty();
    }

    @Test
    void tlsKeyStoreIsResolvedBesideTheConfigFileAndItsPasswordNeverShown() throws Exception {
        HttpConnectionConfig c = load(withTls(listen("0.0.0.0:8443"), ""));
        assertThat(c.tls()).get().satisfies(t -> {
            assertThat(t.keystore()).isEqualTo(dir.resolve("gw.p12"));
            assertThat(t.password()).isEqualTo("s3cr3t-store");
        });
        assertThat(c.toString()).doesNotContain("s3cr3t-store").contains("password=(redacted)");
    }

    @Test
    void tlsWithAllowPlaintextIsRefusedBecauseTheListenerWouldAcceptTlsOnly() throws Exception {
        assertThat(errorsOf(withTls(VALID, "    allow-plaintext: true\n")))
                .isEqualTo("gw.yaml:11:22: connections[0].allow-plaintext: a listener with tls accepts TLS only;"
                        + " remove allow-plaintext, or remove tls to listen in plaintext");
        assertThat(load(withTls(VALID, "    allow-plaintext: false\n")).tls()).isPresent();
    }

    @Test
    void tlsNeedsAKeyStoreAndItsPasswordWithoutAlsoBlamingTheListenAddress() throws Exception {
        assertThat(errorsOf(withTls(listen("0.0.0.0:8443"), "").replace("      keystore: gw.p12\n", "")))
                .isEqualTo("gw.yaml:9:7: connections[0].tls.keystore: missing; expected the path of a PKCS#12 key store");
        assertThat(errorsOf(withTls(VALID, "").replace("password: ${TLS_PASSWORD}", "pasword: x")))
                .contains("gw.yaml:10:7: connections[0].tls.pasword: unknown key")
                .contains("connections[0].tls.password: missing");
    }

    @Test
    void policyTestsLoadWithoutTheListenAddressOrTheKeyStorePassword() throws Exception {
        GatewayConfig withTls = ConfigLoader.loadForPolicyTest(write(withTls(listen("${LISTEN}"), "")), Map.of());
        assertThat(withTls.connections()).singleElement().satisfies(conn -> assertThat(conn.name()).isEqualTo("okta"));
        // An unset listen address is no reason to refuse plaintext: policy tests serve nothing.
        GatewayConfig plaintext = ConfigLoader.loadForPolicyTest(write(listen("${LISTEN}")), Map.of());
        assertThat(plaintext.connections()).singleElement().satisfies(conn -> assertThat(conn.name()).isEqualTo("okta"));
    }
}
