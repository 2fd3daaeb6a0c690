package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
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
            try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
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
        // One-byte segments: every batch goes to the next segment file, which the test points at
        // /dev/full, a real device whose every write fails with ENOSPC (a full disk).
        try (OktaGatewayFixture f = new OktaGatewayFixture(data, 3, yaml -> yaml.replace(
                "  path: ${PORTCULLIS_DATA:-./data}/portcullis.db\n",
                "  path: ${PORTCULLIS_DATA:-./data}/portcullis.db\n  trail-segment-bytes: 1\n"))) {
            String token = f.token("agent-1", "agents");
            assertThat(f.send("GET", "/api/v1/users?limit=1", token, null).statusCode()).isEqualTo(200);
            f.okta.reset();
            Path trail = dev.portcullis.store.LoggedStore.trailDirectory(data.resolve("portcullis.db"));
            Path next;
            try (var files = java.nio.file.Files.list(trail)) {
                long newest = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("trail-"))
                        .mapToLong(n -> Long.parseLong(n.replaceAll("\\D", ""))).max().orElseThrow();
                Path newestFile = trail.resolve(String.format("trail-%012d.log", newest));
                // The sync thread may have created the next segment ahead (empty, or all zeros): that one is replaced, and the
                // trail must notice it is no longer the file it prepared.
                next = java.nio.file.Files.size(newestFile) == 0 || java.nio.file.Files.readAllBytes(newestFile)[0] == 0 ? newestFile : trail.resolve(String.format("trail-%012d.log", newest + 1));
            }
            java.nio.file.Files.deleteIfExists(next);
            java.nio.file.Files.createSymbolicLink(next, Path.of("/dev/full"));

            HttpResponse<String> write = f.send("POST", "/api/v1/users", token,
                    "{\"profile\":{\"login\":\"x@example.com\",\"email\":\"x@example.com\"}}");
            HttpResponse<String> read = f.send("GET", "/api/v1/users?limit=1", token, null);

            assertThat(write.statusCode()).isEqualTo(503);
            assertThat(write.body()).contains("recording store is unavailable").contains("No space left on device");
            assertThat(read.statusCode()).as("a read is refused too: its response would go unrecorded").isEqualTo(503);
            assertThat(f.okta.received()).as("nothing reached the target").isEmpty();
            assertThat(f.admin("/readyz").statusCode()).isEqualTo(503);

            // Space again: the gateway serves and records again, and the trail verifies.
            java.nio.file.Files.delete(next);
            assertThat(f.send("GET", "/api/v1/users?limit=1", token, null).statusCode()).isEqualTo(200);
            assertThat(f.admin("/readyz").statusCode()).isEqualTo(200);
            try (var store = dev.portcullis.store.LoggedStore.openForReading(data.resolve("portcullis.db"))) {
                assertThat(dev.portcullis.recording.AuditVerifier.verify(store).ok()).isTrue();
            }
        }
    }
}
