package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Values as PostgreSQL renders them when several are packed into one text value: array, row and
 * JSON literals, and values run together by {@code string_agg} or concatenation.
 */
class PackedValuesMaskingTest {
    private static final TextMasker ALL = TextMasker.of(EnumSet.allOf(Detector.class));

    private static String mask(String s) {
        return ALL.mask(s);
    }

    @Test
    void emailsInsideArrayLiteralsAreMasked() {
        assertThat(mask("{a@x.com,b@y.com}")).isEqualTo("{[email],[email]}");
        assertThat(mask("{\"ann lee@x.com\",\"c@y.com\"}")).isEqualTo("{\"ann [email]\",\"[email]\"}");
        assertThat(mask("{{a@x.com},{b@y.com}}")).isEqualTo("{{[email]},{[email]}}");
        assertThat(mask("{\"a\\\\\",bob@y.com,NULL}")).isEqualTo("{\"a\\\\\",[email],NULL}");
    }

    @Test
    void emailsInsideJsonArraysAndRowLiteralsAreMasked() {
        assertThat(mask("[\"a@x.com\",\"b@y.com\"]")).isEqualTo("[\"[email]\",\"[email]\"]");
        assertThat(mask("[\\\"a@x.com\\\",\\\"b@y.com\\\"]")).isEqualTo("[\\\"[email]\\\",\\\"[email]\\\"]");
        assertThat(mask("(1,a@x.com,\"+1 415 555 0101\")")).isEqualTo("(1,[email],\"[phone]\")");
        assertThat(mask("(7,'ann@x.com')")).isEqualTo("(7,'[email]')");
    }

    @Test
    void phonesAndCardsInsideLiteralsAreMasked() {
        assertThat(mask("{+14155550101,\"(415) 555-0102\",415-555-0103}")).isEqualTo("{[phone],\"[phone]\",[phone]}");
        assertThat(mask("{4111111111111111,\"5555 5555 5555 4444\"}")).isEqualTo("{[card],\"[card]\"}");
    }

    @Test
    void runTogetherEmailsLeaveNoFragment() {
        assertThat(mask("user1@example.comuser2@example.comuser3@example.com")).isEqualTo("[email]");
        assertThat(mask("alice@example.combob@example.org")).isEqualTo("[email]");
        assertThat(mask("A.B+tag@Mail.Example.COMc_d@sub.example.io.")).isEqualTo("[email].");
        assertThat(mask("x alice@example.com.bob@example.org y")).isEqualTo("x [email] y");
    }

    @Test
    void runTogetherPhonesAreEachMasked() {
        assertThat(mask("+1 415 555 0001+1 415 555 0002")).isEqualTo("[phone][phone]");
        assertThat(mask("+14155550001+14155550002+14155550003")).isEqualTo("[phone][phone][phone]");
        assertThat(mask("415-555-0001415-555-0002")).isEqualTo("[phone][phone]");
        assertThat(mask("(415) 555-0001(415) 555-0002")).isEqualTo("[phone][phone]");
        assertThat(mask("415-555-0001-415-555-0002")).isEqualTo("[phone]-[phone]");
    }

    @Test
    void emailAndPhoneRunTogetherAreBothMasked() {
        assertThat(mask("ann@example.com+1 415 555 0101")).isEqualTo("[email]");
        assertThat(mask("+44 20 7946 0958ann@example.com")).isEqualTo("[email]");
    }

    @Test
    void copyTextEscapesSeparateValues() {
        assertThat(mask("a@x.com\\nb@y.com\\t\\N")).isEqualTo("[email]\\n[email]\\t\\N");
        assertThat(mask("415-555-0101\\n415-555-0102")).isEqualTo("[phone]\\n[phone]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"version 1.2.3+20240101", "1.0.0+build.5", "2026-11-23,2026-11-24", "{1.2.3,4.5.6}",
            "{ready,set,go}", "(1,2026-01-02,\"open\")", "@handle@other", "a@b@c", "x@1.2.3"})
    void packedThingsThatAreNotSensitiveStay(String text) {
        assertThat(mask(text)).isSameAs(text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a@", "ab.cd@", "+1 415 555 0101", "415-555-0101", "{a@x.com,", "\\n", "a@x.comb"})
    void runTogetherMegabyteInputsFinishQuickly(String unit) {
        String text = unit.repeat((1 << 20) / unit.length());
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> mask(text));
    }

    /**
     * Random lists of generated emails and phones, joined by random separators (or none) and wrapped
     * in random literal syntax: after masking, no local part, no domain label but the TLD, and no
     * group of four or more digits from a phone is left.
     */
    @Test
    void noGeneratedValueSurvivesInAnyPacking() {
        Random random = new Random(20261123);
        for (int round = 0; round < 3_000; round++) {
            List<String> values = new ArrayList<>();
            List<String> secrets = new ArrayList<>();
            int count = 1 + random.nextInt(5);
            for (int i = 0; i < count; i++) {
                values.add(random.nextInt(3) == 0 ? phone(random, secrets) : email(random, secrets));
            }
            String packed = pack(random, values);
            String masked = mask(packed);
            String left = masked.replaceAll("\\[[a-z-]+\\]", " ").toLowerCase(Locale.ROOT);
            for (String secret : secrets) {
                assertThat(left).as("%s masked as %s", packed, masked).doesNotContain(secret.toLowerCase(Locale.ROOT));
            }
        }
    }

    private static final String[] SEPARATORS = {"", "", ",", ";", "|", "\t", "\n", " ", ", ", "\\n", "\\t", "."};
    private static final String[] TLDS = {"com", "org", "io", "de", "uk", "COM"};

    private static String email(Random random, List<String> secrets) {
        String local = word(random, 4 + random.nextInt(6), true);
        secrets.add(local);
        StringBuilder address = new StringBuilder(local);
        if (random.nextInt(4) == 0) {
            String tag = word(random, 4, false);
            secrets.add(tag);
            address.append(random.nextBoolean() ? '+' : '.').append(tag);
        }
        address.append('@');
        int labels = 1 + random.nextInt(3);
        for (int i = 0; i < labels; i++) {
            String label = word(random, 4 + random.nextInt(5), false);
            secrets.add(label);
            address.append(label).append('.');
        }
        return address.append(TLDS[random.nextInt(TLDS.length)]).toString();
    }

    /** Letters (mixed case when asked) and digits, at least four, so it cannot occur by chance in the output. */
    private static String word(Random random, int length, boolean withDigits) {
        String alphabet = withDigits ? "abcdefghijkmnpqrstuvwxyzABCDEFGH23456789" : "abcdefghijkmnpqrstuvwxyz";
        StringBuilder w = new StringBuilder(length);
        for (int i = 0; i < length; i++) w.append(alphabet.charAt(random.nextInt(alphabet.length())));
        return w.toString();
    }

    private static String phone(Random random, List<String> secrets) {
        String area = String.valueOf(200 + random.nextInt(800)), exchange = String.valueOf(200 + random.nextInt(800));
        String line = String.format("%04d", 1000 + random.nextInt(9000));
        String phone = switch (random.nextInt(6)) {
            case 0 -> "+1 " + area + " " + exchange + " " + line;
            case 1 -> "+1" + area + exchange + line;
            case 2 -> "(" + area + ") " + exchange + "-" + line;
            case 3 -> area + "-" + exchange + "-" + line;
            case 4 -> "+44 20 " + line + " " + String.format("%04d", random.nextInt(10_000));
            default -> area + "." + exchange + "." + line;
        };
        Matcher groups = Pattern.compile("\\d{4,}").matcher(phone);
        while (groups.find()) secrets.add(groups.group());
        return phone;
    }

    private static String pack(Random random, List<String> values) {
        String separator = SEPARATORS[random.nextInt(SEPARATORS.length)];
        return switch (random.nextInt(6)) {
            case 0 -> String.join(separator, values);
            case 1 -> "{" + String.join(",", values.stream().map(v -> random.nextBoolean() ? quoted(v) : v).toList()) + "}";
            case 2 -> "{" + String.join(",", values.stream().map(v -> "{" + quoted(v) + "}").toList()) + "}";
            case 3 -> "[" + String.join(",", values.stream().map(PackedValuesMaskingTest::quoted).toList()) + "]";
            case 4 -> "(" + String.join(",", values.stream().map(v -> random.nextBoolean() ? quoted(v) : v).toList()) + ")";
            default -> "{\"" + String.join(separator, values) + "\"," + quoted(values.getFirst()) + "}";
        };
    }

    private static String quoted(String value) {
        return "\"" + value + "\"";
    }
}
