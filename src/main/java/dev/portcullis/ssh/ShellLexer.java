package dev.portcullis.ssh;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a shell command line into words and operators as a POSIX shell does: quotes removed,
 * backslashes applied, command and process substitutions kept aside (their text is parsed as commands
 * of its own), and each word marked when an expansion or a glob makes its final value unknown.
 */
final class ShellLexer {
    /**
     * @param text          the word after quote removal, or the operator
     * @param raw           as written
     * @param operator      an operator ({@code ;}, {@code |}, {@code >}...), not a word
     * @param quoted        some of it was quoted or escaped
     * @param expanded      it holds a parameter, command or arithmetic expansion: its value is known only when it runs
     * @param globbed       an unquoted {@code *}, {@code ?} or {@code [}: a pattern the shell expands
     * @param substitutions the texts of the command and process substitutions in it
     */
    record Token(String text, String raw, boolean operator, boolean quoted, boolean expanded, boolean globbed, List<String> substitutions) {
        boolean isOperator() {
            return operator;
        }
    }

    private static final String[] OPERATORS = {"&&", "||", ";;&", ";;", ";&", "|&", "&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">&", ">>", ">|",
            ";", "&", "|", "(", ")", "<", ">", "\n"};

    private final String s;
    private final int depth;
    private int i;
    private final List<Token> tokens = new ArrayList<>();

    ShellLexer(String s, int depth) {
        this.s = s;
        this.depth = depth;
    }

    static boolean isRedirect(String op) {
        return op.indexOf('<') >= 0 || op.indexOf('>') >= 0;
    }

    /** {@code NAME=value}: a name of letters, digits and underscores, not starting with a digit. */
    static boolean isAssignment(String word) {
        int eq = word.indexOf('=');
        if (eq <= 0) return false;
        for (int k = 0; k < eq; k++) {
            char c = word.charAt(k);
            if (!(c == '_' || Character.isLetter(c) || (k > 0 && Character.isDigit(c)))) return false;
        }
        return true;
    }

    List<Token> tokens() throws ShellCommandLine.Unreadable {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r') {
                i++;
            } else if (c == '#') {
                while (i < s.length() && s.charAt(i) != '\n') i++; // a comment
            } else if (c == '\\' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                i += 2; // a line continuation
            } else {
                String op = operatorAt(i);
                boolean processSubstitution = op != null && (op.equals("<") || op.equals(">")) && processSubstitution();
                if (op != null && !processSubstitution) {
                    i += op.length();
                    tokens.add(new Token(op.equals("\n") ? ";" : op, op, true, false, false, false, List.of()));
                } else {
                    word();
                }
            }
        }
        return tokens;
    }

    /** From a '{' at {@link #i}: a matching '}' in the same word with a ',' or '..' between them. */
    private boolean braceExpansion() {
        for (int k = i + 1; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '|' || c == '&') return false;
            if (c == '}') {
                String inside = s.substring(i + 1, k);
                return inside.contains(",") || inside.contains("..");
            }
        }
        return false;
    }

    private boolean processSubstitution() {
        return i + 1 < s.length() && s.charAt(i + 1) == '(';
    }

    private String operatorAt(int at) {
        for (String op : OPERATORS) if (s.startsWith(op, at)) return op;
        return null;
    }

    private void word() throws ShellCommandLine.Unreadable {
        StringBuilder text = new StringBuilder();
        int start = i;
        boolean quoted = false;
        boolean expanded = false;
        boolean globbed = false;
        List<String> subs = new ArrayList<>();
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') break;
            if ((c == '<' || c == '>') && processSubstitution()) {
                i += 2;
                subs.add(balanced(')'));
                expanded = true;
                continue;
            }
            if (operatorAt(i) != null) {
                // digits right before a redirection are its file descriptor: "2>" is one operator
                if ((c == '<' || c == '>') && text.chars().allMatch(Character::isDigit) && !text.isEmpty() && !quoted && start == i - text.length()) {
                    String op = operatorAt(i);
                    i += op.length();
                    tokens.add(new Token(text + op, text + op, true, false, false, false, List.of()));
                    return;
                }
                break;
            }
            switch (c) {
                case '\'' -> {
                    int end = s.indexOf('\'', i + 1);
                    if (end < 0) throw new ShellCommandLine.Unreadable("an unterminated ' quote");
                    text.append(s, i + 1, end);
                    i = end + 1;
                    quoted = true;
                }
                case '"' -> {
                    i++;
                    quoted = true;
                    boolean closed = false;
                    while (i < s.length()) {
                        char d = s.charAt(i);
                        if (d == '"') {
                            i++;
                            closed = true;
                            break;
                        }
                        if (d == '\\' && i + 1 < s.length() && "$`\"\\\n".indexOf(s.charAt(i + 1)) >= 0) {
                            if (s.charAt(i + 1) != '\n') text.append(s.charAt(i + 1));
                            i += 2;
                        } else if (d == '$' || d == '`') {
                            expanded = true;
                            dollarOrBacktick(text, subs);
                        } else {
                            text.append(d);
                            i++;
                        }
                    }
                    if (!closed) throw new ShellCommandLine.Unreadable("an unterminated \" quote");
                }
                case '\\' -> {
                    if (i + 1 >= s.length()) throw new ShellCommandLine.Unreadable("a line ending in a backslash");
                    text.append(s.charAt(i + 1));
                    i += 2;
                    quoted = true;
                }
                case '$', '`' -> {
                    expanded = true;
                    dollarOrBacktick(text, subs);
                }
                default -> {
                    if (c == '*' || c == '?' || c == '[') globbed = true;
                    if (c == '{' && braceExpansion()) globbed = true; // {rm,-rf,/} and a{b,c}: expanded into several words
                    text.append(c);
                    i++;
                }
            }
        }
        tokens.add(new Token(text.toString(), s.substring(start, i), false, quoted, expanded, globbed, subs));
    }

    /** At a {@code $} or a backtick: a substitution (kept aside), a parameter, or arithmetic (unreadable). */
    private void dollarOrBacktick(StringBuilder text, List<String> subs) throws ShellCommandLine.Unreadable {
        char c = s.charAt(i);
        if (c == '`') {
            StringBuilder inner = new StringBuilder();
            i++;
            while (i < s.length() && s.charAt(i) != '`') {
                if (s.charAt(i) == '\\' && i + 1 < s.length()) {
                    inner.append(s.charAt(i + 1));
                    i += 2;
                } else {
                    inner.append(s.charAt(i++));
                }
            }
            if (i >= s.length()) throw new ShellCommandLine.Unreadable("an unterminated ` substitution");
            i++;
            subs.add(inner.toString());
            text.append("$(…)");
            return;
        }
        if (s.startsWith("$((", i)) throw new ShellCommandLine.Unreadable("arithmetic expansion $((...)) is not judged");
        if (s.startsWith("$(", i)) {
            i += 2;
            subs.add(balanced(')'));
            text.append("$(…)");
            return;
        }
        if (s.startsWith("${", i)) {
            int end = s.indexOf('}', i);
            if (end < 0) throw new ShellCommandLine.Unreadable("an unterminated ${");
            String inside = s.substring(i + 2, end);
            if (inside.contains("$(") || inside.contains("`")) throw new ShellCommandLine.Unreadable("a substitution inside ${...}");
            text.append(s, i, end + 1);
            i = end + 1;
            return;
        }
        text.append('$');
        i++;
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || "@*#?$!-".indexOf(s.charAt(i)) >= 0 && text.charAt(text.length() - 1) == '$')) {
            text.append(s.charAt(i++));
        }
    }

    /** The text up to the matching {@code close}, quotes and nested parentheses respected; {@link #i} moves past it. */
    private String balanced(char close) throws ShellCommandLine.Unreadable {
        int level = 1;
        int begin = i;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\\') {
                i += 2;
                continue;
            }
            if (c == '\'') {
                int end = s.indexOf('\'', i + 1);
                if (end < 0) break;
                i = end + 1;
                continue;
            }
            if (c == '"') {
                i++;
                while (i < s.length() && s.charAt(i) != '"') i += s.charAt(i) == '\\' ? 2 : 1;
                i++;
                continue;
            }
            if (c == '(') level++;
            if (c == close && --level == 0) {
                String inner = s.substring(begin, i);
                i++;
                return inner;
            }
            i++;
        }
        throw new ShellCommandLine.Unreadable("an unterminated $( or <( substitution");
    }
}
