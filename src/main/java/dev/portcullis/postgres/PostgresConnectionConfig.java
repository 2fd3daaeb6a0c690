package dev.portcullis.postgres;

import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.TlsConfig;
import dev.portcullis.masking.Redactor;
import dev.portcullis.policy.Policy;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * A PostgreSQL target: agents connect with their token as the password; the gateway connects upstream
 * with the credentials here.
 *
 * @param tls              the gateway's certificate for clients ({@code sslmode=require}); empty: no TLS
 * @param allowPlaintext   whether clients may connect without TLS (the example allows it on loopback)
 * @param maxMessageBytes  frontend messages larger than this end the session with an error
 * @param recordedRows     how many rows of each result the recording keeps (masked)
 * @param redactor         what is taken out of statements and parameters before they are recorded or shown
 *                         to approvers: role passwords, detected secrets, and secret fields of JSON values
 *                         (the defaults plus the connection's {@code redact} list)
 */
public record PostgresConnectionConfig(String name, InetSocketAddress listen, Upstream upstream, Optional<TlsConfig> tls,
                                       boolean allowPlaintext, int maxMessageBytes, int recordedRows, Policy policy,
                                       Redactor redactor)
        implements ConnectionConfig {

    @Override
    public String type() {
        return "postgres";
    }

    @Override
    public java.util.Optional<String> viaAgent() {
        return upstream == null ? java.util.Optional.empty() : upstream.via();
    }

    public PostgresConnectionConfig {
        Objects.requireNonNull(name);
        Objects.requireNonNull(listen);
        Objects.requireNonNull(upstream);
        Objects.requireNonNull(tls);
        Objects.requireNonNull(policy);
        Objects.requireNonNull(redactor);
        if (tls.isEmpty() && !allowPlaintext) {
            throw new IllegalArgumentException("connection '" + name + "' has no tls and does not allow plaintext");
        }
    }

    /** The database the gateway connects to, and as whom. */
    /** @param via the network agent this upstream is reached through, if any */
    public record Upstream(String host, int port, String database, String user, String password, java.util.Optional<String> via) {
        public Upstream(String host, int port, String database, String user, String password) {
            this(host, port, database, user, password, java.util.Optional.empty());
        }

        public Upstream {
            Objects.requireNonNull(via);
            Objects.requireNonNull(host);
            Objects.requireNonNull(database);
            Objects.requireNonNull(user);
            Objects.requireNonNull(password);
        }

        @Override
        public String toString() {
            return "Upstream[" + user + "@" + host + ":" + port + "/" + database + via.map(a -> " via agent " + a).orElse("") + ", password=(redacted)]";
        }
    }
}
