package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.store.EmbeddedStore;
import dev.portcullis.store.SessionQuery;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When something the gateway depends on is gone, the agent gets a clear refusal, and it is recorded. */
class FailClosedTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path data;

    @Test
    void aDeadUpstreamGives502NamingTheConnectionAndIsRecorded() throws Exception {
        URI dead = URI.create("http://127.0.0.1:" + OktaGatewayFixture.freePort());
        try (OktaGatewayFixture f = new OktaGatewayFixture(data, 1, dead)) {
            HttpResponse<String> r = f.send("GET", "/api/v1/users", f.token("agent-1", "agents"), null);

            assertThat(r.statusCode()).isEqualTo(502);
            JsonNode problem = JSON.readTree(r.body());
            assertThat(problem.path("connection").asText()).isEqualTo("okta");
            assertThat(problem.path("detail").asText()).contains("connection 'okta'").contains("did not answer");
            try (EmbeddedStore store = EmbeddedStore.open(data.resolve("portcullis.db"))) {
                var session = store.sessions(SessionQuery.newest().subject("agent-1")).getFirst();
                assertThat(new dev.portcullis.recording.Replay(store, java.time.ZoneOffset.UTC).text(session.id()))
                        .contains("upstream: failed: connection 'okta'");
            }
        }
    }

    @Test
    void anIdentityProviderThatNeverAnsweredRefusesEveryTokenWith503AndTheGatewayIsNotReady() throws Exception {
        URI deadIssuer = URI.create("http://127.0.0.1:" + OktaGatewayFixture.freePort() + "/default");
        try (OktaGatewayFixture f = new OktaGatewayFixture(data, 1, null, deadIssuer)) {
            // A well-formed token naming the configured issuer: only that issuer's keys could check it.
            var key = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID("k1").generate();
            var claims = new com.nimbusds.jwt.JWTClaimsSet.Builder().issuer(deadIssuer.toString())
                    .audience(OktaGatewayFixture.AUDIENCE).subject("agent-1")
                    .expirationTime(new java.util.Date(System.currentTimeMillis() + 600_000)).build();
            var jwt = new com.nimbusds.jwt.SignedJWT(new com.nimbusds.jose.JWSHeader.Builder(
                    com.nimbusds.jose.JWSAlgorithm.RS256).keyID("k1").build(), claims);
            jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(key));
            HttpResponse<String> r = f.send("GET", "/api/v1/users?limit=1", jwt.serialize(), null);

            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("has not answered discovery", "okta");
            assertThat(f.okta.received()).isEmpty();
            HttpResponse<String> ready = f.admin("/readyz");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("not-ready", "OIDC discovery");
            assertThat(f.admin("/metrics").body())
                    .contains("portcullis_token_failures_total{connection=\"okta\",reason=\"idp-unavailable\"}");
        }
    }

    @Test
    void keysFetchedAtStartBridgeAnIdentityProviderOutage() throws Exception {
        try (OktaGatewayFixture f = new OktaGatewayFixture(data, 1)) {
            String token = f.token("agent-1", "agents");
            f.issuer.shutdown();

            assertThat(f.send("GET", "/api/v1/users?limit=1", token, null).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aWriteThatCannotBeRecordedIsRefusedAndNeverReachesTheTarget() throws Exception {
        try (OktaGatewayFixture f = new OktaGatewayFixture(data, 3)) {
            String token = f.token("agent-1", "agents");
            assertThat(f.send("GET", "/api/v1/users?limit=1", token, null).statusCode()).isEqualTo(200);
            f.okta.reset();
            // Another process holds the store's write lock past the gateway's busy timeout.
            try (var lock = java.sql.DriverManager.getConnection("jdbc:sqlite:" + data.resolve("portcullis.db"));
                 var st = lock.createStatement()) {
                st.execute("BEGIN EXCLUSIVE");
                HttpResponse<String> r = f.send("POST", "/api/v1/users", token,
                        "{\"profile\":{\"login\":\"x@example.com\",\"email\":\"x@example.com\"}}");

                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.body()).contains("recording store is unavailable");
                assertThat(f.okta.received()).isEmpty();
                assertThat(f.admin("/readyz").statusCode()).isEqualTo(503);
                st.execute("ROLLBACK");
            }
            assertThat(f.send("GET", "/api/v1/users?limit=1", token, null).statusCode()).isEqualTo(200);
        }
    }
}
