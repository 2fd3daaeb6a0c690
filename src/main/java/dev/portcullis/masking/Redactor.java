package dev.portcullis.masking;

import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the recording and approvers keep of an agent's <em>request</em>: the request as sent, minus
 * secrets. An agent's request is its own action, so who it names (a login, an email) stays readable;
 * only values that would hand someone a credential are replaced, by {@value #REDACTED}:
 * <ul>
 *   <li>JSON fields named by {@link #DEFAULT_FIELDS} and by the connection's {@code redact} list
 *       (dotted suffixes, as mask fields); the whole value goes, objects and arrays included;</li>
 *   <li>JWTs, API keys and PEM private keys anywhere in a string ({@link #SECRET_DETECTORS});</li>
 *   <li>in SQL, the literal after {@code PASSWORD} (CREATE/ALTER ROLE or USER, user mappings'
 *       {@code OPTIONS (password '...')}, {@code SET password = '...'}), and the fields above inside
 *       JSON string literals.</li>
 * </ul>
 * Responses are not this class's business: they are recorded masked, as the agent saw them.
 * Immutable and thread-safe.
 */
public final class Redactor {
    /** What replaces a secret. */
    public static final String REDACTED = "[redacted]";

    /** Always redacted, whatever the connection says: passwords, credentials, tokens and keys. */
    public static final List<String> DEFAULT_FIELDS = List.of(
            "password", "passwd", "secret", "client_secret", "clientSecret", "secret_key", "secretKey", "sharedSecret",
            "token", "access_token", "accessToken", "refresh_token", "refreshToken", "id_token", "idToken",
            "sessionToken", "activationToken", "stateToken", "passCode",
            "api_key", "apiKey", "private_key", "privateKey",
            "recovery_question.answer");

    /** Content detectors for secrets only: emails, phones, cards in a request are the agent's own action. */
    public static final Set<Detector> SECRET_DETECTORS = Set.copyOf(EnumSet.of(Detector.JWT, Detector.API_KEY, Detector.PRIVATE_KEY));

    private static final JsonMasker JSON = new JsonMasker();
    private static final TextMasker TEXT = TextMasker.replacingWith(SECRET_DETECTORS, REDACTED);

    /** The defaults alone, for a connection without a {@code redact} list. */
    public static final Redactor DEFAULTS = new Redactor(List.of());

    private final List<String> fields;
    private final JsonMasker.Compiled plan;

    private Redactor(List<String> fields) {
        this.fields = List.copyOf(fields);
        Set<String> all = new LinkedHashSet<>(DEFAULT_FIELDS);
        all.addAll(this.fields);
        this.plan = new JsonMasker.Compiled(new FieldSelectors(List.copyOf(all)), TEXT, REDACTED);
    }

    /**
     * The defaults plus {@code fields}.
     *
     * @throws IllegalArgumentException a selector names no field (e.g. {@code "$"})
     */
    public static Redactor withFields(List<String> fields) {
        for (String f : fields) FieldSelectors.parse(f);
        return fields.isEmpty() ? DEFAULTS : new Redactor(fields);
    }

    /** The selectors configured beyond {@link #DEFAULT_FIELDS}. */
    public List<String> fields() {
        return fields;
    }

    /** A JSON document as sent, secrets redacted; text that is not JSON gets {@link #text(String)}. */
    public String json(String json) {
        try {
            return JSON.maskJson(json, plan);
        } catch (MaskingException e) {
            return text(json);
        }
    }

    /** Free text with every JWT, API key and private key redacted; the same instance when there is none. */
    public String text(String text) {
        return TEXT.mask(text);
    }

    /**
     * One value that may hold a JSON document (a bind parameter): a JSON object or array gets
     * {@link #json(String)}, anything else {@link #text(String)}. Null stays null (SQL NULL).
     */
    public String value(String value) {
        if (value == null) return null;
        return looksLikeJson(value) ? json(value) : text(value);
    }

    /** SQL text as sent, minus password literals, secret fields of JSON literals, and detected secrets. */
    public String sql(String sql) {
        return text(SqlLiterals.redact(sql, this, 0));
    }

    private static boolean looksLikeJson(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (!Character.isWhitespace(c)) return c == '{' || c == '[';
        }
        return false;
    }

    /**
     * Walks SQL text as PostgreSQL's lexer does, far enough to tell string literals from comments,
     * quoted identifiers and keywords. Standard conforming strings assumed (the default since 9.1).
     */
    static final class SqlLiterals {
        /**
         * Literals inside literals are walked this deep, so that nesting cannot make the walk quadratic;
         * deeper ones get the secret detectors only.
         */
        private static final int MAX_DEPTH = 3;

        private SqlLiterals() {}

        static String redact(String sql, Redactor redactor, int depth) {
            StringBuilder out = null;
            int copied = 0;
            // 0: nothing; 1: just read PASSWORD; 2: PASSWORD then '='
            int password = 0;
            int n = sql.length();
            int i = 0;
            while (i < n) {
                char c = sql.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                    int eol = sql.indexOf('\n', i);
                    i = eol < 0 ? n : eol + 1;
                } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                    i = blockCommentEnd(sql, i);
                } else if (c == '"') {
                    int close = quotedEnd(sql, i + 1, '"', false);
                    i = close < 0 ? n : close;
                    password = 0;
                } else if (c == '=' && password == 1) {
                    password = 2;
                    i++;
                } else if (literalStart(sql, i) >= 0) {
                    int open = literalStart(sql, i); // the opening quote, or the dollar tag's first '$'
                    boolean escapes = open > i && Character.toUpperCase(sql.charAt(i)) == 'E';
                    int contentStart;
                    int contentEnd;
                    int end;
                    if (sql.charAt(open) == '$') {
                        int tagEnd = sql.indexOf('$', open + 1) + 1;
                        String tag = sql.substring(open, tagEnd);
                        contentStart = tagEnd;
                        int close = sql.indexOf(tag, contentStart);
                        contentEnd = close < 0 ? n : close;
                        end = close < 0 ? n : close + tag.length();
                    } else {
                        contentStart = open + 1;
                        int close = quotedEnd(sql, contentStart, '\'', escapes);
                        contentEnd = close < 0 ? n : close - 1;
                        end = close < 0 ? n : close;
                    }
                    String replacement = null;
                    if (password > 0) {
                        replacement = REDACTED;
                    } else if (!escapes) {
                        // A literal may hold JSON, or SQL itself (a DO or function body, EXECUTE '...').
                        boolean dollar = sql.charAt(open) == '$';
                        String raw = sql.substring(contentStart, contentEnd);
                        String content = dollar ? raw : raw.replace("''", "'");
                        String redacted = looksLikeJson(content) ? redactor.json(content)
                                : depth < MAX_DEPTH ? redact(content, redactor, depth + 1) : content;
                        // json() rewrites whitespace: keep the literal as sent unless something was redacted
                        if (!redacted.equals(content) && redacted.contains(REDACTED)) {
                            replacement = dollar ? redacted : redacted.replace("'", "''");
                        }
                    }
                    if (replacement != null) {
                        if (out == null) out = new StringBuilder(sql.length());
                        out.append(sql, copied, contentStart).append(replacement);
                        copied = contentEnd;
                    }
                    // adjacent literals continue one string: a password may go on in the next one
                    i = end;
                } else if (isIdentifierStart(c)) {
                    int start = i;
                    i++;
                    while (i < n && isIdentifierPart(sql.charAt(i))) i++;
                    password = i - start == 8 && sql.regionMatches(true, start, "password", 0, 8) ? 1 : 0;
                } else {
                    password = 0;
                    i++;
                }
            }
            if (out == null) return sql;
            return out.append(sql, copied, n).toString();
        }

        /**
         * Where a string literal starts at token start {@code i}: the index of its quote or of its dollar
         * tag's first {@code $}; -1 when none does. Prefixes E, N, B, X and U&amp; count.
         */
        private static int literalStart(String sql, int i) {
            int n = sql.length();
            char c = sql.charAt(i);
            if (c == '\'') return i;
            if (c == '$') {
                int j = i + 1;
                if (j < n && Character.isDigit(sql.charAt(j))) return -1; // $1: a parameter
                while (j < n && sql.charAt(j) != '$') {
                    char t = sql.charAt(j);
                    if (!(j == i + 1 ? isIdentifierStart(t) : isIdentifierPart(t))) return -1;
                    j++;
                }
                return j < n ? i : -1;
            }
            char u = Character.toUpperCase(c);
            if ((u == 'E' || u == 'N' || u == 'B' || u == 'X') && i + 1 < n && sql.charAt(i + 1) == '\'') return i + 1;
            if (u == 'U' && i + 2 < n && sql.charAt(i + 1) == '&' && sql.charAt(i + 2) == '\'') return i + 2;
            return -1;
        }

        /**
         * Index just past the closing {@code quote} (doubled quotes, and with {@code escapes} backslashes,
         * escape); -1 when the text ends first.
         */
        private static int quotedEnd(String sql, int from, char quote, boolean escapes) {
            int n = sql.length();
            for (int j = from; j < n; j++) {
                char c = sql.charAt(j);
                if (escapes && c == '\\') {
                    j++;
                } else if (c == quote) {
                    if (j + 1 < n && sql.charAt(j + 1) == quote) j++;
                    else return j + 1;
                }
            }
            return -1;
        }

        /** Block comments nest in PostgreSQL. */
        private static int blockCommentEnd(String sql, int from) {
            int depth = 0;
            int n = sql.length();
            for (int j = from; j < n - 1; j++) {
                if (sql.charAt(j) == '/' && sql.charAt(j + 1) == '*') {
                    depth++;
                    j++;
                } else if (sql.charAt(j) == '*' && sql.charAt(j + 1) == '/') {
                    depth--;
                    j++;
                    if (depth == 0) return j + 1;
                }
            }
            return n;
        }

        private static boolean isIdentifierStart(char c) {
            return Character.isLetter(c) || c == '_' || c >= 0x80;
        }

        private static boolean isIdentifierPart(char c) {
            return isIdentifierStart(c) || Character.isDigit(c) || c == '$';
        }
    }
}
