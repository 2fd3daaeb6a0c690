package dev.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.core.Json;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code portcullis ssh-login}: exchanges the agent's OIDC token at the gateway for a short-lived OpenSSH
 * user certificate, and writes a fresh key, the certificate, the gateway's pinned host key and an
 * {@code ssh_config} snippet, so that {@code ssh -F <snippet> <connection> 'uptime'} just works.
 */
@Command(name = "ssh-login", mixinStandardHelpOptions = true,
        header = "Get a short-lived SSH certificate for a connection with the agent's OIDC token.",
        description = {"Exchanges the agent's OIDC token at the gateway's admin API for an OpenSSH user certificate",
                "(default 10 minutes) on a fresh key, and writes the key, the certificate, the gateway's host key",
                "(pinned) and an ssh_config snippet: then ssh -F DIR/ssh_config CONNECTION 'uptime'."})
final class SshLoginCommand implements Callable<Integer> {
    @Option(names = "--connection", required = true, paramLabel = "NAME", description = "The SSH connection's name.")
    String connection;

    @Option(names = "--server", defaultValue = "http://127.0.0.1:8080", paramLabel = "URL",
            description = "The gateway's admin API (default: ${DEFAULT-VALUE}).")
    URI server;

    @Option(names = "--token-env", defaultValue = KubeCredentialsCommand.DEFAULT_TOKEN_ENV, paramLabel = "VAR",
            description = "Where the agent's token is (default: ${DEFAULT-VALUE}).")
    String tokenEnv;

    @Option(names = "--token-file", paramLabel = "FILE", description = "Read the token from this file instead.")
    Path tokenFile;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to write the files (default: ~/.portcullis/ssh).")
    Path dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String token = tokenFile != null ? Files.readString(tokenFile).strip() : System.getenv(tokenEnv);
        if (token == null || token.isBlank()) {
            spec.commandLine().getErr().println("portcullis ssh-login: no agent token: set $" + tokenEnv + " or give --token-file");
            return 2;
        }
        Path out = dir != null ? dir : Path.of(System.getProperty("user.home"), ".portcullis", "ssh");
        Files.createDirectories(out);
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair key = generator.generateKeyPair();
        String body = Json.mapper().createObjectNode().put("connection", connection).put("publicKey", PublicKeyEntry.toString(key.getPublic())).toString();
        HttpResponse<String> answer = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build().send(
                HttpRequest.newBuilder(server.resolve("/api/v1/ssh/certificates")).timeout(Duration.ofSeconds(30))
                        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode reply = Json.mapper().readTree(answer.body().isEmpty() ? "{}" : answer.body());
        if (answer.statusCode() != 200) {
            spec.commandLine().getErr().println("portcullis ssh-login: refused (" + answer.statusCode() + "): " + reply.path("detail").asText(answer.body()));
            return 1;
        }
        Path keyFile = out.resolve(connection);
        Path partial = out.resolve(connection + ".partial");
        try (OutputStream o = Files.newOutputStream(partial)) {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(key, "portcullis " + connection, null, o);
        }
        owned(partial);
        Files.move(partial, keyFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Path cert = Files.writeString(out.resolve(connection + "-cert.pub"), reply.path("certificate").asText() + "\n");
        Path knownHosts = Files.writeString(out.resolve("known_hosts-" + connection), reply.path("knownHosts").asText() + "\n");
        Path config = Files.writeString(out.resolve("ssh_config"), """
                Host %s
                  HostName %s
                  Port %d
                  User %s
                  IdentityFile %s
                  CertificateFile %s
                  IdentitiesOnly yes
                  UserKnownHostsFile %s
                  StrictHostKeyChecking yes
                  ForwardAgent no
                  ForwardX11 no
                  ClearAllForwardings yes
                """.formatted(connection, reply.path("host").asText(), reply.path("port").asInt(), reply.path("principal").asText(),
                keyFile.toAbsolutePath(), cert.toAbsolutePath(), knownHosts.toAbsolutePath()));
        spec.commandLine().getErr().println("wrote " + config + " (certificate valid " + reply.path("validFor").asText() + " for "
                + reply.path("principal").asText() + "); try: ssh -F " + config + " " + connection + " uptime");
        return 0;
    }

    private static void owned(Path file) throws java.io.IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not POSIX
        }
    }
}
