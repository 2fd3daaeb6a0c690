package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TextMaskerTest {
    private static final TextMasker ALL = TextMasker.of(EnumSet.allOf(Detector.class));

    private static String mask(String s) {
        return ALL.mask(s);
    }

    @Test
    void textWithNothingSensitiveIsReturnedAsTheSameInstance() {
        String plain = "Status ACTIVE since 2026-11-23T10:00:00.000Z, id 00u1abcd2EFGH3ijk4l5";
        assertThat(mask(plain)).isSameAs(plain);
        String withDigits = "order 12345 shipped 2026-01-02, total $1,299.99";
        assertThat(mask(withDigits)).isSameAs(withDigits);
    }

    @Test
    void onlyTheConfiguredDetectorsRun() {
        TextMasker emailOnly = TextMasker.of(Set.of(Detector.EMAIL));
        assertThat(emailOnly.mask("ann@example.com 123-45-6789")).isEqualTo("[email] 123-45-6789");
        assertThat(TextMasker.of(Set.of()).mask("ann@example.com")).isEqualTo("ann@example.com");
    }

    @Nested
    class Email {
        @ParameterizedTest
        @ValueSource(strings = {"ann@example.com", "ann.lee+okta@mail.corp.example.co.uk", "a_b-c%d@sub-domain.example.io",
                "O'Brien@example.ie", "zoë@exämple.de"})
        void addressesAreMasked(String address) {
            assertThat(mask("write to " + address + ", thanks")).isEqualTo("write to [email], thanks");
        }

        @Test
        void severalAddressesInOneTextAreAllMasked() {
            assertThat(mask("a@x.io,b@y.org;<c@z.net>")).isEqualTo("[email],[email];<[email]>");
        }

        @ParameterizedTest
        @ValueSource(strings = {"@handle", "user@localhost", "me@host.c0m", "a@b", "foo@.com", "x@-a.com", "price @ 5.00"})
        void thingsWithAnAtSignThatAreNotAddressesStay(String text) {
            assertThat(mask(text)).isSameAs(text);
        }
    }

    @Nested
    class Phone {
        @ParameterizedTest
        @ValueSource(strings = {"+1 415 555 0132", "+14155550132", "+44 20 7946 0958", "+44 (0)20 7946 0958", "+49-30-1234567",
                "+33.1.23.45.67.89", "(415) 555-0132", "(415)555-0132", "415-555-0132", "415.555.0132", "415 555 0132",
                "1-415-555-0132"})
        void numbersAreMasked(String number) {
            assertThat(mask("call " + number + " now")).isEqualTo("call [phone] now");
        }

        @ParameterizedTest
        @ValueSource(strings = {"2026-11-23T10:00:00.000Z", "2026-11-23 10:00:00", "10:00:00.123", "00u1abcd2EFGH3ijk4l5",
                "123e4567-e89b-12d3-a456-426614174000", "version 10.12.3", "v1.2.3-beta.4", "42", "1700000000", "$1,299.99",
                "192.168.100.1000", "+123", "TZ +05:30", "lab 123-456-7890", "ticket 1234567890"})
        void thingsThatLookNumericButAreNotPhonesStay(String text) {
            assertThat(mask(text)).isSameAs(text);
        }
    }

    @Nested
    class Card {
        @ParameterizedTest
        @ValueSource(strings = {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005",
                "3782 822463 10005", "5555555555554444", "6011000990139424"})
        void luhnValidNumbersAreMasked(String number) {
            assertThat(mask("card " + number + " exp")).isEqualTo("card [card] exp");
        }

        @ParameterizedTest
        @ValueSource(strings = {"4111111111111112", "4111 1111 1111 1112", "1700000000000", "0000000000000000",
                "4111-1111 1111-1111"})
        void luhnInvalidOrImplausibleNumbersStay(String number) {
            String text = "ref " + number;
            assertThat(mask(text)).isSameAs(text);
        }

        @Test
        void aCardFollowedByMoreDigitsIsStillFound() {
            assertThat(mask("4111 1111 1111 1111 2029")).isEqualTo("[card] 2029");
        }
    }

    @Nested
    class Ssn {
        @Test
        void validSsnIsMasked() {
            assertThat(mask("SSN: 123-45-6789.")).isEqualTo("SSN: [ssn].");
        }

        @ParameterizedTest
        @ValueSource(strings = {"000-12-3456", "666-12-3456", "900-12-3456", "987-65-4321", "123-00-4567", "123-45-0000"})
        void invalidRangesStay(String ssn) {
            String text = "SSN: " + ssn;
            assertThat(mask(text)).isSameAs(text);
        }
    }

    @Nested
    class Iban {
        @ParameterizedTest
        @ValueSource(strings = {"GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000",
                "DE89 3704 0044 0532 0130 00", "FR1420041010050500013M02606"})
        void validIbansAreMasked(String iban) {
            assertThat(mask("pay to " + iban + " today")).isEqualTo("pay to [iban] today");
        }

        @ParameterizedTest
        @ValueSource(strings = {"GB82WEST12345698765433", "DE89370400440532013001", "AB12CDEFGHIJKLMNOP"})
        void checksumFailuresStay(String text) {
            assertThat(mask(text)).isSameAs(text);
        }
    }

    @Test
    void jwtIsMasked() {
        String jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assertThat(mask("Authorization: Bearer " + jwt)).isEqualTo("Authorization: Bearer [jwt]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sk-proj-abcdefghijklmnopqrstuvwxyz012345", "sk-abcdefghijklmnopqrstuvwx", "sk_live_abcdefghijklmnop1234",
            "rk_test_abcdefghijklmnop1234", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github_pat_11ABCDEFG0abcdefghijklm_nopqrstu",
            "AKIAIOSFODNN7EXAMPLE", "xoxb-1234567890-abcdefghij", "xoxp-1234567890-abcdefghij", "glpat-abcdefghijklmnopqrst"})
    void apiKeysWithWellKnownPrefixesAreMasked(String key) {
        assertThat(mask("key=" + key + " end")).isEqualTo("key=[api-key] end");
    }

    @ParameterizedTest
    @ValueSource(strings = {"task-force-alpha-bravo-charlie-delta", "sk-short", "AKIA1234", "ghp_short", "desk_live_abcdefghijklmnop1234"})
    void wordsThatMerelyStartLikeKeysStay(String text) {
        assertThat(mask(text)).isSameAs(text);
    }

    @Nested
    class PrivateKey {
        private static final String BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
                + "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n";

        @ParameterizedTest
        @ValueSource(strings = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"})
        void pemBlocksAreMaskedFromHeaderToFooter(String label) {
            String pem = "-----BEGIN " + label + "-----\n" + BODY + "-----END " + label + "-----";
            assertThat(mask("key:\n" + pem + "\nend")).isEqualTo("key:\n[private-key]\nend");
        }

        @Test
        void anEncryptedKeysHeadersAreMaskedWithIt() {
            String pem = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n"
                    + BODY + "-----END RSA PRIVATE KEY-----";
            assertThat(mask(pem)).isEqualTo("[private-key]");
        }

        @Test
        void aKeyWithEscapedNewlinesAsInJsonTextIsMasked() {
            String pem = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0B\\n-----END PRIVATE KEY-----\\n";
            assertThat(mask("{\"k\":\"" + pem + "\"}")).isEqualTo("{\"k\":\"[private-key]\\n\"}");
        }

        @Test
        void aKeyCutShortIsMaskedAsFarAsItGoes() {
            assertThat(mask("-----BEGIN PRIVATE KEY-----\n" + BODY)).isEqualTo("[private-key]");
        }

        @Test
        void publicKeysCertificatesAndMentionsStay() {
            String cert = "-----BEGIN CERTIFICATE-----\n" + BODY + "-----END CERTIFICATE-----";
            String pub = "-----BEGIN PUBLIC KEY-----\n" + BODY + "-----END PUBLIC KEY-----";
            String mention = "rotate the PRIVATE KEY every year";
            for (String text : new String[] {cert, pub, mention}) assertThat(mask(text)).isSameAs(text);
        }

        @Test
        void itsConfigNameIsPrivateKey() {
            assertThat(Detector.PRIVATE_KEY.configName()).isEqualTo("private-key");
            assertThat(Detector.fromConfigName("private-key")).isEqualTo(Detector.PRIVATE_KEY);
        }
    }

    @Test
    void overlappingFindingsAreMaskedOnceByTheMostSpecificDetector() {
        assertThat(mask("iban DE89370400440532013000 mail 4155550132@example.com"))
                .isEqualTo("iban [iban] mail [email]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "1", "1-", "+1 ", "a@", "@a.", "eyJ", "eyJa.", "AB12 ", "sk-", "4111 ", "(415) ", "123-45-", ".",
            "a.b@", "x@x.", "-", "-----BEGIN PRIVATE KEY-----", "-----BEGIN A PRIVATE KEY-----A"})
    void pathologicalMegabyteInputsFinishQuickly(String unit) {
        String text = unit.repeat((1 << 20) / unit.length());
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> mask(text));
    }
}
