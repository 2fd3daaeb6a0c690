package dev.portcullis.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.ssh.UserCertificates;
import java.io.IOException;
import java.security.PublicKey;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/v1/ssh/certificates}: an agent exchanges its OIDC token for a short-lived OpenSSH user
 * certificate of an SSH connection ({@code {"connection": "web", "publicKey": "ecdsa-sha2-nistp256 AAAA..."}}),
 * because OpenSSH cuts passwords at 1,023 bytes and tokens are longer. The answer carries the certificate,
 * the principal to log in as, and the known_hosts line that pins the gateway's host key.
 */
final class SshCertificatesApi {
    private static final Logger log = LoggerFactory.getLogger(SshCertificatesApi.class);
    static final String PATH = "/api/v1/ssh/certificates";
    static final int MAX_BODY_BYTES = 16 * 1024;
    private static final ObjectMapper JSON = Json.mapper();

    /**
     * @param agent authenticated by its own token (a certificate is never issued for a console session)
     * @param token that token: each login with the certificate checks it again
     */
    SessionsApi.Reply handle(String method, Identity agent, String token, byte[] body) {
        if (!method.equals("POST")) return problem(405, "Method not allowed", "use POST");
        if (body.length > MAX_BODY_BYTES) return problem(413, "Request body too large", "at most " + MAX_BODY_BYTES + " bytes");
        String connection;
        PublicKey key;
        try {
            JsonNode json = JSON.readTree(body);
            connection = json.path("connection").asText("");
            key = AuthorizedKeyEntry.parseAuthorizedKeyEntry(json.path("publicKey").asText("").strip())
                    .resolvePublicKey(null, PublicKeyEntryResolver.FAILING);
        } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
            return problem(400, "Bad request", "expected {\"connection\": NAME, \"publicKey\": \"<an OpenSSH public key line>\"}: " + e.getMessage());
        }
        var authority = UserCertificates.of(connection);
        if (authority.isEmpty() || authority.get().endpoint().isEmpty()) {
            return problem(404, "No such SSH connection", "no SSH connection named '" + connection + "' runs here");
        }
        try {
            String certificate = authority.get().issue(agent, key, token);
            UserCertificates.Endpoint endpoint = authority.get().endpoint().get();
            log.info("ssh certificate for {} on {} issued, valid {}", agent.subject(), connection, authority.get().ttl());
            return new SessionsApi.Reply(200, "application/json", JSON.createObjectNode()
                    .put("certificate", certificate).put("principal", agent.subject()).put("host", endpoint.host())
                    .put("port", endpoint.port()).put("knownHosts", endpoint.knownHostsLine())
                    .put("validFor", authority.get().ttl().toString()).toString());
        } catch (Exception e) {
            return problem(400, "Bad request", "this key cannot be certified: " + e.getMessage());
        }
    }

    private static SessionsApi.Reply problem(int status, String title, String detail) {
        return new SessionsApi.Reply(status, "application/problem+json", JSON.createObjectNode().put("type", "about:blank")
                .put("title", title).put("status", status).put("detail", detail).toString());
    }
}
