package dev.portcullis.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An Okta {@code filter} / {@code search} expression, read strictly: the SCIM filter language of RFC 7644
 * section 3.4.2.2 without value paths ({@code emails[type eq "work"]}) or schema URNs; and the attributes
 * a sort parameter ({@code sortBy}) names, with the same attribute paths.
 *
 * <pre>
 *  filter     := or
 *  or         := and ( "or" and )*
 *  and        := unary ( "and" unary )*
 *  unary      := "not" "(" or ")" | "(" or ")" | comparison
 *  comparison := attrPath "pr" | attrPath op value        op := eq ne co sw ew gt ge lt le
 *  attrPath   := name ( "." name )*                        name := [A-Za-z_][A-Za-z0-9_-]*
 *  value      := JSON string | JSON number | true | false | null
 *
 *  sort       := sortKey ( "," sortKey )*                  sortKey := [+-]? attrPath ( "asc" | "desc" )?
 * </pre>
 * Operators and keywords are read without case. Anything else is a {@link SyntaxException}: the caller
 * refuses what it cannot read rather than forwarding it. Bounded: at most {@link #MAX_CHARS} characters
 * and {@link #MAX_DEPTH} nested parentheses, so a hostile value costs little and cannot exhaust the stack.
 */
final class OktaFilter {
    static final int MAX_CHARS = 4096;
    static final int MAX_DEPTH = 16;

    enum Operator {
        EQ, NE, CO, SW, EW, PR, GT, GE, LT, LE;

        /** Only tests whether the field equals a value the agent names, or is present: no pattern, no range. */
        boolean isEquality() {
            return this == EQ || this == NE || this == PR;
        }

        String text() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Optional<Operator> of(String word) {
            for (Operator op : values()) {
                if (op.name().equalsIgnoreCase(word)) return Optional.of(op);
            }
            return Optional.empty();
        }
    }

    /**
     * One {@code attribute op value} of the expression.
     *
     * @param value the literal as read: a string unescaped, a number as written, {@code true},
     *              {@code false} or {@code null} in lower case; empty for {@code pr}
     */
    record Comparison(String attribute, Operator operator, Optional<String> value) {
    }

    /** The value is not an expression this reader accepts; {@code position} is the 0-based character index. */
    static final class SyntaxException extends Exception {
        private final int position;

        SyntaxException(String message, int position) {
            super(message, null, false, false);
            this.position = position;
        }

        int position() {
            return position;
        }
    }

    private static final List<String> RESERVED = List.of("and", "or", "not", "true", "false", "null");

    private final String text;
    private int pos;
    private int depth;
    private final List<Comparison> comparisons = new ArrayList<>();

    private OktaFilter(String text) {
        this.text = text;
    }

    /** Every comparison of the expression, in order; throws when the whole text is not one expression. */
    static List<Comparison> comparisons(String expression) throws SyntaxException {
        if (expression.length() > MAX_CHARS) {
            throw new SyntaxException("longer than " + MAX_CHARS + " characters", MAX_CHARS);
        }
        OktaFilter parser = new OktaFilter(expression);
        parser.or();
        parser.skipSpace();
        if (parser.pos < expression.length()) throw parser.error("expected 'and', 'or' or the end");
        return List.copyOf(parser.comparisons);
    }

    /**
     * Every attribute a sort value names, in order: Okta's single {@code profile.lastName}, and the lists
     * other APIs take ({@code -created,title}, {@code name desc}). Spaces around a key are allowed; an
     * empty key is not. Throws when the whole text is not such a list.
     */
    static List<String> sortAttributes(String value) throws SyntaxException {
        if (value.length() > MAX_CHARS) {
            throw new SyntaxException("longer than " + MAX_CHARS + " characters", MAX_CHARS);
        }
        OktaFilter parser = new OktaFilter(value);
        List<String> attributes = new ArrayList<>();
        while (true) {
            parser.skipSpace();
            if (parser.at('+') || parser.at('-')) parser.pos++;
            attributes.add(parser.attributePath());
            if (!parser.keyword("asc")) parser.keyword("desc");
            parser.skipSpace();
            if (parser.pos == value.length()) return List.copyOf(attributes);
            if (!parser.at(',')) throw parser.error("expected ',', 'asc', 'desc' or the end");
            parser.pos++;
        }
    }

    private void or() throws SyntaxException {
        and();
        while (keyword("or")) and();
    }

    private void and() throws SyntaxException {
        unary();
        while (keyword("and")) unary();
    }

    private void unary() throws SyntaxException {
        skipSpace();
        if (keyword("not")) {
            skipSpace();
            if (!at('(')) throw error("expected '(' after 'not'");
            group();
        } else if (at('(')) {
            group();
        } else {
            comparison();
        }
    }

    private void group() throws SyntaxException {
        if (++depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " parentheses");
        pos++; // '('
        or();
        skipSpace();
        if (!at(')')) throw error("expected ')'");
        pos++;
        depth--;
    }

    private void comparison() throws SyntaxException {
        int start = pos;
        String attribute = attributePath();
        if (RESERVED.contains(attribute.toLowerCase(Locale.ROOT))) {
            pos = start;
            throw error("expected an attribute, got '" + attribute + "'");
        }
        requireSpace("after the attribute");
        int opStart = pos;
        String word = word();
        Operator op = Operator.of(word).orElseThrow(() -> {
            pos = opStart;
            return error("expected an operator (eq ne co sw ew pr gt ge lt le), got '" + word + "'");
        });
        if (op == Operator.PR) {
            comparisons.add(new Comparison(attribute, op, Optional.empty()));
            return;
        }
        requireSpace("after '" + op.text() + "'");
        comparisons.add(new Comparison(attribute, op, Optional.of(value())));
    }

    private String attributePath() throws SyntaxException {
        int start = pos;
        name();
        while (at('.')) {
            pos++;
            name();
        }
        return text.substring(start, pos);
    }

    private void name() throws SyntaxException {
        if (pos >= text.length() || !isNameStart(text.charAt(pos))) throw error("expected an attribute name");
        pos++;
        while (pos < text.length() && (isNameStart(text.charAt(pos)) || isDigit(text.charAt(pos)) || text.charAt(pos) == '-')) {
            pos++;
        }
    }

    /** Letters only: operators and keywords. */
    private String word() {
        int start = pos;
        while (pos < text.length() && isLetter(text.charAt(pos))) pos++;
        return text.substring(start, pos);
    }

    private String value() throws SyntaxException {
        if (pos >= text.length()) throw error("expected a value");
        char c = text.charAt(pos);
        if (c == '"') return string();
        if (c == '-' || isDigit(c)) return number();
        int start = pos;
        String word = word().toLowerCase(Locale.ROOT);
        if (word.equals("true") || word.equals("false") || word.equals("null")) {
            if (pos < text.length() && !isSpace(text.charAt(pos)) && text.charAt(pos) != ')') {
                pos = start;
                throw error("expected a value: a \"string\", a number, true, false or null");
            }
            return word;
        }
        pos = start;
        throw error("expected a value: a \"string\", a number, true, false or null");
    }

    /** A JSON string (RFC 8259 section 7): backslash escapes, no raw control characters. */
    private String string() throws SyntaxException {
        StringBuilder out = new StringBuilder();
        pos++; // opening quote
        while (true) {
            if (pos >= text.length()) throw error("unterminated string");
            char c = text.charAt(pos++);
            if (c == '"') return out.toString();
            if (c < 0x20) {
                pos--;
                throw error("control character in a string");
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= text.length()) throw error("unterminated string");
            char e = text.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) throw error("expected four hex digits after \\u");
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(text.charAt(pos), 16);
                        if (d < 0) throw error("expected four hex digits after \\u");
                        code = code * 16 + d;
                        pos++;
                    }
                    out.append((char) code);
                }
                default -> {
                    pos -= 2;
                    throw error("unknown escape \\" + e);
                }
            }
        }
    }

    /** A JSON number: {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?}. */
    private String number() throws SyntaxException {
        int start = pos;
        if (at('-')) pos++;
        if (at('0')) pos++;
        else if (!digits()) throw error("expected a digit");
        if (at('.')) {
            pos++;
            if (!digits()) throw error("expected a digit after '.'");
        }
        if (at('e') || at('E')) {
            pos++;
            if (at('+') || at('-')) pos++;
            if (!digits()) throw error("expected a digit in the exponent");
        }
        if (pos < text.length() && !isSpace(text.charAt(pos)) && text.charAt(pos) != ')') throw error("expected the end of the number");
        return text.substring(start, pos);
    }

    private boolean digits() {
        int start = pos;
        while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
        return pos > start;
    }

    /** Consumes {@code word} (any case) when it comes next as a whole word, with the spaces before it. */
    private boolean keyword(String word) {
        int save = pos;
        skipSpace();
        int end = pos + word.length();
        if (end <= text.length() && text.regionMatches(true, pos, word, 0, word.length())
                && (end == text.length() || !isNameStart(text.charAt(end)) && !isDigit(text.charAt(end)) && text.charAt(end) != '.')) {
            pos = end;
            return true;
        }
        pos = save;
        return false;
    }

    private void requireSpace(String where) throws SyntaxException {
        if (pos >= text.length() || !isSpace(text.charAt(pos))) throw error("expected a space " + where);
        skipSpace();
    }

    private void skipSpace() {
        while (pos < text.length() && isSpace(text.charAt(pos))) pos++;
    }

    private boolean at(char c) {
        return pos < text.length() && text.charAt(pos) == c;
    }

    private SyntaxException error(String message) {
        return new SyntaxException(message + " at character " + (pos + 1), pos);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    private static boolean isLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isNameStart(char c) {
        return isLetter(c) || c == '_';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
