package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.masking.Detector;
import dev.portcullis.masking.JsonMasker;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.MaskingException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UpstreamLinksTest {
    private static final String GATEWAY = "http://127.0.0.1:8081";
    private static final UpstreamLinks OKTA = new UpstreamLinks(URI.create("https://example.okta.com"), GATEWAY);

    @Nested
    class Urls {
        @ParameterizedTest
        @ValueSource(strings = {"/api/v1/users/00u1", "?after=00u1", "#top", "", "/"})
        void theUpstreamsOriginFollowedByAPathQueryFragmentOrNothingIsTheGateways(String rest) {
            assertThat(OKTA.url("https://example.okta.com" + rest)).isEqualTo(GATEWAY + rest);
        }

        @Test
        void schemeAndHostMatchInAnyCaseAndThePathKeepsItsOwn() {
            assertThat(OKTA.url("HTTPS://Example.OKTA.com/api/v1/Users/00uAB")).isEqualTo(GATEWAY + "/api/v1/Users/00uAB");
        }

        @Test
        void theDefaultPortWrittenOutIsTheSameOrigin() {
            assertThat(OKTA.url("https://example.okta.com:443/api/v1/users")).isEqualTo(GATEWAY + "/api/v1/users");
        }

        @ParameterizedTest
        @ValueSource(strings = {
                "https://example.okta.com.evil.com/x", // the origin is a prefix of another host
                "https://example.okta.comx/",
                "https://example.okta.com@evil.com/", // userinfo 'example.okta.com' at evil.com
                "https://user@example.okta.com/", // userinfo: not the origin as configured
                "https://example.okta.com:8443/api/v1/users", // another port
                "https://example.okta.com:4430/api/v1/users", // starts like the default port, is not
                "https://example.okta.com:/api/v1/users",
                "http://example.okta.com/api/v1/users", // another scheme
                "wss://example.okta.com/",
                "//example.okta.com/api/v1/users", // scheme-relative
                "/api/v1/users", // relative: already resolves against the gateway
                " https://example.okta.com/x", // not a URL as a whole: text that contains one
                "see https://example.okta.com/x",
                "https://example.o\u212Ata.com/x", // Kelvin sign: folds to 'k' in Unicode, not in ASCII
                "https://exampıe.okta.com/x",
                "https://example.okta.co",
                "",
        })
        void lookAlikesAndOtherUrlsAreLeftAsTheyAre(String value) {
            assertThat(OKTA.url(value)).isSameAs(value);
        }

        @Test
        void anExplicitNonDefaultPortMustBeWrittenExactly() {
            UpstreamLinks links = new UpstreamLinks(URI.create("http://127.0.0.1:9000"), GATEWAY);

            assertThat(links.url("http://127.0.0.1:9000/api/v1/users")).isEqualTo(GATEWAY + "/api/v1/users");
            assertThat(links.url("http://127.0.0.1:90001/api/v1/users")).isEqualTo("http://127.0.0.1:90001/api/v1/users");
            assertThat(links.url("http://127.0.0.1/api/v1/users")).isEqualTo("http://127.0.0.1/api/v1/users");
            assertThat(links.url("http://127.0.0.1:80/api/v1/users")).isEqualTo("http://127.0.0.1:80/api/v1/users");
        }

        @Test
        void anUpstreamBasePathIsTheGatewaysRootAndWhatIsOutsideItStays() {
            UpstreamLinks links = new UpstreamLinks(URI.create("https://api.example.com/v2/"), GATEWAY);

            assertThat(links.url("https://api.example.com/v2/users?page=2")).isEqualTo(GATEWAY + "/users?page=2");
            assertThat(links.url("https://api.example.com/v2")).isEqualTo(GATEWAY);
            assertThat(links.url("https://api.example.com/v20/users")).isEqualTo("https://api.example.com/v20/users");
            assertThat(links.url("https://api.example.com/V2/users")).isEqualTo("https://api.example.com/V2/users");
            assertThat(links.url("https://api.example.com/v1/users")).isEqualTo("https://api.example.com/v1/users");
        }
    }

    @Nested
    class Headers {
        @Test
        void everyReferenceInALinkHeaderIsRewrittenAndItsParametersKept() {
            String link = "<https://example.okta.com/api/v1/users?limit=2>; rel=\"self\", "
                    + "<https://example.okta.com/api/v1/users?after=00u2&limit=2>; rel=\"next\"";

            assertThat(OKTA.header("Link", link)).isEqualTo("<" + GATEWAY + "/api/v1/users?limit=2>; rel=\"self\", "
                    + "<" + GATEWAY + "/api/v1/users?after=00u2&limit=2>; rel=\"next\"");
        }

        @Test
        void aLinkHeaderKeepsLookAlikesAndQuotedParametersAsTheyAre() {
            String link = "<https://example.okta.com.evil.com/x>; rel=\"next\"; title=\"<https://example.okta.com/t>\", "
                    + "<https://example.okta.com/y>; rel=\"a\\\"<b>\"";

            assertThat(OKTA.header("link", link)).isEqualTo("<https://example.okta.com.evil.com/x>; rel=\"next\"; "
                    + "title=\"<https://example.okta.com/t>\", <" + GATEWAY + "/y>; rel=\"a\\\"<b>\"");
        }

        @Test
        void locationIsOneUrl() {
            assertThat(OKTA.header("Location", "https://example.okta.com/api/v1/users/00u1"))
                    .isEqualTo(GATEWAY + "/api/v1/users/00u1");
            assertThat(OKTA.header("Content-Location", "https://example.okta.com.evil.com/x"))
                    .isEqualTo("https://example.okta.com.evil.com/x");
            assertThat(UpstreamLinks.carriesUrls("LOCATION")).isTrue();
            assertThat(UpstreamLinks.carriesUrls("Content-Type")).isFalse();
        }

        @Test
        void anUnclosedReferenceIsLeftAlone() {
            assertThat(OKTA.header("Link", "<https://example.okta.com/x; rel=next")).isEqualTo("<https://example.okta.com/x; rel=next");
        }
    }

    /** As {@link HttpUpstream} streams a JSON response: masked, then every string value through {@link UpstreamLinks#url}. */
    @Nested
    class InJsonBodies {
        private static final JsonMasker MASKER = new JsonMasker();

        private static String body(String json, MaskPlan plan) throws IOException, MaskingException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            MASKER.mask(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), out, plan, OKTA::url);
            return out.toString(StandardCharsets.UTF_8);
        }

        private static String body(String json) throws IOException, MaskingException {
            return body(json, MaskPlan.NONE);
        }

        /** Test bodies are written with single quotes for readability. */
        private static String j(String singleQuoted) {
            return singleQuoted.replace('\'', '"');
        }

        @Test
        void oktasHalLinksPointAtTheGateway() throws Exception {
            String in = j("{'id':'00u1','_links':{'self':{'href':'https://example.okta.com/api/v1/users/00u1'},"
                    + "'deactivate':{'href':'https://example.okta.com/api/v1/users/00u1/lifecycle/deactivate','method':'POST'}}}");

            assertThat(body(in)).isEqualTo(j("{'id':'00u1','_links':{'self':{'href':'" + GATEWAY + "/api/v1/users/00u1'},"
                    + "'deactivate':{'href':'" + GATEWAY + "/api/v1/users/00u1/lifecycle/deactivate','method':'POST'}}}"));
        }

        @Test
        void urlsInArraysNestedObjectsAndOtherFieldsToo() throws Exception {
            String in = j("[{'next':'https://example.okta.com/api/v1/users?after=00u2',"
                    + "'_embedded':{'user':{'_links':{'self':{'href':'https://example.okta.com/api/v1/users/00u2'}}}},"
                    + "'logo':[{'href':'https://example.okta.com/bc/image/1'},'https://example.okta.com/bc/image/2'],"
                    + "'meta':{'location':'https://example.okta.com/scim/v2/Users/00u2'}}]");

            assertThat(body(in)).isEqualTo(j("[{'next':'" + GATEWAY + "/api/v1/users?after=00u2',"
                    + "'_embedded':{'user':{'_links':{'self':{'href':'" + GATEWAY + "/api/v1/users/00u2'}}}},"
                    + "'logo':[{'href':'" + GATEWAY + "/bc/image/1'},'" + GATEWAY + "/bc/image/2'],"
                    + "'meta':{'location':'" + GATEWAY + "/scim/v2/Users/00u2'}}]"));
        }

        @Test
        void lookAlikesTextFieldNamesAndNonStringsStay() throws Exception {
            String in = j("{'a':'https://example.okta.com.evil.com/x','b':'https://example.okta.comx/',"
                    + "'c':'https://user@example.okta.com/','d':'http://example.okta.com/x','e':'https://example.okta.com:8443/x',"
                    + "'f':'see https://example.okta.com/x','https://example.okta.com/k':1,'n':12.50,'t':true,'z':null}");

            assertThat(body(in)).isEqualTo(in);
        }

        @Test
        void escapedUrlsAreReadUnescapedAndWrittenBackEscapedAsNeeded() throws Exception {
            String in = "{\"href\":\"https:\\/\\/example.okta.com\\/api\\/v1\\/users?q=\\\"ann\\\"&x=\\u00e9\\t\","
                    + "\"h\":\"\\u0068ttps://EXAMPLE.okta.com/x\",\"evil\":\"https:\\/\\/example.okta.com\\u002eevil.com\\/\"}";

            assertThat(body(in)).isEqualTo("{\"href\":\"" + GATEWAY + "/api/v1/users?q=\\\"ann\\\"&x=\u00e9\\t\","
                    + "\"h\":\"" + GATEWAY + "/x\",\"evil\":\"https://example.okta.com.evil.com/\"}");
        }

        @Test
        void aMaskedHrefIsMaskedNotRewritten() throws Exception {
            String in = j("{'_links':{'self':{'href':'https://example.okta.com/api/v1/users/00u1'},"
                    + "'next':{'href':'https://example.okta.com/api/v1/users?after=00u1'}}}");

            assertThat(body(in, new MaskPlan(List.of("self.href"), Set.of())))
                    .isEqualTo(j("{'_links':{'self':{'href':'[masked]'},'next':{'href':'" + GATEWAY + "/api/v1/users?after=00u1'}}}"));
            assertThat(body(in, new MaskPlan(List.of("_links"), Set.of()))).isEqualTo(j("{'_links':'[masked]'}"));
        }

        @Test
        void detectorsStillMaskWhatALinkCarries() throws Exception {
            String in = j("{'self':'https://example.okta.com/api/v1/users/ann@example.com'}");

            assertThat(body(in, new MaskPlan(List.of(), EnumSet.of(Detector.EMAIL))))
                    .isEqualTo(j("{'self':'" + GATEWAY + "/api/v1/users/[email]'}"));
        }

        @Test
        void aBrokenBodyStillFailsClosed() {
            assertThatThrownBy(() -> body("{\"href\":\"https://example.okta.com/x\",")).isInstanceOf(MaskingException.class);
        }

        /**
         * A lazily generated array of users: by the time the last user is produced, the rewritten
         * links of the first ones must already be out, so nothing waits for (or holds) the whole body.
         */
        @Test
        void rewritingStreamsAsTheBodyArrives() throws Exception {
            int users = 5_000;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int[] writtenBeforeTheLastUser = {-1};
            InputStream in = new InputStream() {
                private int next = -1;
                private byte[] chunk = new byte[0];
                private int pos;

                @Override
                public int read() {
                    while (pos == chunk.length) {
                        if (next > users) return -1;
                        if (next == users - 1) writtenBeforeTheLastUser[0] = out.size();
                        String s = next == -1 ? "[" : next == users ? "]"
                                : (next > 0 ? "," : "") + j("{'id':'00u" + next + "','_links':{'self':{'href':"
                                        + "'https://example.okta.com/api/v1/users/00u" + next + "'}}}");
                        next++;
                        chunk = s.getBytes(StandardCharsets.UTF_8);
                        pos = 0;
                    }
                    return chunk[pos++] & 0xff;
                }
            };

            MASKER.mask(in, out, MaskPlan.NONE, OKTA::url);

            String result = out.toString(StandardCharsets.UTF_8);
            assertThat(result).doesNotContain("example.okta.com").contains(GATEWAY + "/api/v1/users/00u4999\"");
            assertThat(writtenBeforeTheLastUser[0]).isGreaterThan(result.length() / 2);
            assertThat(result.substring(0, writtenBeforeTheLastUser[0])).contains(GATEWAY + "/api/v1/users/00u0\"");
        }
    }
}
