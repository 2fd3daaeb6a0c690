package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class JsonMaskerTest {
    private static final JsonMasker MASKER = new JsonMasker();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static String mask(String json, String... fields) throws MaskingException {
        return MASKER.maskJson(json, new MaskPlan(List.of(fields), Set.of()));
    }

    private static String maskWithDetectors(String json, String... fields) throws MaskingException {
        return MASKER.maskJson(json, new MaskPlan(List.of(fields), EnumSet.allOf(Detector.class)));
    }

    /** Test bodies are written with single quotes for readability. */
    private static String j(String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }

    @Nested
    class FieldSelectors {
        @Test
        void fieldAtTheRootIsMasked() throws Exception {
            assertThat(mask(j("{'email':'a@b.co','id':'00u1'}"), "email"))
                    .isEqualTo(j("{'email':'[masked]','id':'00u1'}"));
        }

        @Test
        void nestedPathIsMasked() throws Exception {
            assertThat(mask(j("{'profile':{'email':'a','login':'b'}}"), "profile.email"))
                    .isEqualTo(j("{'profile':{'email':'[masked]','login':'b'}}"));
        }

        @Test
        void everyUserInAnArrayIsMasked() throws Exception {
            assertThat(mask(j("[{'profile':{'email':'a'}},{'profile':{'email':'b'}}]"), "profile.email"))
                    .isEqualTo(j("[{'profile':{'email':'[masked]'}},{'profile':{'email':'[masked]'}}]"));
        }

        @Test
        void pathUnderEmbeddedResourcesMatchesAsASuffix() throws Exception {
            assertThat(mask(j("{'_embedded':{'user':{'profile':{'email':'a'}}}}"), "profile.email"))
                    .isEqualTo(j("{'_embedded':{'user':{'profile':{'email':'[masked]'}}}}"));
        }

        @Test
        void arrayLevelsInsideThePathAreIgnored() throws Exception {
            assertThat(mask(j("{'profile':[{'email':'a'},{'email':'b'}]}"), "profile.email"))
                    .isEqualTo(j("{'profile':[{'email':'[masked]'},{'email':'[masked]'}]}"));
        }

        @Test
        void maskedValueOfAnyKindBecomesOneString() throws Exception {
            String in = j("{'s':{'a':{'deep':[1,2,{'x':'y'}]}},'t':[1,[2],{'u':3}],'n':12.5,'z':null,'b':true,'keep':1}");
            assertThat(mask(in, "s", "t", "n", "z", "b"))
                    .isEqualTo(j("{'s':'[masked]','t':'[masked]','n':'[masked]','z':'[masked]','b':'[masked]','keep':1}"));
        }

        @Test
        void singleNameMatchesTheFieldAtAnyDepth() throws Exception {
            assertThat(mask(j("{'email':'a','profile':{'email':'b'},'x':[{'y':{'email':'c'}}]}"), "email"))
                    .isEqualTo(j("{'email':'[masked]','profile':{'email':'[masked]'},'x':[{'y':{'email':'[masked]'}}]}"));
        }

        @Test
        void dottedPathDoesNotMatchTheBareNameElsewhere() throws Exception {
            String in = j("{'email':'a','meta':{'email':'b'},'profile':{'meta':{'email':'c'}}}");
            assertThat(mask(in, "profile.email")).isEqualTo(in);
        }

        @Test
        void namesMatchWholeNotByTheirEnding() throws Exception {
            String in = j("{'xprofile':{'email':'a'},'profile':{'xemail':'b','emailVerified':true}}");
            assertThat(mask(in, "profile.email")).isEqualTo(in);
        }

        @Test
        void selectorsMayBeWrittenWithRootAndIndices() throws Exception {
            assertThat(mask(j("{'users':[{'email':'a'}]}"), "$.users[*].email"))
                    .isEqualTo(j("{'users':[{'email':'[masked]'}]}"));
        }

        @Test
        void selectorNamingNoFieldIsRejectedWithAnActionableMessage() {
            assertThatThrownBy(() -> mask("{}", "$.[0]"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'$.[0]'").hasMessageContaining("profile.email");
        }

        @Test
        void fieldNamesThemselvesAreNeverMasked() throws Exception {
            String in = j("{'ann@example.com':'x'}");
            assertThat(maskWithDetectors(in)).isEqualTo(in);
        }
    }

    @Nested
    class Detectors {
        @Test
        void emailInsideFreeTextOfAnUnrelatedFieldIsMasked() throws Exception {
            assertThat(maskWithDetectors(j("{'profile':{'notes':'ask ann@example.com first'}}"), "profile.email"))
                    .isEqualTo(j("{'profile':{'notes':'ask [email] first'}}"));
        }

        @Test
        void phoneInAFieldNamedForSomethingElseIsMasked() throws Exception {
            assertThat(maskWithDetectors(j("{'profile':{'secondEmail':'+1 415 555 0132'}}")))
                    .isEqualTo(j("{'profile':{'secondEmail':'[phone]'}}"));
        }

        @Test
        void cardsSsnsAndIbansAreMaskedOnlyWhenTheirChecksPass() throws Exception {
            String in = j("{'a':'4111 1111 1111 1111','b':'4111 1111 1111 1112','c':'123-45-6789','d':'666-45-6789',"
                    + "'e':'GB82WEST12345698765432','f':'GB82WEST12345698765433'}");
            assertThat(maskWithDetectors(in)).isEqualTo(j("{'a':'[card]','b':'4111 1111 1111 1112','c':'[ssn]',"
                    + "'d':'666-45-6789','e':'[iban]','f':'GB82WEST12345698765433'}"));
        }

        @Test
        void oktaShapedValuesThatAreNotSensitiveSurvive() throws Exception {
            String in = j("{'id':'00u1abcd2EFGH3ijk4l5','status':'ACTIVE','created':'2026-11-23T10:00:00.000Z',"
                    + "'lastLogin':null,'guid':'123e4567-e89b-12d3-a456-426614174000','version':'10.12.3',"
                    + "'count':42,'price':'$1,299.99','epochMillis':1700000000000,'text':'1700000000000'}");
            assertThat(maskWithDetectors(in)).isEqualTo(in);
        }

        @Test
        void escapedEmailIsSeenAfterUnescapingAndMasked() throws Exception {
            assertThat(maskWithDetectors("{\"note\":\"mail a\\u0040b.com now\"}"))
                    .isEqualTo(j("{'note':'mail [email] now'}"));
        }

        @Test
        void unicodeAndEscapesRoundTripUnchanged() throws Exception {
            String in = "{\"name\":\"Zoë Ünïcode 日本 😀\",\"q\":\"say \\\"hi\\\"\\n\\ttab\\\\\"}";
            String out = maskWithDetectors(in);
            assertThat(MAPPER.readTree(out)).isEqualTo(MAPPER.readTree(in));
        }

        @Test
        void internationalisedEmailIsMasked() throws Exception {
            assertThat(maskWithDetectors(j("{'e':'zoë@exämple.de'}"))).isEqualTo(j("{'e':'[email]'}"));
        }
    }

    @Test
    void numbersKeepTheirExactSpelling() throws Exception {
        String in = "{\"a\":1.10,\"b\":1e400,\"c\":123456789012345678901234567890,\"d\":-0.0,\"e\":0.1000000000000000055511151231257827}";
        assertThat(maskWithDetectors(in)).isEqualTo(in);
    }

    @Test
    void streamingAndInMemoryGiveTheSameResult() throws Exception {
        String in = j("[{'profile':{'email':'ann@example.com','mobilePhone':'(415) 555-0132','notes':'x'}}]");
        MaskPlan plan = new MaskPlan(List.of("profile.email"), EnumSet.allOf(Detector.class));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MASKER.mask(new ByteArrayInputStream(in.getBytes(StandardCharsets.UTF_8)), out, plan);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(MASKER.maskJson(in, plan))
                .isEqualTo(j("[{'profile':{'email':'[masked]','mobilePhone':'[phone]','notes':'x'}}]"));
    }

    @Test
    void treeIsMaskedIntoANewTreeLeavingTheInputAlone() throws Exception {
        JsonNode tree = MAPPER.readTree(j("{'profile':{'email':'a','n':1.5,'big':12345678901234567890},'note':'ann@example.com'}"));
        JsonNode masked = MASKER.mask(tree, new MaskPlan(List.of("profile.email"), Set.of(Detector.EMAIL)));
        assertThat(masked).isEqualTo(MAPPER.readTree(
                j("{'profile':{'email':'[masked]','n':1.5,'big':12345678901234567890},'note':'[email]'}")));
        assertThat(tree.at("/profile/email").asText()).isEqualTo("a");
    }

    @Test
    void emptyPlanCopiesTheDocument() throws Exception {
        String in = j("{'a':[1,true,null,'ann@example.com']}");
        assertThat(MASKER.maskJson(in, MaskPlan.NONE)).isEqualTo(in);
    }

    @Test
    void theRewriteSeesStringValuesAfterTheDetectorsNeverFieldNamesOrMaskedValues() throws Exception {
        String in = j("{'name':'x','email':'a@b.co','notes':'mail ann@example.com','list':['y',{'inner':'z'}],'n':1}");
        List<String> seen = new ArrayList<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        MASKER.mask(new ByteArrayInputStream(in.getBytes(StandardCharsets.UTF_8)), out,
                new MaskPlan(List.of("email"), EnumSet.of(Detector.EMAIL)), s -> {
                    seen.add(s);
                    return s.toUpperCase(Locale.ROOT) + "\"";
                });

        assertThat(seen).containsExactly("x", "mail [email]", "y", "z");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(
                j("{'name':'X\\'','email':'[masked]','notes':'MAIL [EMAIL]\\'','list':['Y\\'',{'inner':'Z\\''}],'n':1}"));
    }

    @Nested
    class MalformedUpstream {
        private static final MaskPlan PLAN = new MaskPlan(List.of("profile.login"), EnumSet.allOf(Detector.class));

        private static String users(int n) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < n; i++) {
                if (i > 0) sb.append(',');
                sb.append(j("{'id':'00u%d','profile':{'login':'login%d@example.com','email':'user%d@example.com'}}")
                        .formatted(i, i, i));
            }
            return sb.toString();
        }

        private static ByteArrayOutputStream maskExpectingFailure(String body) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThatThrownBy(() -> MASKER.mask(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), out, PLAN))
                    .isInstanceOf(MaskingException.class);
            return out;
        }

        @Test
        void syntaxErrorMidwayThrowsAndNothingWrittenIsUnmasked() {
            String body = users(3000) + j(",{'profile':{'email':'leak@secret.example','x': ]}]");
            String written = maskExpectingFailure(body).toString(StandardCharsets.UTF_8);
            assertThat(written).startsWith("[{").doesNotContain("@");
            assertThat(written.length()).as("flushed masked users before the error").isGreaterThan(64 * 1024);
        }

        @Test
        void bodyCutOffInsideAStringThrowsAndIsNotClosedIntoValidJson() {
            String body = users(1500) + j(",{'profile':{'email':'leak@sec");
            String written = maskExpectingFailure(body).toString(StandardCharsets.UTF_8);
            assertThat(written).isNotEmpty().doesNotContain("@");
            assertThatThrownBy(() -> MAPPER.readTree(written)).isInstanceOf(Exception.class);
        }

        @Test
        void bodyCutOffRightAfterAMaskedFieldNameThrows() {
            maskExpectingFailure(users(1).replace("]", "") + j(",{'profile':{'login':"));
        }

        @Test
        void inMemoryMalformedJsonThrowsToo() {
            assertThatThrownBy(() -> MASKER.maskJson("{\"a\":tru}", PLAN)).isInstanceOf(MaskingException.class);
        }
    }
}
