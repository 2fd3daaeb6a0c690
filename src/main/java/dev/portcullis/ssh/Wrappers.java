package dev.portcullis.ssh;

import dev.portcullis.ssh.ShellCommandLine.Redirect;
import dev.portcullis.ssh.ShellCommandLine.SimpleCommand;
import dev.portcullis.ssh.ShellCommandLine.Unreadable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Programs that run another program named in their arguments, looked through so that the program they
 * run is the one judged: {@code sudo rm} is {@code rm} under {@code sudo}. What a wrapper runs as a shell
 * string ({@code sh -c}, {@code su -c}, {@code watch}, {@code flock -c}) is parsed as a command line.
 */
final class Wrappers {
    /** Wrapper → its options that take a value (the next argument). */
    private static final Map<String, Set<String>> VALUE_OPTIONS = Map.ofEntries(
            Map.entry("sudo", Set.of("-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D", "-R", "-T", "--user", "--group", "--chdir")),
            Map.entry("doas", Set.of("-u", "-C")),
            Map.entry("env", Set.of("-u", "-C", "--unset", "--chdir")),
            Map.entry("nice", Set.of("-n", "--adjustment")),
            Map.entry("ionice", Set.of("-c", "-n", "-p", "-t", "-P", "-u", "--class", "--classdata")),
            Map.entry("stdbuf", Set.of("-i", "-o", "-e")),
            Map.entry("timeout", Set.of("-s", "-k", "--signal", "--kill-after")),
            Map.entry("nohup", Set.of()),
            Map.entry("setsid", Set.of()),
            Map.entry("time", Set.of("-o", "-f")),
            Map.entry("command", Set.of()),
            Map.entry("xargs", Set.of("-a", "-d", "-E", "-e", "-I", "-i", "-L", "-l", "-n", "-P", "-s", "--arg-file", "--delimiter",
                    "--max-args", "--max-procs", "--max-chars", "--replace")),
            Map.entry("chrt", Set.of()),
            Map.entry("taskset", Set.of()),
            Map.entry("unbuffer", Set.of()),
            Map.entry("caffeinate", Set.of()));

    private Wrappers() {
    }

    static void lookThrough(List<String> words, boolean[] expanded, List<String> wrappers, List<Redirect> redirects, int depth,
                            List<SimpleCommand> out) throws Unreadable {
        if (depth > ShellCommandLine.MAX_DEPTH) throw new Unreadable("commands nested deeper than " + ShellCommandLine.MAX_DEPTH);
        String program = words.getFirst();
        String name = program.substring(program.lastIndexOf('/') + 1);
        List<String> args = words.subList(1, words.size());
        boolean[] argExpanded = java.util.Arrays.copyOfRange(expanded, 1, expanded.length);

        if (ShellCommandLine.DYNAMIC_NAMES.contains(name)) throw new Unreadable("'" + name + "' runs code the gateway cannot read");
        if (ShellCommandLine.INTERPRETERS.contains(name) || name.matches("(python|perl|ruby|php|lua|node)[0-9.]*")) {
            throw new Unreadable("'" + name + "' is an interpreter: the code it runs is not judged");
        }
        if (ShellCommandLine.SHELLS.contains(name)) {
            shell(name, args, argExpanded, wrappers, depth, out);
            return;
        }
        if (name.equals("busybox") && !args.isEmpty()) {
            wrappers.add("busybox");
            lookThrough(args, argExpanded, wrappers, redirects, depth + 1, out);
            return;
        }
        if ((name.equals("su") || name.equals("runuser")) && args.contains("-c")) {
            int c = args.indexOf("-c");
            if (c + 1 >= args.size() || argExpanded[c + 1]) throw new Unreadable("'" + name + " -c' without a readable command");
            wrappers.add(name);
            ShellCommandLine.list(args.get(c + 1), depth + 1, wrappers, out);
            return;
        }
        if (name.equals("su") || name.equals("runuser") || name.equals("login")) throw new Unreadable("'" + name + "' opens a shell");
        if (name.equals("watch") || name.equals("flock")) {
            runsShellString(name, args, argExpanded, wrappers, depth, out);
            return;
        }
        if (name.equals("find")) find(args, argExpanded, wrappers, depth, out);
        if (VALUE_OPTIONS.containsKey(name) || name.equals("chroot")) {
            int k = skipOptions(name, args);
            if (name.equals("env")) {
                while (k < args.size() && ShellLexer.isAssignment(args.get(k))) k++;
            }
            if (name.equals("timeout") || name.equals("chroot") || name.equals("chrt") || name.equals("taskset")) k++; // the duration, directory, priority or mask
            if (k < args.size()) {
                if (argExpanded[k]) throw new Unreadable("the command '" + name + "' runs is built when it runs");
                wrappers.add(name.equals("doas") ? "sudo" : name);
                lookThrough(args.subList(k, args.size()), java.util.Arrays.copyOfRange(argExpanded, k, argExpanded.length), wrappers,
                        redirects, depth + 1, out);
                return;
            }
            if (name.equals("sudo") || name.equals("doas")) {
                if (args.stream().anyMatch(a -> a.equals("-s") || a.equals("-i") || a.equals("--shell") || a.equals("--login"))) {
                    throw new Unreadable("'" + name + " -s/-i' opens a root shell");
                }
            }
            if (name.equals("xargs")) {
                // xargs alone runs echo with what it reads
                out.add(new SimpleCommand("echo", List.of(), append(wrappers, "xargs"), redirects));
                return;
            }
        }
        out.add(new SimpleCommand(program, args, wrappers, redirects));
    }

    /** {@code sh -c 'string' [name args]}: the string is a command line; a script file, or stdin, is unreadable. */
    private static void shell(String name, List<String> args, boolean[] expanded, List<String> wrappers, int depth, List<SimpleCommand> out)
            throws Unreadable {
        for (int k = 0; k < args.size(); k++) {
            String a = args.get(k);
            if (a.equals("-c") || (a.startsWith("-") && !a.startsWith("--") && a.contains("c"))) {
                if (k + 1 >= args.size() || expanded[k + 1]) throw new Unreadable("'" + name + " -c' without a readable command");
                ShellCommandLine.list(args.get(k + 1), depth + 1, append(wrappers, name + " -c"), out);
                return;
            }
            if (!a.startsWith("-") && !a.startsWith("+")) break;
        }
        throw new Unreadable("'" + name + "' runs a script or its input, which is not judged");
    }

    /** {@code watch [opts] cmd args...} and {@code flock [opts] file cmd...} / {@code -c string}: what they run. */
    private static void runsShellString(String name, List<String> args, boolean[] expanded, List<String> wrappers, int depth,
                                        List<SimpleCommand> out) throws Unreadable {
        int k = 0;
        while (k < args.size() && args.get(k).startsWith("-")) {
            if (args.get(k).equals("-c") && name.equals("flock") && k + 1 < args.size()) {
                if (expanded[k + 1]) throw new Unreadable("'flock -c' without a readable command");
                ShellCommandLine.list(args.get(k + 1), depth + 1, append(wrappers, name), out);
                return;
            }
            k += Set.of("-n", "--interval", "-d", "-w", "-E", "--conflict-exit-code").contains(args.get(k)) ? 2 : 1;
        }
        if (name.equals("flock")) k++; // the lock file
        if (k >= args.size()) throw new Unreadable("'" + name + "' without a command");
        for (int j = k; j < args.size(); j++) if (expanded[j]) throw new Unreadable("'" + name + "' runs a command built when it runs");
        // both join their arguments into a shell command line
        ShellCommandLine.list(String.join(" ", args.subList(k, args.size())), depth + 1, append(wrappers, name), out);
    }

    /** {@code find ... -exec cmd {} ;}: the command runs once per file found. */
    private static void find(List<String> args, boolean[] expanded, List<String> wrappers, int depth, List<SimpleCommand> out)
            throws Unreadable {
        for (int k = 0; k < args.size(); k++) {
            String a = args.get(k);
            if (a.equals("-exec") || a.equals("-execdir") || a.equals("-ok") || a.equals("-okdir")) {
                int end = k + 1;
                while (end < args.size() && !args.get(end).equals(";") && !args.get(end).equals("+")) end++;
                if (end == k + 1) throw new Unreadable("'find " + a + "' without a command");
                lookThrough(args.subList(k + 1, end), java.util.Arrays.copyOfRange(expanded, k + 1, end), append(wrappers, "find"),
                        List.of(), depth + 1, out);
                k = end;
            }
        }
    }

    private static int skipOptions(String name, List<String> args) throws Unreadable {
        Set<String> valued = VALUE_OPTIONS.getOrDefault(name, Set.of());
        int k = 0;
        while (k < args.size()) {
            String a = args.get(k);
            if (a.equals("--")) return k + 1;
            if (!a.startsWith("-") || a.equals("-")) {
                if (name.equals("env") && a.equals("-")) {
                    k++;
                    continue;
                }
                return k;
            }
            if (name.equals("env") && (a.equals("-S") || a.startsWith("--split-string") || (a.startsWith("-") && !a.startsWith("--") && a.contains("S")))) {
                throw new Unreadable("'env -S' splits a string into a command the gateway does not read");
            }
            if (name.equals("nice") && a.matches("-[0-9]+")) {
                k++;
                continue;
            }
            k += valued.contains(a) ? 2 : 1;
        }
        return k;
    }

    private static List<String> append(List<String> wrappers, String wrapper) {
        List<String> out = new ArrayList<>(wrappers);
        out.add(wrapper);
        return out;
    }
}
