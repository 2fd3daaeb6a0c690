package dev.portcullis.ssh;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An SSH exec string read as a POSIX shell would read it, to judge every command it runs: each simple
 * command of a list or pipeline ({@code ;}, {@code &&}, {@code ||}, {@code |}, {@code &}, newlines),
 * of a subshell or group, of a command substitution ({@code $(...)}, backticks) and of a process
 * substitution, with its redirections. Wrappers that run another command ({@code sudo}, {@code env},
 * {@code nice}, {@code timeout}, {@code nohup}, {@code xargs}, {@code sh -c '...'}, {@code find -exec},
 * ...) are looked through: the command they run is judged, with the wrappers noted.
 *
 * <p>Anything whose effect cannot be read from the text is <em>unreadable</em>, and the whole line with
 * it: a command name built at run time ({@code $cmd}, {@code `x`y}, globs), {@code eval} and
 * {@code source}, an interpreter running code ({@code python -c}, {@code perl -e}, {@code awk}, a shell
 * reading a script or its stdin, so {@code base64 -d | sh} too), here-documents, arithmetic expansion,
 * {@code case}, {@code for}, function definitions, an unterminated quote. Fail closed: a policy refuses
 * an unreadable line.
 *
 * @param commands   every simple command found, in order
 * @param unreadable why the line cannot be judged; empty when it can
 */
public record ShellCommandLine(List<SimpleCommand> commands, Optional<String> unreadable) {

    public ShellCommandLine {
        commands = List.copyOf(commands);
        Objects.requireNonNull(unreadable, "unreadable");
    }

    /**
     * One command that runs.
     *
     * @param program   the command name as written ({@code /bin/rm}, {@code rm})
     * @param args      its arguments, quotes removed
     * @param wrappers  the wrappers it runs under, outermost first ({@code [sudo, env]})
     * @param redirects its redirections ({@code >} {@code /tmp/x})
     */
    public record SimpleCommand(String program, List<String> args, List<String> wrappers, List<Redirect> redirects) {
        public SimpleCommand {
            args = List.copyOf(args);
            wrappers = List.copyOf(wrappers);
            redirects = List.copyOf(redirects);
        }

        /** The program's file name: {@code /usr/bin/rm} is {@code rm}. */
        public String name() {
            int slash = program.lastIndexOf('/');
            return slash < 0 ? program : program.substring(slash + 1);
        }

        /** {@code name args...} on one line, as a rule's pattern reads it. */
        public String line() {
            return args.isEmpty() ? name() : name() + " " + String.join(" ", args);
        }
    }

    /** A redirection: {@code >}, {@code >>}, {@code <}, {@code 2>}, ... and its target. */
    public record Redirect(String operator, String target) {
        /** Whether it writes to its target (a file, unless it is /dev/null or a file descriptor). */
        public boolean writes() {
            return (operator.contains(">") && !operator.endsWith("&")) && !target.equals("/dev/null");
        }
    }

    /** Programs that run code given to them: never readable from the text. */
    static final Set<String> INTERPRETERS = Set.of("python", "python2", "python3", "perl", "ruby", "irb", "node", "nodejs",
            "php", "lua", "luajit", "tclsh", "wish", "expect", "awk", "gawk", "mawk", "nawk", "jshell", "groovy", "Rscript", "R",
            "pwsh", "powershell", "osascript", "jq-run");
    static final Set<String> SHELLS = Set.of("sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "csh", "tcsh", "fish", "busybox-sh");
    /** Builtins that run text as code, or change what later words mean. */
    static final Set<String> DYNAMIC_NAMES = Set.of("eval", "source", ".", "alias", "trap", "builtin", "enable", "coproc", "fc", "exec");

    static final int MAX_DEPTH = 16;
    static final int MAX_CHARS = 64 * 1024;

    /** Reads {@code text}; never throws: what it cannot read is {@link #unreadable()}. */
    public static ShellCommandLine parse(String text) {
        List<SimpleCommand> out = new ArrayList<>();
        try {
            if (text.length() > MAX_CHARS) throw new Unreadable("the command line is over " + MAX_CHARS + " characters");
            if (text.indexOf('\0') >= 0) throw new Unreadable("the command line holds a NUL byte");
            list(text, 0, List.of(), out);
            return new ShellCommandLine(out, Optional.empty());
        } catch (Unreadable e) {
            return new ShellCommandLine(out, Optional.of(e.getMessage()));
        }
    }

    /** A reason the line cannot be judged. */
    static final class Unreadable extends Exception {
        Unreadable(String message) {
            super(message, null, false, false);
        }
    }

    /** Parses a command list (the whole line, a substitution's text, {@code sh -c}'s string). */
    static void list(String text, int depth, List<String> wrappers, List<SimpleCommand> out) throws Unreadable {
        if (depth > MAX_DEPTH) throw new Unreadable("commands nested deeper than " + MAX_DEPTH);
        List<ShellLexer.Token> tokens = new ShellLexer(text, depth).tokens();
        List<ShellLexer.Token> words = new ArrayList<>();
        List<Redirect> redirects = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            ShellLexer.Token t = tokens.get(i);
            for (String inner : t.substitutions()) list(inner, depth + 1, List.of(), out); // $(...), `...`, <(...) run too
            if (t.isOperator()) {
                String op = t.text();
                if (ShellLexer.isRedirect(op)) {
                    if (op.startsWith("<<") && !op.equals("<<<")) throw new Unreadable("a here-document feeds text the gateway does not judge");
                    if (i + 1 >= tokens.size() || tokens.get(i + 1).isOperator()) throw new Unreadable("a redirection without a target");
                    ShellLexer.Token target = tokens.get(++i);
                    for (String inner : target.substitutions()) list(inner, depth + 1, List.of(), out);
                    redirects.add(new Redirect(op, target.text()));
                    continue;
                }
                if (op.equals("(") && !words.isEmpty()) throw new Unreadable("a function definition");
                if (op.equals(";;") || op.equals(";&") || op.equals(";;&")) throw new Unreadable("a case statement");
                simple(words, redirects, wrappers, depth, out); // any other operator ends the simple command
                words = new ArrayList<>();
                redirects = new ArrayList<>();
                continue;
            }
            words.add(t);
        }
        simple(words, redirects, wrappers, depth, out);
    }

    /** Reserved words that start or continue a compound command: the command after them is the one that runs. */
    private static final Set<String> SKIPPED_WORDS = Set.of("if", "then", "else", "elif", "fi", "do", "done", "while", "until",
            "!", "{", "}", "time");
    private static final Set<String> UNREADABLE_WORDS = Set.of("for", "case", "esac", "select", "function", "[[", "((", "in");

    private static void simple(List<ShellLexer.Token> tokens, List<Redirect> redirects, List<String> wrappers, int depth,
                               List<SimpleCommand> out) throws Unreadable {
        int i = 0;
        while (i < tokens.size()) {
            ShellLexer.Token t = tokens.get(i);
            if (t.quoted() || t.expanded()) break;
            if (SKIPPED_WORDS.contains(t.text())) {
                i++;
            } else if (UNREADABLE_WORDS.contains(t.text())) {
                throw new Unreadable("'" + t.text() + "' (a loop, case or function) is not judged");
            } else if (ShellLexer.isAssignment(t.text())) {
                i++; // VAR=value before the command: an environment for it
            } else {
                break;
            }
        }
        if (i >= tokens.size()) {
            if (!redirects.isEmpty()) out.add(new SimpleCommand(":", List.of(), wrappers, redirects)); // '> file' truncates it
            return;
        }
        ShellLexer.Token name = tokens.get(i);
        if (name.expanded() || name.globbed()) throw new Unreadable("the command name '" + name.raw() + "' is built when it runs");
        List<String> words = new ArrayList<>();
        for (int j = i; j < tokens.size(); j++) words.add(tokens.get(j).text());
        boolean[] argExpanded = new boolean[words.size()];
        for (int j = i; j < tokens.size(); j++) argExpanded[j - i] = tokens.get(j).expanded();
        Wrappers.lookThrough(words, argExpanded, new ArrayList<>(wrappers), redirects, depth, out);
    }
}
