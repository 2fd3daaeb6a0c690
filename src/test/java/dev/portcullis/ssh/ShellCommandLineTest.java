package dev.portcullis.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.ssh.ShellCommandLine.SimpleCommand;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** An exec string read as a shell reads it: every command that would run, or why it cannot be judged. */
class ShellCommandLineTest {

    private static List<String> lines(String text) {
        ShellCommandLine parsed = ShellCommandLine.parse(text);
        assertThat(parsed.unreadable()).as(text).isEmpty();
        return parsed.commands().stream().map(SimpleCommand::line).toList();
    }

    private static String unreadable(String text) {
        ShellCommandLine parsed = ShellCommandLine.parse(text);
        assertThat(parsed.unreadable()).as(text).isPresent();
        return parsed.unreadable().get();
    }

    @Test
    void plainCommandsAndTheirArguments() {
        assertThat(lines("uptime")).containsExactly("uptime");
        assertThat(lines("df -h")).containsExactly("df -h");
        assertThat(lines("/usr/bin/systemctl status nginx")).containsExactly("systemctl status nginx");
        assertThat(lines("cat '/var/log/my file.log'")).containsExactly("cat /var/log/my file.log");
        assertThat(lines("echo \"a b\" c\\ d")).containsExactly("echo a b c d");
    }

    @Test
    void everyCommandOfListsAndPipelinesIsFound() {
        assertThat(lines("uptime; rm -rf /")).containsExactly("uptime", "rm -rf /");
        assertThat(lines("true && rm x || reboot")).containsExactly("true", "rm x", "reboot");
        assertThat(lines("cat /etc/passwd | grep root | tee /tmp/x")).containsExactly("cat /etc/passwd", "grep root", "tee /tmp/x");
        assertThat(lines("uptime &\nshutdown -h now")).containsExactly("uptime", "shutdown -h now");
        assertThat(lines("(cd /tmp && rm -rf *)")).containsExactly("cd /tmp", "rm -rf *");
        assertThat(lines("{ uptime; reboot; }")).containsExactly("uptime", "reboot");
        assertThat(lines("if true; then reboot; fi")).containsExactly("true", "reboot");
        assertThat(lines("while true; do rm x; done")).containsExactly("true", "rm x");
        assertThat(lines("uptime # ; reboot")).containsExactly("uptime");
    }

    @Test
    void substitutionsRunTheirCommandsToo() {
        assertThat(lines("echo $(rm -rf /)")).containsExactly("rm -rf /", "echo $(…)");
        assertThat(lines("echo `reboot`")).containsExactly("reboot", "echo $(…)");
        assertThat(lines("echo \"now: $(shutdown now)\"")).containsExactly("shutdown now", "echo now: $(…)");
        assertThat(lines("diff <(cat a) <(rm b)")).contains("cat a", "rm b");
        assertThat(lines("cat $(echo $(reboot))")).contains("reboot");
    }

    @Test
    void redirectionsToFilesAreKept() {
        SimpleCommand c = ShellCommandLine.parse("echo x > /etc/passwd 2>/dev/null").commands().getFirst();
        assertThat(c.redirects()).extracting(ShellCommandLine.Redirect::target).containsExactly("/etc/passwd", "/dev/null");
        assertThat(c.redirects().get(0).writes()).isTrue();
        assertThat(c.redirects().get(1).writes()).isFalse();
        assertThat(ShellCommandLine.parse("> /etc/shadow").commands().getFirst().redirects().getFirst().writes()).isTrue();
    }

    @Test
    void wrappersAreLookedThrough() {
        SimpleCommand sudo = ShellCommandLine.parse("sudo -u root rm -rf /").commands().getFirst();
        assertThat(sudo.line()).isEqualTo("rm -rf /");
        assertThat(sudo.wrappers()).containsExactly("sudo");
        assertThat(lines("env A=1 B=2 rm x")).containsExactly("rm x");
        assertThat(lines("nice -n 10 timeout -s KILL 5 nohup rm x")).containsExactly("rm x");
        assertThat(ShellCommandLine.parse("nice -n 10 timeout 5 rm x").commands().getFirst().wrappers()).containsExactly("nice", "timeout");
        assertThat(lines("sh -c 'uptime; reboot'")).containsExactly("uptime", "reboot");
        assertThat(lines("bash -lc \"rm -rf /tmp/x\"")).containsExactly("rm -rf /tmp/x");
        assertThat(lines("xargs -n 1 rm")).containsExactly("rm");
        assertThat(lines("find / -name x -exec rm {} \\;")).contains("rm {}");
        assertThat(lines("watch -n 1 'reboot'")).containsExactly("reboot");
        assertThat(lines("su -c 'rm x' root")).containsExactly("rm x");
        assertThat(lines("busybox rm x")).containsExactly("rm x");
        assertThat(lines("doas rm x")).containsExactly("rm x");
        assertThat(ShellCommandLine.parse("doas rm x").commands().getFirst().wrappers()).containsExactly("sudo");
        assertThat(lines("A=1 uptime")).containsExactly("uptime");
        assertThat(lines("env")).containsExactly("env");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "eval rm -rf /", "source /tmp/x.sh", ". /tmp/x.sh", "$CMD -rf /", "${RM} x", "`echo rm` x", "r?m x", "/bin/r*m x",
            "python3 -c 'import os; os.system(\"reboot\")'", "perl -e 'system(\"reboot\")'", "awk 'BEGIN{system(\"reboot\")}'",
            "base64 -d <<< cmVib290 | sh", "curl http://x | bash", "bash /tmp/script.sh", "sh", "echo $((1+2))",
            "cat <<EOF\nhi\nEOF", "for f in *; do rm $f; done", "case x in x) reboot;; esac", "f() { reboot; }; f",
            "echo 'unterminated", "echo \"unterminated", "env -S 'rm -rf /'", "sudo -i", "su", "exec reboot",
            "ruby -e 'exit'", "node -e 'x'", "php -r 'x'", "sh -c \"$X\"", "xargs sh", "python3.12 x.py"})
    void whatCannotBeReadIsUnreadable(String line) {
        assertThat(unreadable(line)).isNotBlank();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '~', value = {
            "r\\m -rf /~rm -rf /",
            "'r'm -rf /~rm -rf /",
            "\\reboot~reboot",
            "ls;reboot~reboot",
            "ls|reboot~reboot",
            "ls&&reboot~reboot",
            "command -p reboot~reboot",
            "time reboot~reboot",
            "! reboot~reboot",
            "nohup reboot &~reboot",
            "xargs -I{} sh -c 'rm {}'~rm {}",
            "sudo -- rm x~rm x",
            "env -i PATH=/bin rm x~rm x",
            "ls\\r\\nreboot~reboot",
            "ls >(reboot)~reboot"})
    void evasionsStillShowTheCommandThatRuns(String text, String runs) {
        String line = text.replace("\\r\\n", "\r\n");
        assertThat(lines(line)).contains(runs);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"$(echo rm)\" x", "a=rm; $a x", "rm${IFS}-rf${IFS}/", "$'\\x72m' x", "{rm,-rf,/}", "ls$(reboot)", "{r,}m x"})
    void namesBuiltAtRunTimeAreUnreadable(String line) {
        assertThat(unreadable(line)).isNotBlank();
    }

    @Test
    void unreadableStillListsWhatWasFoundBeforeIt() {
        ShellCommandLine parsed = ShellCommandLine.parse("uptime; eval x");
        assertThat(parsed.unreadable()).isPresent();
        assertThat(parsed.commands()).extracting(SimpleCommand::line).containsExactly("uptime");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "cat /var/log/syslog|cat /var/log/syslog",
            "journalctl -u nginx --since '1 hour ago'|journalctl -u nginx --since 1 hour ago",
            "ls -la /var/log/*.log|ls -la /var/log/*.log",
            "systemctl restart nginx|systemctl restart nginx"})
    void argumentsMayHoldGlobsAndSpaces(String text, String line) {
        assertThat(lines(text)).containsExactly(line);
    }

    @Test
    void hugeOrNulLinesAreUnreadable() {
        assertThat(unreadable("echo " + "a".repeat(70_000))).contains("over");
        assertThat(unreadable("echo a\0b")).contains("NUL");
        assertThat(unreadable("echo " + "$(".repeat(40) + "x" + ")".repeat(40))).isNotBlank();
    }
}
