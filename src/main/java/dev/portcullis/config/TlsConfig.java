package dev.portcullis.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.UnrecoverableKeyException;
import java.util.Collections;
import java.util.Objects;

/**
 * A listener's certificate and private key: a PKCS#12 key store and its password ({@code tls:} on a
 * connection). The file is read when the listener starts, not when the configuration is loaded, so
 * policy tests run without it.
 */
public record TlsConfig(Path keystore, String password) {
    public TlsConfig {
        Objects.requireNonNull(keystore, "keystore");
        Objects.requireNonNull(password, "password");
    }

    /**
     * Reads the key store. A missing or unreadable file, a wrong password, a file that is not PKCS#12
     * or a store without a private key is an {@link IOException} that says which, naming the file.
     */
    public KeyStore load() throws IOException {
        String failure = "cannot load the TLS key store " + keystore + " (tls.keystore): ";
        KeyStore store;
        try (InputStream in = Files.newInputStream(keystore)) {
            store = KeyStore.getInstance("PKCS12");
            store.load(in, password.toCharArray());
        } catch (NoSuchFileException e) {
            throw new IOException(failure + "no such file", e);
        } catch (AccessDeniedException e) {
            throw new IOException(failure + "permission denied", e);
        } catch (IOException e) {
            // The JDK reports a wrong PKCS#12 password as an IOException caused by UnrecoverableKeyException.
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new IOException(failure + "wrong password (tls.password)", e);
            }
            throw new IOException(failure + "not a readable PKCS#12 key store: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IOException(failure + e.getMessage(), e);
        }
        try {
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) return store;
            }
        } catch (GeneralSecurityException e) {
            throw new IOException(failure + e.getMessage(), e);
        }
        throw new IOException(failure + "it holds no private key (only certificates?); it needs the gateway's"
                + " certificate together with its key");
    }

    @Override
    public String toString() {
        return "TlsConfig[keystore=" + keystore + ", password=(redacted)]";
    }
}
