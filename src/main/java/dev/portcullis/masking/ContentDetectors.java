package dev.portcullis.masking;

import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The detectors themselves. Each finds spans in a string and reports them as {@code [start, end)}.
 *
 * <p>Every pattern has a boundary on each side (a look-around, or for phones an edge check in Java)
 * and uses bounded or possessive repetition, so a match attempt costs a bounded number of steps per
 * starting position: no input can make them backtrack for long. Emails are scanned by hand in one
 * pass. Checksums (Luhn, mod-97) and range rules run after the pattern, in Java.
 */
final class ContentDetectors {
    private ContentDetectors() {}

    /** Receives the found spans, each detector's in increasing order. */
    interface SpanSink {
        void span(int start, int end, Detector kind);

        /** Whether a span reported so far covers {@code index}: the end of a value found is an edge for the next. */
        boolean covers(int index);
    }

    /**
     * Cheap facts about a string, gathered in one pass and packed in an int so that the common path
     * allocates nothing: digit count (capped at 13), whether it holds '@', whether it holds '+', whether it
     * holds '(' or digit groups shaped like a North-American number (3+, 3 and 4+ digits joined by one and
     * the same {@code . -} or space: not a date or a time), whether it
     * holds 13 digits in a row with at most one space or dash between two of them (what every card
     * number is), and whether it holds two capital letters followed by two digits (how every IBAN
     * starts). The last two are necessary for a match, so hex digests, UUIDs and timestamps skip the
     * card and IBAN patterns.
     */
    static int hints(String s) {
        int digits = 0;
        int flags = 0;
        int cardRun = 0;           // digits in the current run of digits and single separators
        boolean afterSeparator = false;
        int uppers = 0;            // capital letters just before, for an IBAN's start
        int ibanDigits = 0;        // digits just after two capitals
        // North-American shape: digit groups of >=3, 3 and >=4, joined by one and the same '.', '-' or ' '
        int group = 0, pendingLen = -1, aLen = -1, bLen = -1;
        char pendingSep = 0, aSep = 0, bSep = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                if (group == 0) { // a group starts: chained to the one before it if one character apart
                    if (pendingLen >= 0) {
                        aLen = bLen;
                        aSep = bSep;
                        bLen = pendingLen;
                        bSep = pendingSep;
                    } else {
                        aLen = bLen = -1;
                    }
                    pendingLen = -1;
                }
                if (++group >= 4 && aLen >= 3 && bLen == 3 && aSep == bSep && (aSep == '.' || aSep == '-' || aSep == ' ')) {
                    flags |= HAS_NANP_SHAPE;
                }
                if (digits < 13) digits++;
                if (++cardRun >= 13) flags |= HAS_CARD_RUN;
                afterSeparator = false;
                if (uppers >= 2 || ibanDigits == 1) {
                    if (++ibanDigits == 2) flags |= HAS_IBAN_START;
                    uppers = 0;
                } else {
                    ibanDigits = 0;
                }
                continue;
            }
            if (group > 0) {
                pendingLen = group;
                pendingSep = c;
            } else {
                pendingLen = -1; // two non-digits in a row: the chain of groups is broken
            }
            group = 0;
            ibanDigits = 0;
            uppers = c >= 'A' && c <= 'Z' ? uppers + 1 : 0;
            if (c == ' ' || c == '-') {
                if (afterSeparator) cardRun = 0;
                afterSeparator = true;
            } else {
                cardRun = 0;
                afterSeparator = false;
            }
            if (c == '@') {
                flags |= HAS_AT;
            } else if (c == '+') {
                flags |= HAS_PLUS;
            } else if (c == '(') {
                flags |= HAS_OPEN_PAREN;
            }
        }
        return flags | digits;
    }

    private static final int HAS_AT = 1 << 8, HAS_PLUS = 1 << 9, HAS_NANP_SHAPE = 1 << 10, HAS_CARD_RUN = 1 << 11,
            HAS_IBAN_START = 1 << 12, HAS_OPEN_PAREN = 1 << 13;

    private static int digits(int hints) {
        return hints & 0xFF;
    }

    /** Whether {@code d} could possibly match; false lets the caller skip the regex entirely. */
    static boolean worthScanning(Detector d, String s, int h) {
        return switch (d) {
            case EMAIL -> (h & HAS_AT) != 0;
            // a national number is written with separators, an international one starts with '+'
            case PHONE -> (digits(h) >= 10 && (h & (HAS_NANP_SHAPE | HAS_OPEN_PAREN)) != 0) || (digits(h) >= 8 && (h & HAS_PLUS) != 0);
            case CARD -> (h & HAS_CARD_RUN) != 0;
            case SSN -> digits(h) >= 9 && s.indexOf('-') >= 0;
            case IBAN -> (h & HAS_IBAN_START) != 0 && s.length() >= 15;
            case JWT -> s.contains("eyJ");
            case API_KEY -> mayHoldApiKey(s);
            case PRIVATE_KEY -> s.contains("PRIVATE KEY-----");
        };
    }

    /** Reports every match of {@code d}; call only when {@link #worthScanning} said yes. */
    static void find(Detector d, String s, int h, SpanSink sink) {
        switch (d) {
            case EMAIL -> emails(s, sink);
            case PHONE -> phones(s, sink);
            case CARD -> cards(s, sink);
            case SSN -> ssns(s, sink);
            case IBAN -> ibans(s, sink);
            case JWT -> regex(JWT, s, Detector.JWT, sink);
            case API_KEY -> regex(API_KEY, s, Detector.API_KEY, sink);
            case PRIVATE_KEY -> regex(PRIVATE_KEY, s, Detector.PRIVATE_KEY, sink);
        }
    }

    // ---- email: runs of address characters around each '@', scanned by hand in one pass
    //
    // Values arrive packed: PostgreSQL array, row and JSON literals ({a@x.com,"b@y.com"}), or run
    // together by string_agg(email, '') and concat (a@x.comb@y.com). Literal punctuation is not an
    // address character, so it separates; run-together addresses share one run, and the whole run is
    // masked, so that no local part or domain of any of them is left beside the mask. Derived forms
    // (hex, reversed, base64, percent-encoded) are out of scope: lineage handles values derived from
    // a masked column.

    private static void emails(String s, SpanSink sink) {
        int n = s.length();
        for (int at = s.indexOf('@'); at >= 0; ) {
            int start = at;
            while (start > 0 && isAddressChar(s.charAt(start - 1))) start--;
            int end = at + 1;
            while (end < n && isAddressChar(s.charAt(end))) end++;
            if (holdsAnchor(s, start, end)) {
                if (isEscapeLetter(s, start)) start++; // the n of a \n escape before the address
                while (start < at && (s.charAt(start) == '.' || s.charAt(start) == '\'')) start++;
                while (end > at + 1 && isTrailingPunctuation(s.charAt(end - 1))) end--;
                sink.span(start, end, Detector.EMAIL);
            }
            at = end < n ? s.indexOf('@', end) : -1;
        }
    }

    /** Whether the run holds an anchor: an '@' after a local part and before a plausible domain. */
    private static boolean holdsAnchor(String s, int from, int to) {
        boolean local = false;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '@') {
                if (local && plausibleDomain(s, i + 1, to)) return true;
                local = false;
            } else if (Character.isLetterOrDigit(c)) {
                local = true;
            }
        }
        return false;
    }

    /**
     * Starts with a letter or digit and has a dot between a letter or digit and two letters
     * ({@code example.com}, also {@code example.comuser2} where the next address follows unseparated).
     * Stops at the first character a domain cannot hold, so the scans of a run never overlap.
     */
    private static boolean plausibleDomain(String s, int from, int to) {
        if (from >= to || !Character.isLetterOrDigit(s.charAt(from))) return false;
        for (int i = from + 1; i < to && isDomainChar(s.charAt(i)); i++) {
            if (s.charAt(i) == '.' && i + 2 < to && Character.isLetterOrDigit(s.charAt(i - 1))
                    && Character.isLetter(s.charAt(i + 1)) && Character.isLetter(s.charAt(i + 2))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isAddressChar(char c) {
        return Character.isLetterOrDigit(c) || c == '@' || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
                || c == '\'';
    }

    private static boolean isDomainChar(char c) {
        return Character.isLetterOrDigit(c) || c == '.' || c == '-';
    }

    private static boolean isTrailingPunctuation(char c) {
        return c == '.' || c == '-' || c == '\'';
    }

    /** The letter of a backslash escape ({@code \n}, {@code \t}: COPY text format, JSON) at {@code i}. */
    private static boolean isEscapeLetter(String s, int i) {
        if (i == 0 || "bfnrtv".indexOf(s.charAt(i)) < 0) return false;
        int backslashes = 0;
        while (i - backslashes > 0 && s.charAt(i - backslashes - 1) == '\\') backslashes++;
        return backslashes % 2 == 1;
    }

    // ---- phone

    /**
     * International: '+' then 8–15 digits; separators are spaces, dashes, dots and parentheses (at
     * most two in a row). Or North-American national formats, same separator throughout; area and
     * exchange start 2–9. Edges are checked in {@link #phones}, which knows about phones run together.
     */
    private static final Pattern PHONE = Pattern.compile("\\+\\(?\\d(?:[ .()\\-]{0,2}\\d){7,14}(?!\\d)"
            + "|(?:1[ .\\-])?(?:\\(([2-9]\\d{2})\\) ?([2-9]\\d{2})-|([2-9]\\d{2})([.\\- ])([2-9]\\d{2})\\4)\\d{4}");

    /**
     * Matches whose edges are at a boundary. Phones back to back (string_agg with no separator, or
     * one non-alphanumeric character apart) form a chain, and only the outer edges of a chain are
     * checked; each phone is reported on its own. An international number takes along the digits
     * that continue it past the 15 a single number may have (the start of the next one, run together).
     */
    private static void phones(String s, SpanSink sink) {
        Matcher m = PHONE.matcher(s);
        int n = s.length();
        int[] pending = new int[8];
        int pendingCount = 0, lastEnd = -2, from = 0;
        while (from < n && m.find(from)) {
            int start = m.start(), end = m.end();
            boolean international = s.charAt(start) == '+';
            boolean continues = start == lastEnd
                    || (start == lastEnd + 1 && !Character.isLetterOrDigit(s.charAt(lastEnd)));
            if (!continues) {
                pendingCount = 0; // a chain that never reached a boundary
                boolean edge = international ? intlLeftEdge(s, start) : nanpLeftEdge(s, start);
                if (!edge && !sink.covers(start - 1)) { // ann@x.io44+44 20 7946 0958: the address ends there
                    from = start + 1; // as a look-behind would: try the next position
                    continue;
                }
            }
            if (international) end = phoneRunEnd(s, end);
            if (pendingCount == pending.length) pending = Arrays.copyOf(pending, pendingCount * 2);
            pending[pendingCount++] = start;
            pending[pendingCount++] = end;
            lastEnd = end;
            if (international || nanpRightEdge(s, end)) {
                for (int i = 0; i < pendingCount; i += 2) sink.span(pending[i], pending[i + 1], Detector.PHONE);
                pendingCount = 0;
            }
            from = end;
        }
    }

    /** A '+' glued to a digit or another '+' is arithmetic or a version ({@code 1.2.3+20240101}), not a phone. */
    private static boolean intlLeftEdge(String s, int i) {
        if (i == 0) return true;
        char c = s.charAt(i - 1);
        return !isAsciiDigit(c) && c != '+';
    }

    /** An opening parenthesis is an edge of its own ({@code ann@x.io(415) 555-0132}, two values run together). */
    private static boolean nanpLeftEdge(String s, int i) {
        if (i == 0 || s.charAt(i) == '(' || isEscapeLetter(s, i - 1)) return true;
        char c = s.charAt(i - 1);
        return !(isWordChar(c) || c == '.' || c == '+' || c == '-' || c == '/' || c == ':');
    }

    /** Not followed by more of a number; a letter may follow ({@code 415-555-0132x12}, or an address run on). */
    private static boolean nanpRightEdge(String s, int i) {
        if (i == s.length()) return true;
        char c = s.charAt(i);
        boolean decimal = c == '.' && i + 1 < s.length() && isAsciiDigit(s.charAt(i + 1));
        return !(isAsciiDigit(c) || c == '_' || c == '-' || decimal);
    }

    /** Past every further digit joined on by the separators an international number may use. */
    private static int phoneRunEnd(String s, int end) {
        int n = s.length();
        while (true) {
            int next = end;
            while (next < n && next - end < 2 && " .()-".indexOf(s.charAt(next)) >= 0) next++;
            if (next == n || !isAsciiDigit(s.charAt(next))) return end;
            end = next + 1;
        }
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isWordChar(char c) {
        return isAsciiDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }

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
