package dev.portcullis.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.portcullis.config.ConsoleConfig;
import dev.portcullis.identity.IdentityConfig;
import dev.portcullis.store.EmbeddedStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Groups that only userinfo knows: Okta's ID tokens carry no groups unless the app has a groups claim,
 * and neither test issuer at hand (mock-oauth2-server, the development issuer) can leave them out of the
 * ID token while userinfo has them. So this provider, over HTTP on loopback, speaks the standard's wire
 * format (discovery, JWKS, token, userinfo) with tokens signed by Nimbus, and lets the tests choose what
 * userinfo answers.
 */
class GroupsFromUserinfoTest {
    static final String CLIENT = "portcullis-console";

    @TempDir
    Path dir;
    HttpServer idp;
    RSAKey key;
    String issuer;
    String lastNonce;
    /** What userinfo answers: its status and body. */
    int userinfoStatus = 200;
    String userinfoBody;
    EmbeddedStore store;
    ConsoleSessions sessions;
    OidcSignIn signIn;

    @BeforeEach
    void start() throws Exception {
        key = new RSAKeyGenerator(2048).keyID("k1").generate();
        idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer = "http://127.0.0.1:" + idp.getAddress().getPort();
        idp.createContext("/.well-known/openid-configuration", ex -> send(ex, 200, """
                {"issuer":"%1$s","authorization_endpoint":"%1$s/authorize","token_endpoint":"%1$s/token",
                 "userinfo_endpoint":"%1$s/userinfo","jwks_uri":"%1$s/jwks","response_types_supported":["code"],
                 "subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}""".formatted(issuer)));
        idp.createContext("/jwks", ex -> send(ex, 200, new JWKSet(key.toPublicJWK()).toString()));
        idp.createContext("/token", ex -> {
            try {
                SignedJWT id = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").type(JOSEObjectType.JWT).build(),
                        new JWTClaimsSet.Builder().issuer(issuer).audience(CLIENT).subject("okta-user-1").issueTime(new Date())
                                .expirationTime(new Date(System.currentTimeMillis() + 300_000)).claim("nonce", lastNonce)
                                .claim("email", "someone@example.com").build()); // no groups claim
                id.sign(new RSASSASigner(key));
                send(ex, 200, "{\"access_token\":\"opaque-at\",\"token_type\":\"Bearer\",\"expires_in\":300,\"id_token\":\"" + id.serialize() + "\"}");
            } catch (Exception e) {
                send(ex, 500, "{}");
            }
        });
        idp.createContext("/userinfo", ex -> send(ex, userinfoStatus, userinfoBody));
        idp.start();

        store = EmbeddedStore.open(dir.resolve("portcullis.db"));
        ConsoleConfig console = new ConsoleConfig(CLIENT, Optional.empty(), URI.create("http://127.0.0.1:8080/console/callback"),
                ConsoleConfig.DEFAULT_SCOPES, Duration.ofHours(8), Duration.ofHours(1));
        sessions = new ConsoleSessions(store, console, Clock.systemUTC());
        signIn = new OidcSignIn(new IdentityConfig(URI.create(issuer), "portcullis", "groups", Set.of("RS256"), Duration.ofSeconds(30),
                8192, Optional.empty(), Duration.ofMinutes(1)), console, sessions);
    }

    @AfterEach
    void stop() {
        idp.stop(0);
        store.close();
    }

    static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    /** Starts a sign-in and comes back from the provider with a code, as the browser would. */
    OidcSignIn.Outcome signInAndReturn() throws Exception {
        OidcSignIn.Start start = signIn.begin("/console/approvals");
        Map<String, String> q = new HashMap<>();
        for (String part : start.authorizationRequest().getRawQuery().split("&")) {
            String[] kv = part.split("=", 2);
            q.put(kv[0], URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
        }
        lastNonce = q.get("nonce");
        return signIn.finish(URI.create("http://127.0.0.1:8080/console/callback?code=c1&state=" + q.get("state")), start.browserBinding());
    }

    @Test
    void withoutGroupsInTheIdTokenTheyAreTakenFromUserinfo() throws Exception {
        userinfoBody = "{\"sub\":\"okta-user-1\",\"groups\":[\"dba\",\"sre\"]}";
        OidcSignIn.Outcome outcome = signInAndReturn();
        assertThat(outcome).isInstanceOf(OidcSignIn.SignedIn.class);
        var session = sessions.find(((OidcSignIn.SignedIn) outcome).sessionCookie()).orElseThrow();
        assertThat(session.identity().subject()).isEqualTo("okta-user-1");
        assertThat(session.identity().groups()).containsExactlyInAnyOrder("dba", "sre");
        assertThat(session.identity().claims()).containsEntry("email", "someone@example.com");
    }

    @Test
    void userinfoAboutSomeoneElseSignsNobodyIn() throws Exception {
        userinfoBody = "{\"sub\":\"another-user\",\"groups\":[\"dba\"]}";
        assertThat(signInAndReturn()).isInstanceOfSatisfying(OidcSignIn.Refused.class,
                r -> assertThat(r.detail()).contains("another subject"));
    }

    @Test
    void userinfoThatCannotAnswerSignsNobodyInRatherThanWithoutGroups() throws Exception {
        userinfoStatus = 500;
        userinfoBody = "{}";
        assertThat(signInAndReturn()).isInstanceOfSatisfying(OidcSignIn.Refused.class, r -> {
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.detail()).contains("userinfo");
        });
    }
}
