package dev.portcullis.masking;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The detectors themselves. Each finds spans in a string and reports them as {@code [start, end)}.
 *
 * <p>Every pattern starts with a look-behind boundary and uses bounded or possessive repetition, so a
 * match attempt costs a bounded number of steps per starting position: no input can make them
 * backtrack for long. Checksums (Luhn, mod-97) and range rules run after the pattern, in Java.
 */
final class ContentDetectors {
    private ContentDetectors() {}

    /** Receives one found span. */
    interface SpanSink {
        void span(int start, int end, Detector kind);
    }

    /**
     * Cheap facts about a string, gathered in one pass and packed in an int so that the common path
     * allocates nothing: digit count (capped at 13), whether it holds '@', whether it holds '+'.
     */
    static int hints(String s) {
        int digits = 0;
        int flags = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                if (digits < 13) digits++;
            } else if (c == '@') {
                flags |= HAS_AT;
            } else if (c == '+') {
                flags |= HAS_PLUS;
            }
        }
        return flags | digits;
    }

    private static final int HAS_AT = 1 << 8, HAS_PLUS = 1 << 9;

    private static int digits(int hints) {
        return hints & 0xFF;
    }

    /** Whether {@code d} could possibly match; false lets the caller skip the regex entirely. */
    static boolean worthScanning(Detector d, String s, int h) {
        return switch (d) {
            case EMAIL -> (h & HAS_AT) != 0;
            case PHONE -> digits(h) >= 10 || (digits(h) >= 8 && (h & HAS_PLUS) != 0);
            case CARD -> digits(h) >= 13;
            case SSN -> digits(h) >= 9 && s.indexOf('-') >= 0;
            case IBAN -> digits(h) >= 2 && s.length() >= 15;
            case JWT -> s.contains("eyJ");
            case API_KEY -> mayHoldApiKey(s);
            case PRIVATE_KEY -> s.contains("PRIVATE KEY-----");
        };
    }

    /** Reports every match of {@code d}; call only when {@link #worthScanning} said yes. */
    static void find(Detector d, String s, int h, SpanSink sink) {
        switch (d) {
            case EMAIL -> emails(s, sink);
            case PHONE -> {
                if ((h & HAS_PLUS) != 0) regex(PHONE_INTL, s, Detector.PHONE, sink);
                if (digits(h) >= 10) regex(PHONE_NANP, s, Detector.PHONE, sink);
            }
            case CARD -> cards(s, sink);
            case SSN -> ssns(s, sink);
            case IBAN -> ibans(s, sink);
            case JWT -> regex(JWT, s, Detector.JWT, sink);
            case API_KEY -> regex(API_KEY, s, Detector.API_KEY, sink);
            case PRIVATE_KEY -> regex(PRIVATE_KEY, s, Detector.PRIVATE_KEY, sink);
        }
    }

    // ---- email: scanned by hand around each '@' (a regex would retry the local part at every offset)

    private static final int MAX_LOCAL = 64, MAX_DOMAIN = 253;

    private static void emails(String s, SpanSink sink) {
        int n = s.length();
        for (int at = s.indexOf('@'); at >= 0; at = s.indexOf('@', at + 1)) {
            int start = at;
            while (start > 0 && at - start < MAX_LOCAL && isLocalChar(s.charAt(start - 1))) start--;
            while (start < at && s.charAt(start) == '.') start++;
            if (start == at) continue;
            int end = at + 1;
            while (end < n && end - at - 1 < MAX_DOMAIN && isDomainChar(s.charAt(end))) end++;
            while (end > at + 1 && (s.charAt(end - 1) == '.' || s.charAt(end - 1) == '-')) end--;
            if (validDomain(s, at + 1, end)) {
                sink.span(start, end, Detector.EMAIL);
                at = end - 1;
            }
        }
    }

    private static boolean isLocalChar(char c) {
        return Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
                || c == '\'';
    }

    private static boolean isDomainChar(char c) {
        return Character.isLetterOrDigit(c) || c == '.' || c == '-';
    }

    /** At least two labels, none empty or dash-edged, and a top-level label of 2+ letters. */
    private static boolean validDomain(String s, int from, int to) {
        int labels = 0, labelStart = from;
        for (int i = from; i <= to; i++) {
            if (i == to || s.charAt(i) == '.') {
                if (i == labelStart || s.charAt(labelStart) == '-' || s.charAt(i - 1) == '-') return false;
                labels++;
                if (i == to) {
                    if (labels < 2 || i - labelStart < 2) return false;
                    for (int j = labelStart; j < i; j++) if (!Character.isLetter(s.charAt(j))) return false;
                }
                labelStart = i + 1;
            }
        }
        return labels >= 2;
    }

    // ---- phone

    /** '+' then 8–15 digits; separators are spaces, dashes, dots and parentheses (at most two in a row). */
    private static final Pattern PHONE_INTL =
            Pattern.compile("(?<![\\w+])\\+\\(?\\d(?:[ .()\\-]{0,2}\\d){7,14}(?![\\w])");
    /** North-American national formats, same separator throughout; area and exchange start 2–9. */
    private static final Pattern PHONE_NANP = Pattern.compile(
            "(?<![\\w.+\\-/:])(?:1[ .\\-])?(?:\\(([2-9]\\d{2})\\) ?([2-9]\\d{2})-|([2-9]\\d{2})([.\\- ])([2-9]\\d{2})\\4)\\d{4}(?![\\w\\-]|\\.\\d)");

    // ---- card

    /** 13–19 digits in groups separated by single spaces or dashes, first digit 2–6 (the card networks; not epoch millis). */
    private static final Pattern CARD_CANDIDATE =
            Pattern.compile("(?<![\\w\\-.])[2-6](?:[ \\-]?\\d){12,18}(?![\\w]|[\\-.]\\d)");

    private static void cards(String s, SpanSink sink) {
        Matcher m = CARD_CANDIDATE.matcher(s);
        while (m.find()) {
            if (plausibleCardGrouping(s, m.start(), m.end()) && luhn(s, m.start(), m.end())) {
                sink.span(m.start(), m.end(), Detector.CARD);
            }
        }
    }

    /** Unseparated, or groups of 3–6 digits with one kind of separator (4-4-4-4, 4-6-5, 4-4-4-4-3). */
    private static boolean plausibleCardGrouping(String s, int from, int to) {
        char sep = 0;
        int group = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                group++;
                continue;
            }
            if (sep != 0 && c != sep) return false;
            sep = c;
            if (group < 3 || group > 6) return false;
            group = 0;
        }
        return sep == 0 || (group >= 3 && group <= 6);
    }

    static boolean luhn(CharSequence s, int from, int to) {
        int sum = 0;
        boolean dbl = false, nonZero = false;
        for (int i = to - 1; i >= from; i--) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') continue;
            int d = c - '0';
            nonZero |= d != 0;
            if (dbl) {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
            dbl = !dbl;
        }
        return nonZero && sum % 10 == 0;
    }

    // ---- SSN

    private static final Pattern SSN = Pattern.compile("(?<![\\w\\-.])(\\d{3})-(\\d{2})-(\\d{4})(?![\\w\\-]|\\.\\d)");

    private static void ssns(String s, SpanSink sink) {
        Matcher m = SSN.matcher(s);
        while (m.find()) {
            String area = m.group(1);
            boolean valid = !area.equals("000") && !area.equals("666") && area.charAt(0) != '9'
                    && !m.group(2).equals("00") && !m.group(3).equals("0000");
            if (valid) sink.span(m.start(), m.end(), Detector.SSN);
        }
    }

    // ---- IBAN

    /** Country, check digits, then either 11–30 compact characters or groups of four (print format). */
    private static final Pattern IBAN = Pattern.compile(
            "(?<![\\w])[A-Z]{2}\\d{2}(?:[A-Z0-9]{11,30}+|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![\\w])");

    private static void ibans(String s, SpanSink sink) {
        Matcher m = IBAN.matcher(s);
        while (m.find()) {
            if (mod97(s, m.start(), m.end())) sink.span(m.start(), m.end(), Detector.IBAN);
        }
    }

    static boolean mod97(CharSequence s, int from, int to) {
        StringBuilder compact = new StringBuilder(34);
        for (int i = from; i < to; i++) if (s.charAt(i) != ' ') compact.append(s.charAt(i));
        if (compact.length() < 15 || compact.length() > 34) return false;
        String rearranged = compact.substring(4) + compact.substring(0, 4);
        int rem = 0;
        for (int i = 0; i < rearranged.length(); i++) {
            int v = Character.digit(rearranged.charAt(i), 36);
            if (v < 0) return false;
            rem = v < 10 ? (rem * 10 + v) % 97 : (rem * 100 + v) % 97;
        }
        return rem == 1;
    }

    // ---- JWT and API keys

    private static final Pattern JWT = Pattern.compile(
            "(?<![\\w\\-.])eyJ[A-Za-z0-9_\\-]{4,}+\\.[A-Za-z0-9_\\-]{2,}+\\.[A-Za-z0-9_\\-]*+(?![\\w\\-.])");

    private static final String[] API_KEY_PREFIXES =
            {"sk-", "sk_", "rk_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "AKIA", "ASIA", "xox", "glpat-"};

    private static final Pattern API_KEY = Pattern.compile("(?<![\\w\\-])(?:"
            + "sk-(?:proj-|ant-[a-z0-9]{2,8}-)?[A-Za-z0-9_\\-]{20,}+"
            + "|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}+"
            + "|gh[pousr]_[A-Za-z0-9]{36,}+"
            + "|github_pat_[A-Za-z0-9_]{22,}+"
            + "|A[KS]IA[0-9A-Z]{16}"
            + "|xox[abposr]-[A-Za-z0-9\\-]{10,}+"
            + "|glpat-[A-Za-z0-9_\\-]{20,}+"
            + ")(?![\\w\\-])");

    private static boolean mayHoldApiKey(String s) {
        for (String p : API_KEY_PREFIXES) if (s.contains(p)) return true;
        return false;
    }

    // ---- PEM private keys

    /**
     * Header, body, footer. The body is base64, whitespace (or an escaped {@code \n}) and the headers of
     * an encrypted key ({@code Proc-Type: 4,ENCRYPTED}); it is consumed possessively and stops at the
     * first {@code "--"}. Without a footer (a key cut short) the span ends where the body does: what
     * there is of the key is still found.
     */
    private static final Pattern PRIVATE_KEY = Pattern.compile(
            "-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----"
                    + "(?:[A-Za-z0-9+/=:,.\\s\\\\]|-(?!-))*+"
                    + "(?:-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----)?");

    private static void regex(Pattern p, String s, Detector kind, SpanSink sink) {
        Matcher m = p.matcher(s);
        while (m.find()) sink.span(m.start(), m.end(), kind);
    }

}
