package dev.portcullis.dev;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The development issuer's sign-in for browsers (for the console in dev mode): the authorization code
 * flow with PKCE S256 over real HTTP; the code is one-time, bound to its client, redirect URI and
 * verifier; requests without PKCE are refused; the page escapes what it is sent.
 */
class DevIssuerSignInTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String VERIFIER = "a-verifier-of-at-least-forty-three-characters-0123456789";
    static final String REDIRECT = "http://127.0.0.1:18080/console/callback";

    DevIssuer issuer;
    final HttpClient http = HttpClient.newHttpClient(); // follows no redirects

    @BeforeEach
    void start() {
        issuer = DevIssuer.start();
    }

    @AfterEach
    void stop() {
        issuer.close();
    }

    static String form(Map<String, String> fields) {
        return fields.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
    }

    static Map<String, String> authorization(String state) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("response_type", "code");
        p.put("client_id", "portcullis-console");
        p.put("redirect_uri", REDIRECT);
        p.put("scope", "openid profile email groups");
        p.put("state", state);
        p.put("nonce", "n-0S6_WzA2Mj");
        p.put("code_challenge", DevAuthorizationCodes.s256(VERIFIER));
        p.put("code_challenge_method", "S256");
        return p;
    }

    HttpResponse<String> post(String path, Map<String, String> fields) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(issuer.issuer() + path)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(fields))).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Signs in as {@code subject} on the page's form; returns the code from the redirect. */
    String signIn(Map<String, String> request, String subject, String groups) throws Exception {
        Map<String, String> chosen = new LinkedHashMap<>(request);
        chosen.put("subject", subject);
        chosen.put("groups", groups);
        HttpResponse<String> back = post("/authorize", chosen);
        assertThat(back.statusCode()).as(back.body()).isEqualTo(303);
        URI location = URI.create(back.headers().firstValue("Location").orElseThrow());
        assertThat(location.toString()).startsWith(REDIRECT + "?code=").endsWith("&state=" + URLEncoder.encode(request.get("state"), StandardCharsets.UTF_8));
        return location.getQuery().replaceAll("^code=([^&]+)&.*$", "$1");
    }

    Map<String, String> exchange(String code, String verifier) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("grant_type", "authorization_code");
        f.put("code", code);
        f.put("client_id", "portcullis-console");
        f.put("redirect_uri", REDIRECT);
        f.put("code_verifier", verifier);
        return f;
    }

    @Test
    void aBrowserSignsInWithPkceAndGetsAnIdTokenForTheClient() throws Exception {
        JsonNode discovery = JSON.readTree(http.send(HttpRequest.newBuilder(issuer.discoveryUri()).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(discovery.path("authorization_endpoint").asText()).isEqualTo(issuer.authorizationEndpoint().toString());
        assertThat(discovery.path("code_challenge_methods_supported").toString()).isEqualTo("[\"S256\"]");

        Map<String, String> request = authorization("st-1");
        String query = form(request);
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(issuer.authorizationEndpoint() + "?" + query)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("NOT FOR PRODUCTION").contains("Sign in as approver-1 (sre, dba, okta-admins)");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElse("")).contains("default-src 'none'");

        String code = signIn(request, "approver-1", "sre,dba");
        HttpResponse<String> tokens = post("/token", exchange(code, VERIFIER));
        assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
        JsonNode t = JSON.readTree(tokens.body());
        SignedJWT id = SignedJWT.parse(t.path("id_token").asText());
        RSAKey key = (RSAKey) issuer.publicKeys().getKeyByKeyId(id.getHeader().getKeyID());
        assertThat(id.verify(new RSASSAVerifier(key))).isTrue();
        assertThat(id.getJWTClaimsSet().getAudience()).containsExactly("portcullis-console");
        assertThat(id.getJWTClaimsSet().getSubject()).isEqualTo("approver-1");
        assertThat(id.getJWTClaimsSet().getStringClaim("nonce")).isEqualTo("n-0S6_WzA2Mj");
        assertThat(id.getJWTClaimsSet().getStringListClaim("groups")).containsExactly("sre", "dba");
        assertThat(SignedJWT.parse(t.path("access_token").asText()).getJWTClaimsSet().getAudience()).containsExactly(issuer.audience());

        HttpResponse<String> again = post("/token", exchange(code, VERIFIER));
        assertThat(again.statusCode()).as("a code is good once").isEqualTo(400);
        assertThat(again.body()).contains("invalid_grant");
    }

    @Test
    void withoutTheVerifierOrPkceOrWithAnotherClientNothingIsIssued() throws Exception {
        String code = signIn(authorization("st-2"), "viewer-1", "");
        HttpResponse<String> wrong = post("/token", exchange(code, "another-verifier-of-at-least-forty-three-characters-000"));
        assertThat(wrong.statusCode()).isEqualTo(400);
        assertThat(wrong.body()).contains("code_verifier does not match");

        Map<String, String> otherClient = exchange(signIn(authorization("st-3"), "viewer-1", ""), VERIFIER);
        otherClient.put("client_id", "someone-else");
        assertThat(post("/token", otherClient).body()).contains("another client");

        Map<String, String> noPkce = authorization("st-4");
        noPkce.remove("code_challenge");
        HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(issuer.authorizationEndpoint() + "?" + form(noPkce))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("PKCE");
        Map<String, String> plain = authorization("st-5");
        plain.put("code_challenge_method", "plain");
        assertThat(post("/authorize", plain).body()).contains("S256");
    }

    @Test
    void thePageEscapesWhatItIsSent() throws Exception {
        Map<String, String> request = authorization("\"><script>alert(1)</script>");
        request.put("client_id", "<img src=x onerror=alert(1)>");
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(issuer.authorizationEndpoint() + "?" + form(request))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).doesNotContain("<script>").doesNotContain("<img").contains("&lt;script&gt;").contains("&lt;img");
    }
}
