package dev.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.portcullis.testing.Kubectl;
import dev.portcullis.testing.SelfSignedKeyStore;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code portcullis kubeconfig} and its exec credential plugin, driven by the real kubectl: kubectl runs
 * the plugin, and the agent's token is what reaches the server, as a bearer token; nothing else in the
 * kubeconfig is a credential.
 */
class KubeconfigForKubectlTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static String token(Instant expiry) throws Exception {
        var key = new RSAKeyGenerator(2048).keyID("k1").generate();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(),
                new JWTClaimsSet.Builder().subject("agent-1").expirationTime(Date.from(expiry)).build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    record Run(int exit, String out, String err) {
    }

    static Run cli(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        var cl = Main.commandLine(env);
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void thePluginPrintsAnExecCredentialWithTheTokensExpiryAndRefusesWithoutAToken() throws Exception {
        Instant exp = Instant.parse("2030-01-02T03:04:05Z");
        String token = token(exp);

        Run ok = cli(Map.of("AGENT_TOKEN", token + "\n"), "kube-credentials", "--token-env", "AGENT_TOKEN");
        assertThat(ok.exit()).as(ok.err()).isZero();
        JsonNode credential = JSON.readTree(ok.out());
        assertThat(credential.path("apiVersion").asText()).isEqualTo("client.authentication.k8s.io/v1");
        assertThat(credential.path("kind").asText()).isEqualTo("ExecCredential");
        assertThat(credential.path("status").path("token").asText()).isEqualTo(token);
        assertThat(credential.path("status").path("expirationTimestamp").asText()).isEqualTo("2030-01-02T03:04:05Z");

        Path file = dir.resolve("token");
        Files.writeString(file, token);
        assertThat(JSON.readTree(cli(Map.of(), "kube-credentials", "--token-file", file.toString()).out())
                .path("status").path("token").asText()).isEqualTo(token);

        Run none = cli(Map.of(), "kube-credentials", "--token-env", "AGENT_TOKEN");
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.out()).isEmpty();
        assertThat(none.err()).contains("no agent token in $AGENT_TOKEN");
    }

    @Test
    void kubectlRunsThePluginAndSendsTheAgentsTokenToTheServer() throws Exception {
        String token = token(Instant.now().plusSeconds(3600));
        List<String> authorizations = new CopyOnWriteArrayList<>();
        // TLS, as a Kubernetes connection's listener is (kubectl sends exec credentials only over TLS).
        SelfSignedKeyStore keyStore = SelfSignedKeyStore.create(dir.resolve("gateway.p12"), "changeit");
        Path ca = keyStore.writePem(dir.resolve("ca.pem"));
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(keyStore.path())) {
            ks.load(in, keyStore.password().toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, keyStore.password().toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/", ex -> {
            authorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            byte[] body = "{\"major\":\"1\",\"minor\":\"33\",\"gitVersion\":\"v1.33.0\",\"platform\":\"linux/amd64\"}"
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(ex.getRequestURI().getPath().equals("/version") ? 200 : 404, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            // kubectl runs this as the plugin: the CLI on this test's class path, as bin/portcullis would run it.
            Path plugin = dir.resolve("portcullis");
            Files.writeString(plugin, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
                    + "' -cp '" + System.getProperty("java.class.path") + "' dev.portcullis.cli.Main \"$@\"\n");
            Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwx------"));
            Path kubeconfig = dir.resolve("kubeconfig");
            Run written = cli(Map.of(), "kubeconfig", "--server", "https://127.0.0.1:" + server.getAddress().getPort(),
                    "--connection", "cluster", "--ca-file", ca.toString(), "--command", plugin.toString(), "--token-env", "AGENT_TOKEN", "-o", kubeconfig.toString());
            assertThat(written.exit()).as(written.err()).isZero();
            String text = Files.readString(kubeconfig);
            assertThat(text).contains("interactiveMode: Never", "client.authentication.k8s.io/v1").doesNotContain(token);

            for (String kubectl : List.of(Kubectl.binary("1.27"), Kubectl.binary("1.33"))) {
                authorizations.clear();
                ProcessBuilder pb = new ProcessBuilder(kubectl, "--kubeconfig", kubeconfig.toString(), "version", "-o", "json",
                        "--request-timeout=20s");
                pb.environment().put("AGENT_TOKEN", token);
                pb.redirectErrorStream(true);
                Process p = pb.start();
                String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as(kubectl + ": " + output).isZero();
                assertThat(JSON.readTree(output.substring(output.indexOf('{'))).path("serverVersion").path("gitVersion").asText())
                        .isEqualTo("v1.33.0");
                assertThat(authorizations).as(kubectl).isNotEmpty().allSatisfy(a -> assertThat(a).isEqualTo("Bearer " + token));
            }
        } finally {
            server.stop(0);
        }
    }
}
