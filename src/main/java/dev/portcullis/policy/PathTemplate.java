package dev.portcullis.policy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A compiled path template such as {@code /api/v1/users/{id}/roles} or {@code /api/v1/groups/**}.
 *
 * <ul>
 *   <li>a literal segment matches exactly the same segment (template literals are percent-decoded
 *       once, at compile time; request paths arrive decoded);</li>
 *   <li>{@code {name}} matches exactly one non-empty segment;</li>
 *   <li>a trailing {@code /**} matches zero or more further segments.</li>
 * </ul>
 * A request path with an empty segment inside a variable or {@code **} part, or with a {@code .}
 * or {@code ..} segment anywhere, matches no template: upstreams may normalise such paths to
 * something else than what the rule author saw, so they fail closed.
 * Matching walks the path in place and allocates nothing.
 */
public final class PathTemplate {

    private static final String ANY = null; // marks a {variable} segment in {@link #segments}

    private final String source;
    private final String[] segments; // literal text, or ANY for a variable
    private final boolean restWildcard;

    private PathTemplate(String source, String[] segments, boolean restWildcard) {
        this.source = source;
        this.segments = segments;
        this.restWildcard = restWildcard;
    }

    /**
     * Compiles a template.
     *
     * @throws IllegalArgumentException with a message saying what is wrong, when not well formed
     */
    public static PathTemplate compile(String template) {
        if (template.isEmpty() || template.charAt(0) != '/') {
            throw new IllegalArgumentException("a path template starts with '/'");
        }
        if (template.indexOf('?') >= 0 || template.indexOf('#') >= 0) {
            throw new IllegalArgumentException("a path template has no query or fragment; use 'query' conditions");
        }
        if (template.equals("/")) return new PathTemplate(template, new String[] {""}, false);
        String[] raw = template.substring(1).split("/", -1);
        boolean rest = raw[raw.length - 1].equals("**");
        int count = rest ? raw.length - 1 : raw.length;
        List<String> segments = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String s = raw[i];
            if (s.isEmpty()) throw new IllegalArgumentException("empty segment (a '//' or a trailing '/')");
            if (s.contains("**")) throw new IllegalArgumentException("'**' is only allowed as the last segment, as '/**'");
            if (s.contains("*")) throw new IllegalArgumentException("'*' is not a wildcard here; use {name} for one segment or a trailing /**");
            if (s.startsWith("{") && s.endsWith("}")) {
                String name = s.substring(1, s.length() - 1);
                if (!isIdentifier(name)) {
                    throw new IllegalArgumentException("'" + s + "' is not a variable: {name} with letters, digits, '_' or '-'");
                }
                segments.add(ANY);
            } else if (s.indexOf('{') >= 0 || s.indexOf('}') >= 0) {
                throw new IllegalArgumentException("'" + s + "': a {variable} must be a whole segment");
            } else {
                String literal = percentDecode(s);
                if (literal.equals(".") || literal.equals("..") || literal.indexOf('/') >= 0) {
                    throw new IllegalArgumentException("'" + s + "' is not allowed as a literal segment");
                }
                segments.add(literal);
            }
        }
        return new PathTemplate(template, segments.toArray(String[]::new), rest);
    }

    /** Whether the decoded request path (no query) matches. */
    public boolean matches(String path) {
        int length = path.length();
        if (length == 0 || path.charAt(0) != '/') return false;
        int pos = 1; // start of the current segment
        for (String expected : segments) {
            if (pos > length) return false;
            int end = path.indexOf('/', pos);
            if (end < 0) end = length;
            int segLength = end - pos;
            if (expected == ANY) {
                if (segLength == 0 || isDotSegment(path, pos, segLength)) return false;
            } else if (segLength != expected.length() || !path.regionMatches(pos, expected, 0, segLength)) {
                return false;
            }
            pos = end + 1;
        }
        if (restWildcard) {
            // pos > length: path ended exactly where the template did; otherwise every rest segment is checked
            while (pos <= length) {
                int end = path.indexOf('/', pos);
                if (end < 0) end = length;
                int segLength = end - pos;
                if (segLength == 0 || isDotSegment(path, pos, segLength)) return false;
                pos = end + 1;
            }
            return true;
        }
        return pos == length + 1;
    }

    @Override
    public String toString() {
        return source;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PathTemplate other && other.source.equals(source);
    }

    @Override
    public int hashCode() {
        return source.hashCode();
    }

    private static boolean isDotSegment(String path, int pos, int segLength) {
        return (segLength == 1 && path.charAt(pos) == '.')
                || (segLength == 2 && path.charAt(pos) == '.' && path.charAt(pos + 1) == '.');
    }

    private static boolean isIdentifier(String name) {
        if (name.isEmpty()) return false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '_' || c == '-')) return false;
        }
        return true;
    }

    private static String percentDecode(String s) {
        if (s.indexOf('%') < 0) return s;
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            if (c == '%') {
                if (i + 2 >= s.length() || Character.digit(s.charAt(i + 1), 16) < 0 || Character.digit(s.charAt(i + 2), 16) < 0) {
                    throw new IllegalArgumentException("'" + s + "' has a malformed percent escape");
                }
                out.write(Character.digit(s.charAt(i + 1), 16) * 16 + Character.digit(s.charAt(i + 2), 16));
                i += 3;
            } else {
                out.writeBytes(Character.toString(c).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
