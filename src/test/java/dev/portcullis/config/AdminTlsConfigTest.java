package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code admin.tls} and {@code admin.allow-plaintext}, under the same rule as HTTP connections
 * ({@link HttpListenerTlsConfigTest}): approvers send their tokens to the admin listener, so plaintext
 * on loopback (the default 127.0.0.1:8080) and beyond loopback only with tls or an explicit allow-plaintext.
 */
class AdminTlsConfigTest {
    static final Map<String, String> ENV = HttpListenerTlsConfigTest.ENV;

    @TempDir
    Path dir;

    Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("gw.yaml"), yaml);
    }

    AdminConfig load(String yaml) throws Exception {
        return ConfigLoader.load(write(yaml), ENV).admin();
    }

    String errorsOf(String yaml) throws IOException {
        return ConfigLoaderTest.errorsOf(write(yaml), ENV);
    }

    /** {@link ConfigLoaderTest#VALID} with an admin section first: {@code admin:} on line 1, listen on line 2. */
    static String admin(String listen, String extra) {
        return "admin:\n  listen: " + listen + "\n" + extra + ConfigLoaderTest.VALID;
    }

    static final String TLS = "  tls:\n    keystore: admin.p12\n    password: ${TLS_PASSWORD}\n";

    @Test
    void withoutAnAdminSectionItIsPlainHttpOn127001Port8080AsBefore() throws Exception {
        AdminConfig a = load(ConfigLoaderTest.VALID);
        assertThat(a).isEqualTo(AdminConfig.DEFAULT);
        assertThat(a.listen().getHostString()).isEqualTo("127.0.0.1");
        assertThat(a.listen().getPort()).isEqualTo(8080);
        assertThat(a.scheme()).isEqualTo("http");
    }

    @Test
    void plaintextOnLoopbackLoads() throws Exception {
        for (String address : new String[] {"127.0.0.1:8080", "127.0.0.2:9000", "localhost:8080", "\"[::1]:8080\""}) {
            AdminConfig a = load(admin(address, ""));
            assertThat(a.tls()).as(address).isEmpty();
            assertThat(a.allowPlaintext()).as(address).isFalse();
        }
        assertThat(load("admin:\n  allow-plaintext: false\n" + ConfigLoaderTest.VALID)).isEqualTo(AdminConfig.DEFAULT);
    }

    @Test
    void plaintextBeyondLoopbackIsRefusedAtTheListenLineSayingWhatToDo() throws Exception {
        assertThat(errorsOf(admin("0.0.0.0:8080", ""))).isEqualTo("gw.yaml:2:11: admin.listen: 0.0.0.0 is not a"
                + " loopback address and there is no tls, so approvers' tokens would cross the network in plaintext;"
                + " add tls (keystore, password), or allow-plaintext: true where TLS is terminated in front of the gateway");
        assertThat(errorsOf(admin("10.1.2.3:8080", ""))).startsWith("gw.yaml:2:11: admin.listen: 10.1.2.3 is not a loopback address");
        assertThat(errorsOf(admin("admin.internal:8080", ""))).contains("admin.internal is not a loopback address");
        assertThat(errorsOf(admin("\"[::]:8080\"", "  allow-plaintext: false\n"))).contains("admin.listen: :: is not a loopback address");
    }

    @Test
    void allowPlaintextLetsTheAdminListenerGoBeyondLoopbackWithoutTls() throws Exception {
        AdminConfig a = load(admin("0.0.0.0:8080", "  allow-plaintext: true\n"));
        assertThat(a.allowPlaintext()).isTrue();
        assertThat(a.tls()).isEmpty();
        assertThat(a.scheme()).isEqualTo("http");
    }

    @Test
    void tlsKeyStoreIsResolvedBesideTheConfigFileAndItsPasswordNeverShown() throws Exception {
        AdminConfig a = load(admin("0.0.0.0:8443", TLS));
        assertThat(a.tls()).get().satisfies(t -> {
            assertThat(t.keystore()).isEqualTo(dir.resolve("admin.p12"));
            assertThat(t.password()).isEqualTo("s3cr3t-store");
        });
        assertThat(a.scheme()).isEqualTo("https");
        assertThat(a.toString()).doesNotContain("s3cr3t-store").contains("password=(redacted)");
        // Loopback with tls is fine too: the default address, https.
        assertThat(load("admin:\n" + TLS + ConfigLoaderTest.VALID).listen().getPort()).isEqualTo(8080);
    }

    @Test
    void tlsWithAllowPlaintextIsRefusedBecauseTheListenerWouldAcceptTlsOnly() throws Exception {
        assertThat(errorsOf(admin("0.0.0.0:8443", TLS + "  allow-plaintext: true\n")))
                .isEqualTo("gw.yaml:6:20: admin.allow-plaintext: a listener with tls accepts TLS only;"
                        + " remove allow-plaintext, or remove tls to listen in plaintext");
        assertThat(load(admin("0.0.0.0:8443", TLS + "  allow-plaintext: false\n")).tls()).isPresent();
    }

    @Test
    void tlsNeedsAKeyStoreAndItsPasswordWithoutAlsoBlamingTheListenAddress() throws Exception {
        assertThat(errorsOf(admin("0.0.0.0:8443", TLS.replace("    keystore: admin.p12\n", ""))))
                .isEqualTo("gw.yaml:4:5: admin.tls.keystore: missing; expected the path of a PKCS#12 key store");
        assertThat(errorsOf(admin("0.0.0.0:8443", "  tsl:\n    keystore: admin.p12\n")))
                .contains("gw.yaml:3:3: admin.tsl: unknown key")
                .contains("admin.listen: 0.0.0.0 is not a loopback address");
    }

    @Test
    void theAdminListenerAndAConnectionCannotShareAnAddress() throws Exception {
        assertThat(errorsOf(admin("127.0.0.1:8081", TLS))).contains("listen address 127.0.0.1:8081 is already used by admin.listen");
    }

    @Test
    void policyTestsLoadWithoutTheAdminListenAddressOrTheKeyStorePassword() throws Exception {
        GatewayConfig withTls = ConfigLoader.loadForPolicyTest(write(admin("${ADMIN_LISTEN}", TLS)), Map.of());
        assertThat(withTls.admin().tls()).isPresent();
        GatewayConfig plaintext = ConfigLoader.loadForPolicyTest(write(admin("${ADMIN_LISTEN}", "")), Map.of());
        assertThat(plaintext.admin().tls()).isEmpty();
    }

    @Test
    void theShippedExampleKeepsItsAdminListenerOnLoopbackInPlainHttp() throws Exception {
        GatewayConfig c = ConfigLoader.load(Path.of("examples/okta.yaml"), ConfigLoaderTest.ENV);
        assertThat(c.admin().listen()).isEqualTo(AdminConfig.DEFAULT.listen());
        assertThat(c.admin().tls()).isEmpty();
        assertThat(c.admin().allowPlaintext()).isFalse();
        assertThat(c.admin().sessionAdmins()).containsExactly("okta-admins");
    }
}
