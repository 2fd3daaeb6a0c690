package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.testing.SelfSignedKeyStore;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A listener's key store, read at start-up: every way it can be wrong is said plainly, with the file. */
class TlsConfigTest {
    @TempDir
    static Path dir;

    static SelfSignedKeyStore good;

    @BeforeAll
    static void makeKeyStore() throws Exception {
        good = SelfSignedKeyStore.create(dir.resolve("gateway.p12"), "right-password");
    }

    @Test
    void aKeyStoreWithTheGatewaysKeyLoads() throws Exception {
        KeyStore store = new TlsConfig(good.path(), "right-password").load();
        assertThat(store.isKeyEntry("gateway")).isTrue();
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("missing.p12");
        assertThatThrownBy(() -> new TlsConfig(missing, "x").load()).isInstanceOf(IOException.class)
                .hasMessage("cannot load the TLS key store " + missing + " (tls.keystore): no such file");
    }

    @Test
    void aWrongPasswordIsSaidToBeWrongAndNotShown() {
        assertThatThrownBy(() -> new TlsConfig(good.path(), "wrong-password").load())
                .hasMessage("cannot load the TLS key store " + good.path() + " (tls.keystore): wrong password (tls.password)")
                .message().doesNotContain("wrong-password");
    }

    @Test
    void aPemFileIsNotAPkcs12KeyStore() throws Exception {
        Path pem = good.writePem(dir.resolve("gateway.pem"));
        assertThatThrownBy(() -> new TlsConfig(pem, "right-password").load())
                .hasMessageStartingWith("cannot load the TLS key store " + pem + " (tls.keystore): not a readable PKCS#12 key store");
    }

    @Test
    void aStoreWithOnlyTheCertificateIsRefusedForLackOfAKey() throws Exception {
        KeyStore certificateOnly = KeyStore.getInstance("PKCS12");
        certificateOnly.load(null, null);
        certificateOnly.setCertificateEntry("gateway", good.certificate());
        Path file = dir.resolve("trust.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            certificateOnly.store(out, "right-password".toCharArray());
        }
        assertThatThrownBy(() -> new TlsConfig(file, "right-password").load())
                .hasMessageContaining(file + " (tls.keystore): it holds no private key");
    }

    @Test
    void thePasswordIsRedacted() {
        assertThat(new TlsConfig(good.path(), "right-password").toString()).doesNotContain("right-password");
    }
}
