package dev.portcullis.core;

/**
 * Text from outside (a header, an identity provider's error, a request's address) made safe for where it
 * goes: a message or a log line ({@link #printable}), an HTML page ({@link #html}).
 */
public final class Text {
    private Text() {
    }

    /** At most {@code maxChars} (then an ellipsis), every control character a {@code ?}. */
    public static String printable(String text, int maxChars) {
        String cut = text.length() > maxChars ? text.substring(0, maxChars) + "…" : text;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    /** Escaped for HTML text and attribute values (quoted with either quote). */
    public static String html(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
