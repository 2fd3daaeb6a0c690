package dev.portcullis.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.Identity;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.certificate.OpenSshCertificateBuilder;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which certificates log in: only those this gateway issued, to that user, still valid; every other one
 * is refused with why. (OpenSSH's client does not offer a certificate outside its validity period, so the
 * end-to-end tests cannot reach those cases; a hostile client can.)
 */
class UserCertificatesTest {
    @TempDir
    Path dir;
    UserCertificates certificates;
    KeyPair ca;

    @BeforeEach
    void open() throws Exception {
        certificates = UserCertificates.open("web-test", dir.resolve("ca"), Duration.ofMinutes(10));
        ca = new FileKeyPairProvider(dir.resolve("ca")).loadKeys(null).iterator().next();
    }

    @AfterEach
    void close() {
        certificates.close();
    }

    static Identity agent(String subject) {
        return new Identity(subject, Set.of("agents"), "jti-" + subject, "client", "https://idp", Map.of(), Instant.now().plus(Duration.ofHours(1)));
    }

    static KeyPair key() throws Exception {
        return KeyUtils.generateKeyPair(KeyPairProvider.ECDSA_SHA2_NISTP256, 256);
    }

    static OpenSshCertificate parse(String line) throws Exception {
        return (OpenSshCertificate) PublicKeyEntry.parsePublicKeyEntry(line).resolvePublicKey(null, Map.of(), null);
    }

    OpenSshCertificate forged(KeyPair signer, OpenSshCertificate.Type type, Instant after, Instant before) throws Exception {
        OpenSshCertificateBuilder b = type == OpenSshCertificate.Type.USER ? OpenSshCertificateBuilder.userCertificate() : OpenSshCertificateBuilder.hostCertificate();
        return b.serial(42).publicKey(key().getPublic()).id("forged").principals(List.of("agent-1"))
                .validAfter(after).validBefore(before).sign(signer);
    }

    @Test
    void anIssuedCertificateLogsItsSubjectInAndNobodyElse() throws Exception {
        OpenSshCertificate issued = parse(certificates.issue(agent("agent-1"), key().getPublic(), "the-token"));
        UserCertificates.Checked ok = certificates.check(issued, "agent-1");
        assertThat(ok.refusal()).isNull();
        assertThat(ok.holder().identity().subject()).isEqualTo("agent-1");
        assertThat(ok.holder().token()).isEqualTo("the-token");

        assertThat(certificates.check(issued, "root").refusal()).isEqualTo("a certificate not valid for user root");
    }

    @Test
    void everyOtherCertificateIsRefusedWithWhy() throws Exception {
        Instant now = Instant.now();
        // signed with the gateway's own CA key (as if it were stolen), but never issued by the gateway
        assertThat(certificates.check(forged(ca, OpenSshCertificate.Type.USER, now.minusSeconds(60), now.plusSeconds(600)), "agent-1").refusal())
                .startsWith("a certificate this gateway never issued");
        // outside its validity period, either side
        assertThat(certificates.check(forged(ca, OpenSshCertificate.Type.USER, now.plusSeconds(3600), now.plusSeconds(7200)), "agent-1").refusal())
                .isEqualTo("a certificate outside its validity period");
        assertThat(certificates.check(forged(ca, OpenSshCertificate.Type.USER, now.minusSeconds(7200), now.minusSeconds(3600)), "agent-1").refusal())
                .isEqualTo("a certificate outside its validity period");
        // a host certificate is not a login
        assertThat(certificates.check(forged(ca, OpenSshCertificate.Type.HOST, now.minusSeconds(60), now.plusSeconds(600)), "agent-1").refusal())
                .isEqualTo("not a user certificate");
        // another authority
        assertThat(certificates.check(forged(key(), OpenSshCertificate.Type.USER, now.minusSeconds(60), now.plusSeconds(600)), "agent-1").refusal())
                .isEqualTo("a certificate from another authority");
    }
}
