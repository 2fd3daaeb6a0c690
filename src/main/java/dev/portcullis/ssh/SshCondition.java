package dev.portcullis.ssh;

import dev.portcullis.core.Operation;
import dev.portcullis.policy.OperationCondition;
import dev.portcullis.ssh.ShellCommandLine.SimpleCommand;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A rule's {@code when.ssh} block, matched against every command an exec line runs.
 *
 * <p>An allow rule ({@code everyValue}) matches only when <em>every</em> command of the line matches one
 * of its {@code commands} patterns, none runs under {@code sudo} unless the rule says {@code sudo: true},
 * and none writes a file through a redirection unless it says {@code writes: true}; a deny or approval
 * rule matches when <em>any</em> command does. So {@code uptime; rm -rf /} is never allowed by an
 * allow rule for {@code uptime}, and is refused by a deny rule for {@code rm *}. A line that cannot be
 * read matches only a rule with {@code unreadable: true}; a shell only one with {@code shell: true}.
 *
 * @param commands   patterns of {@code name args} lines: {@code *} any text within one argument, {@code **} any text
 *                   (several arguments too), {@code ?} one character. An allow rule never matches an argument
 *                   with a {@code ..} path segment: {@code cat /var/log/*} does not allow {@code cat /var/log/../../etc/shadow}
 * @param sudo       true: matches commands run under sudo (for a deny rule: any command under sudo)
 * @param writes     true: allows commands that redirect output into a file
 * @param unreadable true: matches lines that cannot be judged
 * @param shell      true: matches an interactive shell
 */
public record SshCondition(List<String> commands, boolean sudo, boolean writes, boolean unreadable, boolean shell)
        implements OperationCondition {

    public SshCondition {
        commands = List.copyOf(commands);
    }

    @Override
    public String protocol() {
        return "ssh";
    }

    @Override
    public boolean matches(Operation operation, boolean everyValue) {
        if (!(operation instanceof SshCommand c)) return false;
        if (c.shell()) return shell;
        if (shell && commands.isEmpty() && !unreadable && !sudo) return false;
        if (c.parsed().unreadable().isPresent()) return unreadable;
        if (unreadable && commands.isEmpty() && !sudo) return false;
        List<SimpleCommand> runs = c.parsed().commands();
        if (runs.isEmpty()) return false;
        if (everyValue) {
            for (SimpleCommand run : runs) {
                if (!accepted(run) || climbsOut(run)) return false;
                if (run.wrappers().contains("sudo") && !sudo) return false;
                if (!writes && run.redirects().stream().anyMatch(ShellCommandLine.Redirect::writes)) return false;
            }
            return true;
        }
        for (SimpleCommand run : runs) {
            boolean underSudo = run.wrappers().contains("sudo");
            if (sudo && commands.isEmpty() && underSudo) return true;
            if (!commands.isEmpty() && accepted(run) && (!sudo || underSudo)) return true;
        }
        return false;
    }

    private boolean accepted(SimpleCommand run) {
        if (commands.isEmpty()) return true;
        String line = run.line();
        for (String pattern : commands) if (glob(pattern).matcher(line).matches()) return true;
        return false;
    }

    /** An argument that leaves its directory: {@code ..} as a path segment. */
    private static boolean climbsOut(SimpleCommand run) {
        for (String a : run.args()) {
            if (a.equals("..") || a.startsWith("../") || a.endsWith("/..") || a.contains("/../")) return true;
        }
        return false;
    }

    /** {@code **} any text, {@code *} any text without a space, {@code ?} one character, everything else literal. */
    static Pattern glob(String pattern) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char ch = pattern.charAt(i);
            if (ch == '*' && i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
            } else if (ch == '*') {
                re.append("[^ ]*");
            } else if (ch == '?') {
                re.append("[^ ]");
            } else {
                re.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
