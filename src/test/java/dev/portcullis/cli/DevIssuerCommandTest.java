package dev.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.dev.DevIssuer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code portcullis dev-issuer}: a running issuer on the asked port and a token a gateway would accept. */
class DevIssuerCommandTest {
    @TempDir
    Path dir;

    @Test
    void servesDiscoveryOnTheAskedPortAndWritesAVerifiableTokenToTheFile() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path tokenFile = dir.resolve("token");
        DevIssuerCommand command = new DevIssuerCommand();
        new CommandLine(command).parseArgs("--port", String.valueOf(port), "--audience", "bench",
                "--subject", "agent-9", "--groups", "agents,readers", "--token-file", tokenFile.toString());
        ByteArrayOutputStream printed = new ByteArrayOutputStream();

        try (DevIssuer issuer = command.start(new PrintStream(printed, true, StandardCharsets.UTF_8));
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + port;
            assertThat(issuer.issuer()).isEqualTo(URI.create(base));
            HttpResponse<String> discovery = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/.well-known/openid-configuration")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(discovery.statusCode()).isEqualTo(200);
            assertThat(discovery.body()).contains("\"issuer\":\"" + base + "\"", "\"jwks_uri\":\"" + base + "/jwks\"");
            String jwks = http.send(HttpRequest.newBuilder(URI.create(base + "/jwks")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();

            String token = Files.readString(tokenFile);
            String out = printed.toString(StandardCharsets.UTF_8);
            assertThat(out).contains("NOT FOR PRODUCTION", base, "export TOKEN=" + token,
                    "export PORTCULLIS_OIDC_ISSUER=" + base + " PORTCULLIS_OIDC_AUDIENCE=bench");

            SignedJWT jwt = SignedJWT.parse(token);
            var key = JWKSet.parse(jwks).getKeyByKeyId(jwt.getHeader().getKeyID()).toRSAKey();
            assertThat(jwt.verify(new RSASSAVerifier(key))).isTrue();
            var claims = jwt.getJWTClaimsSet();
            assertThat(claims.getIssuer()).isEqualTo(base);
            assertThat(claims.getAudience()).containsExactly("bench");
            assertThat(claims.getSubject()).isEqualTo("agent-9");
            assertThat(claims.getStringListClaim("groups")).containsExactly("agents", "readers");
            assertThat(Duration.between(Instant.now(), claims.getExpirationTime().toInstant()))
                    .isBetween(Duration.ofMinutes(59), Duration.ofMinutes(61));
        }
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).as("no partial token file left behind").containsExactly(tokenFile);
        }
    }
}
