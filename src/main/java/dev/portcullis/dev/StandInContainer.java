package dev.portcullis.dev;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * What runs inside a pod of the Kubernetes API stand-in when kubectl execs into it: a few commands with
 * fixed output ({@code ls}, {@code env}, {@code cat FILE}, {@code echo}, {@code date}, {@code id}), {@code cat}
 * alone copying stdin to stdout, and a shell ({@code sh}, {@code bash}) that answers each line it reads
 * until {@code exit}. Anything else: "command not found" on stderr and exit code 127. Not a container:
 * enough for the exec protocols to carry real input and output.
 */
final class StandInContainer {
    private final String pod;
    private final List<String> command;
    private final Consumer<byte[]> stdout;
    private final Consumer<byte[]> stderr;
    private final StringBuilder line = new StringBuilder();
    private Integer exitCode;

    StandInContainer(String pod, List<String> command, Consumer<byte[]> stdout, Consumer<byte[]> stderr) {
        this.pod = pod;
        this.command = command;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Starts the command; returns true when it already finished (no input needed). */
    boolean start() {
        String program = command.isEmpty() ? "sh" : command.getFirst().substring(command.getFirst().lastIndexOf('/') + 1);
        List<String> args = command.isEmpty() ? List.of() : command.subList(1, command.size());
        switch (program) {
            case "ls" -> finish(out("app.py\nconfig\nrequirements.txt\n"), 0);
            case "env", "printenv" -> finish(out("HOSTNAME=" + pod + "\nPATH=/usr/local/bin:/usr/bin:/bin\nAPP_ENV=dev\n"), 0);
            case "echo" -> finish(out(String.join(" ", args) + "\n"), 0);
            case "date" -> finish(out("Fri Dec  4 12:00:00 UTC 2026\n"), 0);
            case "id" -> finish(out("uid=1000(app) gid=1000(app) groups=1000(app)\n"), 0);
            case "cat" -> {
                if (!args.isEmpty()) finish(out("contents of " + String.join(" ", args) + "\n"), 0);
                // else: copies stdin until it ends
            }
            case "sh", "bash" -> out("$ ");
            default -> {
                stderr.accept((program + ": command not found\n").getBytes(StandardCharsets.UTF_8));
                exitCode = 127;
            }
        }
        return exitCode != null;
    }

    private boolean out(String text) {
        stdout.accept(text.getBytes(StandardCharsets.UTF_8));
        return true;
    }

    private void finish(boolean ignored, int code) {
        exitCode = code;
    }

    /** Input from stdin; returns true when the command has now finished. */
    boolean input(byte[] bytes) {
        if (exitCode != null) return true;
        String program = command.isEmpty() ? "sh" : command.getFirst().substring(command.getFirst().lastIndexOf('/') + 1);
        if (program.equals("cat")) {
            stdout.accept(bytes);
            return false;
        }
        for (byte b : bytes) {
            char c = (char) (b & 0xff);
            if (c == '\r' || c == '\n') {
                String l = line.toString().strip();
                line.setLength(0);
                if (c == '\r') stdout.accept("\r\n".getBytes(StandardCharsets.UTF_8)); // a terminal echoes the newline
                if (l.equals("exit")) {
                    exitCode = 0;
                    return true;
                }
                if (!l.isEmpty()) out("ran: " + l + "\n");
                out("$ ");
            } else {
                line.append(c);
            }
        }
        return false;
    }

    /** Stdin ended: a command reading it finishes. */
    boolean endOfInput() {
        if (exitCode == null) exitCode = 0;
        return true;
    }

    int exitCode() {
        return exitCode == null ? 0 : exitCode;
    }

    /** The Status kubelet reports on the error channel when the command ends (v4 and later). */
    static String status(int exitCode) {
        if (exitCode == 0) return "{\"metadata\":{},\"status\":\"Success\"}";
        return "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero exit code: exit status "
                + exitCode + "\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\""
                + exitCode + "\"}]}}";
    }
}
