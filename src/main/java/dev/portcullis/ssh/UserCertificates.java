package dev.portcullis.ssh;

import dev.portcullis.core.Identity;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.certificate.OpenSshCertificateBuilder;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;

/**
 * The gateway's user certificate authority for one SSH connection: it signs a short-lived OpenSSH user
 * certificate for an agent that proved who it is with its OIDC token (principal: the token's subject, no
 * forwarding extensions), and remembers whose each certificate is, so a login maps back to the identity
 * the token carried. Only certificates it issued, still valid, are accepted.
 */
public final class UserCertificates {
    private static final Map<String, UserCertificates> BY_CONNECTION = new ConcurrentHashMap<>();

    private final String connection;
    private final KeyPair ca;
    private final Duration ttl;
    private final SecureRandom random = new SecureRandom();
    private final Map<Long, Issued> issued = new ConcurrentHashMap<>();
    /** Where agents log in, and the host key they pin: set once the listener runs. */
    private volatile Endpoint endpoint;

    /** The listener agents log in to: its address and host key (an OpenSSH public key line). */
    public record Endpoint(String host, int port, String hostKey) {
        /** The known_hosts line that pins it. */
        public String knownHostsLine() {
            return (port == 22 ? host : "[" + host + "]:" + port) + " " + hostKey;
        }
    }

    /**
     * A certificate given out: to whom, until when, and the token it was given for (in memory only, never
     * stored), which is checked again at every login so that a token expired or revoked at the IdP
     * (introspection) ends further logins.
     */
    record Issued(Identity identity, Instant until, String token) {
        @Override
        public String toString() {
            return "Issued[" + identity.subject() + " until " + until + "]";
        }
    }

    private UserCertificates(String connection, KeyPair ca, Duration ttl) {
        this.connection = connection;
        this.ca = ca;
        this.ttl = ttl;
    }

    /** The authority of a running SSH connection, for the admin API's certificate exchange. */
    public static Optional<UserCertificates> of(String connection) {
        return Optional.ofNullable(BY_CONNECTION.get(connection));
    }

    /** Loads the CA key, or creates it (ECDSA P-256, mode 600) on first start. */
    static UserCertificates open(String connection, Path caKey, Duration ttl) throws IOException, GeneralSecurityException {
        KeyPair pair;
        if (Files.exists(caKey)) {
            pair = new FileKeyPairProvider(caKey).loadKeys(null).iterator().next();
        } else {
            pair = KeyUtils.generateKeyPair(org.apache.sshd.common.keyprovider.KeyPairProvider.ECDSA_SHA2_NISTP256, 256);
            KeyPairs.write(pair, caKey, "portcullis user CA for " + connection);
        }
        UserCertificates certificates = new UserCertificates(connection, pair, ttl);
        BY_CONNECTION.put(connection, certificates);
        return certificates;
    }

    void listening(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    public Optional<Endpoint> endpoint() {
        return Optional.ofNullable(endpoint);
    }

    public Duration ttl() {
        return ttl;
    }

    void close() {
        BY_CONNECTION.remove(connection, this);
    }

    /** Signs a certificate for {@code key}, valid from a minute ago (clock skew) for the connection's TTL. */
    public String issue(Identity identity, PublicKey key, String token) throws Exception {
        long serial = random.nextLong() & Long.MAX_VALUE;
        Instant now = Instant.now();
        Instant until = now.plus(ttl);
        OpenSshCertificate certificate = OpenSshCertificateBuilder.userCertificate()
                .serial(serial)
                .publicKey(key)
                .id("portcullis:" + connection + ":" + identity.subject())
                .principals(List.of(identity.subject()))
                .validAfter(now.minusSeconds(60))
                .validBefore(until)
                .extension("permit-pty", "")
                .sign(ca);
        issued.put(serial, new Issued(identity, until, token));
        issued.values().removeIf(i -> i.until().isBefore(now)); // expired ones are of no use
        return PublicKeyEntry.toString(certificate);
    }

    /** A certificate checked for a login: its holder, or why it logs nobody in. */
    record Checked(Issued holder, String refusal) {
        static Checked refused(String why) {
            return new Checked(null, why);
        }
    }

    /** Whose certificate this is, when this authority issued it and it is still valid for {@code user}; else why not. */
    Checked check(OpenSshCertificate certificate, String user) {
        if (!KeyUtils.compareKeys(certificate.getCaPubKey(), ca.getPublic())) return Checked.refused("a certificate from another authority");
        if (certificate.getType() != OpenSshCertificate.Type.USER) return Checked.refused("not a user certificate");
        if (!OpenSshCertificate.isValidNow(certificate)) return Checked.refused("a certificate outside its validity period");
        if (!certificate.getPrincipals().contains(user)) return Checked.refused("a certificate not valid for user " + user);
        Issued i = issued.get(certificate.getSerial());
        if (i == null) return Checked.refused("a certificate this gateway never issued (serial " + Long.toUnsignedString(certificate.getSerial()) + ")");
        if (i.until().isBefore(Instant.now())) return Checked.refused("an expired certificate");
        if (!i.identity().subject().equals(user)) return Checked.refused("a certificate issued to another subject");
        return new Checked(i, null);
    }

    /** {@code @cert-authority} line agents' tooling can use to recognise this CA. */
    public String caPublicKey() {
        return PublicKeyEntry.toString(ca.getPublic());
    }

    /** Key files (OpenSSH format, mode 600): generated here, read with MINA's providers; the network agent's keys too. */
    public static final class KeyPairs {
        static final String EC_TYPE = KeyUtils.EC_ALGORITHM;

        private KeyPairs() {
        }

        /** The key pair in {@code file}, or a new ECDSA P-256 one written there (mode 600) when there is none. */
        public static KeyPair loadOrCreate(Path file, String comment) throws IOException, GeneralSecurityException {
            if (Files.exists(file)) return new FileKeyPairProvider(file).loadKeys(null).iterator().next();
            KeyPair pair = KeyUtils.generateKeyPair(org.apache.sshd.common.keyprovider.KeyPairProvider.ECDSA_SHA2_NISTP256, 256);
            write(pair, file, comment);
            return pair;
        }

        public static void write(KeyPair pair, Path file, String comment) throws IOException, GeneralSecurityException {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path partial = file.resolveSibling(file.getFileName() + ".partial");
            try (OutputStream out = Files.newOutputStream(partial)) {
                OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, comment, null, out);
            }
            try {
                Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not POSIX
            }
            Files.move(partial, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
