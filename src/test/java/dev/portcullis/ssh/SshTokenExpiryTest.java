package dev.portcullis.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A certificate lives no longer than the token it was given for: once the token has expired (or been
 * revoked at the IdP), logins with the still-valid certificate are refused.
 */
class SshTokenExpiryTest {
    @TempDir
    static Path dir;
    static SshGatewayFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = new SshGatewayFixture(dir, yaml -> yaml.replace("  algorithms: [RS256, ES256]\n", "  algorithms: [RS256, ES256]\n  clock-skew: 0s\n"));
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @Test
    void anExpiredTokenEndsLoginsWithItsCertificate() throws Exception {
        var main = Class.forName("dev.portcullis.cli.Main").getDeclaredMethod("commandLine");
        main.setAccessible(true);
        var cli = (picocli.CommandLine) main.invoke(null);
        Path token = Files.writeString(dir.resolve("token"), f.shortToken(4, "agent-short", "agents"));
        assertThat(cli.execute("ssh-login", "--connection", "web", "--server", "http://127.0.0.1:" + f.adminPort,
                "--token-file", token.toString(), "--dir", dir.resolve("agent").toString())).isZero();
        Path config = dir.resolve("agent").resolve("ssh_config");

        SshGatewayFixture.Run before = f.ssh(config, "web", "echo while-the-token-holds");
        assertThat(before.exit()).as(before.err()).isZero();

        Thread.sleep(5_000); // the token expires; the certificate (10 minutes) does not
        SshGatewayFixture.Run after = f.ssh(config, "web", "echo after-expiry");
        assertThat(after.exit()).isEqualTo(255);
        assertThat(after.err()).contains("Permission denied");
        assertThat(after.out()).doesNotContain("after-expiry");
    }
}
