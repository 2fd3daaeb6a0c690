package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedactorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Redactor DEFAULTS = Redactor.DEFAULTS;
    static final String JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudC0xIn0.c2lnbmF0dXJlLW5vdC1yZWFsbHk";
    static final String PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----";

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Nested
    class Json {
        @Test
        void anOktaUserIsRecordedAsSentExceptItsPasswordAndRecoveryAnswer() throws Exception {
            String sent = """
                    {"profile":{"firstName":"Ada","login":"ada@example.com","email":"ada@example.com","mobilePhone":"+14155550123"},
                     "credentials":{"password":{"value":"tlpWENT2m"},
                                    "recovery_question":{"question":"Who's a major player in the cowboy scene?","answer":"Annie Oakley"}}}""";

            JsonNode recorded = json(DEFAULTS.json(sent));

            assertThat(recorded.at("/profile/login").asText()).isEqualTo("ada@example.com");
            assertThat(recorded.at("/profile/email").asText()).isEqualTo("ada@example.com");
            assertThat(recorded.at("/profile/mobilePhone").asText()).isEqualTo("+14155550123");
            assertThat(recorded.at("/credentials/password").asText()).isEqualTo(Redactor.REDACTED);
            assertThat(recorded.at("/credentials/recovery_question/question").asText()).startsWith("Who's");
            assertThat(recorded.at("/credentials/recovery_question/answer").asText()).isEqualTo(Redactor.REDACTED);
            assertThat(recorded.toString()).doesNotContain("tlpWENT2m", "Annie");
        }

        @Test
        void secretFieldsAreRedactedAtAnyDepthAndInEveryArrayElement() throws Exception {
            String sent = """
                    {"clients":[{"name":"a","client_secret":"s1"},{"name":"b","client_secret":{"v":"s2"}}],
                     "deep":{"deeper":[[{"access_token":"t1","refresh_token":"t2","id_token":"t3","token":"t4"}]]},
                     "apiKey":"k1","api_key":"k2","privateKey":"k3","private_key":"k4","secret":"k5"}""";

            String recorded = DEFAULTS.json(sent);

            assertThat(recorded).doesNotContain("s1", "s2", "t1", "t2", "t3", "t4", "k1", "k2", "k3", "k4", "k5");
            JsonNode tree = json(recorded);
            assertThat(tree.at("/clients/0/name").asText()).isEqualTo("a");
            assertThat(tree.at("/clients/1/client_secret").asText()).isEqualTo(Redactor.REDACTED);
            assertThat(tree.at("/deep/deeper/0/0/token").asText()).isEqualTo(Redactor.REDACTED);
        }

        @Test
        void aConnectionsListAddsFieldsToTheDefaultsWithSuffixMatching() throws Exception {
            Redactor custom = Redactor.withFields(List.of("profile.ssn", "pin"));
            String sent = """
                    {"profile":{"ssn":"078-05-1120","login":"bo@example.com"},"other":{"ssn":"keep"},"pin":"1234","password":"x"}""";

            JsonNode recorded = json(custom.json(sent));

            assertThat(recorded.at("/profile/ssn").asText()).isEqualTo(Redactor.REDACTED);
            assertThat(recorded.at("/other/ssn").asText()).isEqualTo("keep");
            assertThat(recorded.at("/pin").asText()).isEqualTo(Redactor.REDACTED);
            assertThat(recorded.at("/password").asText()).isEqualTo(Redactor.REDACTED);
            assertThat(recorded.at("/profile/login").asText()).isEqualTo("bo@example.com");
            assertThat(custom.fields()).containsExactly("profile.ssn", "pin");
        }

        @Test
        void secretsInFreeTextValuesAreRedactedButContactDetailsStay() throws Exception {
            String sent = "{\"note\":\"call +1 415 555 0132 or ann@example.com; token " + JWT + "\",\"key\":\""
                    + PEM.replace("\n", "\\n") + "\",\"card\":\"4111 1111 1111 1111\"}";

            JsonNode recorded = json(DEFAULTS.json(sent));

            assertThat(recorded.at("/note").asText()).isEqualTo("call +1 415 555 0132 or ann@example.com; token [redacted]");
            assertThat(recorded.at("/key").asText()).isEqualTo(Redactor.REDACTED);
            assertThat(recorded.at("/card").asText()).isEqualTo("4111 1111 1111 1111");
        }

        @Test
        void aDocumentWithoutSecretsKeepsItsValues() throws Exception {
            String sent = "{\"type\":\"SUPER_ADMIN\",\"n\":1.50,\"ok\":true,\"none\":null,\"list\":[1,\"two\"]}";
            assertThat(json(DEFAULTS.json(sent))).isEqualTo(json(sent));
        }

        @Test
        void textThatIsNotJsonStillHasItsDetectedSecretsRedacted() {
            assertThat(DEFAULTS.json("{\"password\": broken " + JWT)).isEqualTo("{\"password\": broken [redacted]");
        }

        @Test
        void aSelectorThatNamesNoFieldIsRefused() {
            assertThatThrownBy(() -> Redactor.withFields(List.of("$"))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("names no field");
        }
    }

    @Nested
    class Text {
        @ParameterizedTest
        @ValueSource(strings = {JWT, "sk-proj-abcdefghijklmnopqrstuvwxyz012345", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "AKIAIOSFODNN7EXAMPLE", PEM})
        void jwtsApiKeysAndPrivateKeysAreRedacted(String secret) {
            assertThat(DEFAULTS.text("before " + secret + " after")).isEqualTo("before [redacted] after");
        }

        @Test
        void emailsPhonesCardsAndIbansAreNotSecrets() {
            String text = "ann@example.com +44 20 7946 0958 4111111111111111 DE89370400440532013000 078-05-1120";
            assertThat(DEFAULTS.text(text)).isSameAs(text);
        }

        @Test
        void aValueThatIsJsonGetsFieldRedactionAndOtherValuesDetectorsOnly() {
            assertThat(DEFAULTS.value("{\"token\":\"abc\",\"user\":\"ann@example.com\"}"))
                    .isEqualTo("{\"token\":\"[redacted]\",\"user\":\"ann@example.com\"}");
            assertThat(DEFAULTS.value(JWT)).isEqualTo(Redactor.REDACTED);
            assertThat(DEFAULTS.value("{1,2,3}")).isEqualTo("{1,2,3}"); // a PostgreSQL array, not JSON
            assertThat(DEFAULTS.value(null)).isNull();
        }
    }

    @Nested
    class Sql {
        @ParameterizedTest
        @ValueSource(strings = {
                "ALTER ROLE app PASSWORD 's3cret!'",
                "alter user app with encrypted password 's3cret!' valid until 'infinity'",
                "CREATE ROLE app LOGIN PASSWORD E's3cret!\\'' CONNECTION LIMIT 3",
                "CREATE USER app PASSWORD $pw$s3cret!$pw$",
                "ALTER ROLE app PASSWORD /* why not */ 's3cret!'",
                "ALTER ROLE app PASSWORD\n-- new one\n's3cret!'",
                "ALTER ROLE app PASSWORD 's3cret!''s'",
                "CREATE USER MAPPING FOR app SERVER films OPTIONS (user 'app', password 's3cret!')",
                "UPDATE accounts SET password = 's3cret!' WHERE id = 1",
                "DO $$ BEGIN EXECUTE 'ALTER ROLE app PASSWORD ''s3cret!'''; END $$",
                "ALTER ROLE app PASSWORD 's3cret! and no closing quote"})
        void rolePasswordLiteralsNeverReachTheRecording(String sql) {
            String recorded = DEFAULTS.sql(sql);
            assertThat(recorded).doesNotContain("s3cret").contains(Redactor.REDACTED);
        }

        @Test
        void onlyTheLiteralIsReplacedAndTheRestStaysAsSent() {
            assertThat(DEFAULTS.sql("ALTER ROLE app WITH LOGIN PASSWORD 'x' VALID UNTIL '2027-01-01'"))
                    .isEqualTo("ALTER ROLE app WITH LOGIN PASSWORD '[redacted]' VALID UNTIL '2027-01-01'");
            assertThat(DEFAULTS.sql("CREATE USER app PASSWORD $pw$x$pw$ CREATEDB"))
                    .isEqualTo("CREATE USER app PASSWORD $pw$[redacted]$pw$ CREATEDB");
        }

        @Test
        void statementsWithoutSecretsAreRecordedAsSent() {
            for (String sql : Arrays.asList(
                    "INSERT INTO customers (name, email, phone) VALUES ('Ann', 'ann@example.com', '+1 415 555 0132')",
                    "SELECT password FROM users WHERE name = 'password'",
                    "SELECT 'my password is long' AS p, \"password\" FROM t",
                    "ALTER ROLE app PASSWORD NULL",
                    "SELECT $1::text, e'\\n', u&'\\0041', x'1f'")) {
                assertThat(DEFAULTS.sql(sql)).isSameAs(sql);
            }
        }

        @Test
        void secretFieldsInJsonLiteralsAndDetectedSecretsAnywhereAreRedacted() {
            assertThat(DEFAULTS.sql("INSERT INTO t (doc) VALUES ('{\"login\":\"o''neil@example.com\",\"password\":\"pw\"}')"))
                    .isEqualTo("INSERT INTO t (doc) VALUES ('{\"login\":\"o''neil@example.com\",\"password\":\"[redacted]\"}')");
            assertThat(DEFAULTS.sql("SELECT * FROM sessions WHERE token = '" + JWT + "' -- " + JWT))
                    .isEqualTo("SELECT * FROM sessions WHERE token = '[redacted]' -- [redacted]");
        }

        @Test
        void deeplyNestedBodiesFinishQuickly() {
            StringBuilder sql = new StringBuilder();
            for (int i = 0; i < 20_000; i++) sql.append("$t").append(i).append("$ ");
            for (int i = 19_999; i >= 0; i--) sql.append("$t").append(i).append("$ ");
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> DEFAULTS.sql(sql.toString()));
        }
    }
}
