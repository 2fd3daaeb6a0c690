package dev.portcullis.netagent;

import dev.portcullis.ssh.UserCertificates;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.sshd.certificate.OpenSshCertificateBuilder;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.config.keys.PublicKeyEntry;

/**
 * The agents' certificate authority: signs an OpenSSH user certificate for an enrolled agent's own key
 * (principal = the agent's name), and checks the certificates agents log in with. Whether the agent is
 * still enrolled with that key (not revoked) is the registry's to say.
 */
final class AgentCa {
    private final KeyPair ca;
    private final Duration ttl;
    private final SecureRandom random = new SecureRandom();

    private AgentCa(KeyPair ca, Duration ttl) {
        this.ca = ca;
        this.ttl = ttl;
    }

    static AgentCa open(Path keyFile, Duration ttl) throws Exception {
        return new AgentCa(UserCertificates.KeyPairs.loadOrCreate(keyFile, "portcullis network agents CA"), ttl);
    }

    /** A certificate for agent {@code name}'s {@code key}, valid from a minute ago (clock skew) for the TTL. */
    String issue(String name, PublicKey key) throws Exception {
        Instant now = Instant.now();
        OpenSshCertificate certificate = OpenSshCertificateBuilder.userCertificate()
                .serial(random.nextLong() & Long.MAX_VALUE)
                .publicKey(key)
                .id("portcullis-agent:" + name)
                .principals(List.of(name))
                .validAfter(now.minusSeconds(60))
                .validBefore(now.plus(ttl))
                .sign(ca);
        return PublicKeyEntry.toString(certificate);
    }

    /** Why {@code certificate} does not log agent {@code name} in, or empty when it does (registry aside). */
    Optional<String> refusal(OpenSshCertificate certificate, String name) {
        if (!KeyUtils.compareKeys(certificate.getCaPubKey(), ca.getPublic())) return Optional.of("a certificate from another authority");
        if (certificate.getType() != OpenSshCertificate.Type.USER) return Optional.of("not a user certificate");
        if (!OpenSshCertificate.isValidNow(certificate)) return Optional.of("a certificate outside its validity period");
        if (!certificate.getPrincipals().contains(name)) return Optional.of("a certificate for another agent");
        return Optional.empty();
    }

    static String fingerprint(PublicKey key) {
        return KeyUtils.getFingerPrint(key);
    }
}
