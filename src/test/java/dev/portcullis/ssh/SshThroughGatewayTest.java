package dev.portcullis.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OpenSSH client through the gateway to a real sshd: certificate login, commands judged one by one. */
class SshThroughGatewayTest {
    @TempDir
    static Path dir;
    static SshGatewayFixture f;
    static Path sshConfig;

    @BeforeAll
    static void start() throws Exception {
        f = new SshGatewayFixture(dir);
        Path agentDir = dir.resolve("agent");
        var main = Class.forName("dev.portcullis.cli.Main").getDeclaredMethod("commandLine");
        main.setAccessible(true);
        var cli = (picocli.CommandLine) main.invoke(null);
        Path token = Files.writeString(dir.resolve("token"), f.token("agent-1", "agents"));
        int exit = cli.execute("ssh-login", "--connection", "web", "--server", "http://127.0.0.1:" + f.adminPort,
                "--token-file", token.toString(), "--dir", agentDir.toString());
        assertThat(exit).isZero();
        sshConfig = agentDir.resolve("ssh_config");
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @Test
    void anAllowedCommandRunsOnTheHost() throws Exception {
        SshGatewayFixture.Run r = f.ssh(sshConfig, "web", "echo hello-from-the-host && whoami");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("hello-from-the-host").contains(System.getProperty("user.name"));
    }

    @Test
    void aRefusedCommandSaysWhyWithExitStatus126AndNeverReachesTheHost() throws Exception {
        Path marker = dir.resolve("must-not-exist");
        long before = f.upstreamLogins();
        SshGatewayFixture.Run r = f.ssh(sshConfig, "web", "uptime; rm -rf " + marker + "; touch " + marker);
        assertThat(r.exit()).isEqualTo(126);
        assertThat(r.err()).contains("refused by rule never-destructive");
        assertThat(marker).doesNotExist();
        assertThat(f.upstreamLogins()).as("the gateway never logged in to the host").isEqualTo(before);
    }
}
