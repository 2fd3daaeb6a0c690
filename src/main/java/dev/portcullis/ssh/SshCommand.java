package dev.portcullis.ssh;

import dev.portcullis.core.Operation;
import java.util.List;
import java.util.Objects;

/**
 * What an agent asks of a host over SSH: one exec command line (read as a shell reads it,
 * {@link ShellCommandLine}), or an interactive shell.
 *
 * @param line   the exec string as sent; empty for a shell
 * @param parsed the commands it runs, or why it cannot be judged
 * @param shell  an interactive shell ({@code ssh host} without a command)
 */
public record SshCommand(String line, ShellCommandLine parsed, boolean shell) implements Operation {

    public SshCommand {
        Objects.requireNonNull(line, "line");
        Objects.requireNonNull(parsed, "parsed");
    }

    public static SshCommand exec(String line) {
        return new SshCommand(line, ShellCommandLine.parse(line), false);
    }

    public static SshCommand interactiveShell() {
        return new SshCommand("", new ShellCommandLine(List.of(), java.util.Optional.empty()), true);
    }

    @Override
    public String protocol() {
        return "ssh";
    }

    /** {@code exec: systemctl status nginx}, {@code shell}. */
    @Override
    public String summary() {
        if (shell) return "shell";
        String oneLine = line.replace('\n', ' ').replace('\r', ' ');
        return "exec: " + (oneLine.length() > 200 ? oneLine.substring(0, 200) + "…" : oneLine);
    }

    @Override
    public List<String> identity() {
        return List.of(shell ? "shell" : "exec", line);
    }

    /** A command may change the host; only a person's policy says otherwise. */
    @Override
    public boolean mayChangeTarget() {
        return true;
    }
}
