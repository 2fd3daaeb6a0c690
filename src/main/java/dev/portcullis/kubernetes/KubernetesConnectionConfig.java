package dev.portcullis.kubernetes;

import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.TlsConfig;
import dev.portcullis.http.HttpConnectionConfig;
import dev.portcullis.masking.Redactor;
import dev.portcullis.policy.Policy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A Kubernetes cluster's API server, reached with the gateway's own credential.
 *
 * @param tls               the listener's key store; kubectl hands exec-plugin credentials over TLS only
 * @param allowPlaintext    as for HTTP connections
 * @param upstreamUrl       the API server, e.g. {@code https://10.0.0.1:6443}
 * @param caFile            PEM certificates the API server's certificate must chain to; empty: the JVM's trust store
 * @param token             a bearer token (a service account's), or empty with a client certificate
 * @param clientCertificate PEM certificate chain of the gateway's client certificate
 * @param clientKey         its PKCS#8 PEM private key
 * @param impersonateUser   when set, every upstream request acts as this user ({@code Impersonate-User}),
 *                          which the gateway's credential must be allowed to impersonate
 * @param impersonateGroups with {@code impersonateUser}: its groups
 * @param via               the network agent the API server is reached through, if any
 */
public record KubernetesConnectionConfig(String name, InetSocketAddress listen, Optional<TlsConfig> tls, boolean allowPlaintext,
                                         URI upstreamUrl, Optional<Path> caFile, Optional<String> token,
                                         Optional<Path> clientCertificate, Optional<Path> clientKey,
                                         Optional<String> impersonateUser, List<String> impersonateGroups,
                                         Duration connectTimeout, Duration responseTimeout, long maxRequestBytes,
                                         Policy policy, Redactor redactor, Optional<String> via) implements ConnectionConfig {

    public static final long DEFAULT_MAX_REQUEST_BYTES = 3L * 1024 * 1024; // the API server's own limit

    public KubernetesConnectionConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(upstreamUrl, "upstreamUrl");
        if (token.isEmpty() && clientCertificate.isEmpty()) {
            throw new IllegalArgumentException("connection '" + name + "' needs a token or a client certificate");
        }
        if (clientCertificate.isPresent() != clientKey.isPresent()) {
            throw new IllegalArgumentException("connection '" + name + "': a client certificate needs its key, and the other way round");
        }
        impersonateGroups = List.copyOf(impersonateGroups);
        Objects.requireNonNull(via, "via");
        if (!impersonateGroups.isEmpty() && impersonateUser.isEmpty()) {
            throw new IllegalArgumentException("connection '" + name + "': impersonated groups need an impersonated user");
        }
    }

    @Override
    public String type() {
        return "kubernetes";
    }

    /**
     * The same connection as the HTTP data path runs it: the bearer token injected as {@code Authorization}
     * (with a client certificate alone, an empty value the dialect removes), approvals held rather than
     * answered 202.
     */
    HttpConnectionConfig asHttp() {
        return new HttpConnectionConfig(name, listen, tls, allowPlaintext, upstreamUrl, connectTimeout, responseTimeout,
                new HttpConnectionConfig.Credentials("Authorization", token.map(t -> "Bearer " + t).orElse("")),
                maxRequestBytes, 403, List.of(), List.of(), policy, redactor, via);
    }

    /** The network agent its API server is reached through ({@code upstream.via: agent NAME}), if any. */
    @Override
    public Optional<String> viaAgent() {
        return via;
    }

    @Override
    public String toString() {
        return "KubernetesConnectionConfig[name=" + name + ", listen=" + listen + ", upstream=" + upstreamUrl
                + ", credential=" + (token.isPresent() ? "token (redacted)" : "client certificate " + clientCertificate.get()) + "]";
    }
}
