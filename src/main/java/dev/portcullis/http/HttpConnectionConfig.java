package dev.portcullis.http;

import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.config.TlsConfig;
import dev.portcullis.masking.Redactor;
import dev.portcullis.policy.Policy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A REST API (Okta's admin API, ...) reached over HTTP(S).
 *
 * @param tls             the listener's certificate; present: agents call over https only
 * @param allowPlaintext  without tls, whether the listener may be on an address other than loopback
 *                        (where TLS is terminated in front of the gateway, or the network is trusted);
 *                        {@link HttpProtocol} refuses plaintext beyond loopback without it
 * @param upstreamUrl     absolute http(s) URL the calls are forwarded to
 * @param credentials     the header injected upstream in place of the agent's own
 * @param maxRequestBytes larger request bodies are refused
 * @param approvalPendingStatus the HTTP status of the answer to a held call still pending when the hold
 *                        wait ends: {@code 403} (default) or {@code 202} for clients that treat 403 as fatal
 * @param filterParams    the query parameters whose values are filter expressions ({@code search}, {@code filter}
 *                        for Okta) or free-text searches ({@code q}): under a mask rule they are checked so that a
 *                        masked field cannot be searched character by character; empty (default): none is checked
 * @param sortParams      the query parameters whose values name attributes to sort by ({@code sortBy} for Okta):
 *                        under a mask rule a masked field cannot be sorted by, since the order leaks its values;
 *                        none in common with {@code filterParams}; empty (default): none is checked
 * @param redactor        what is taken out of a request before it is recorded or shown to approvers: the
 *                        default secret fields plus the connection's {@code redact} list
 */
public record HttpConnectionConfig(String name, InetSocketAddress listen, Optional<TlsConfig> tls,
                                   boolean allowPlaintext, URI upstreamUrl, Duration connectTimeout,
                                   Duration responseTimeout, Credentials credentials, long maxRequestBytes,
                                   int approvalPendingStatus, List<String> filterParams, List<String> sortParams,
                                   Policy policy, Redactor redactor, Optional<String> via)
        implements ConnectionConfig {

    @Override
    public String type() {
        return "http";
    }

    @Override
    public Optional<String> viaAgent() {
        return via;
    }


    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(60);
    public static final long DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
    public static final int DEFAULT_APPROVAL_PENDING_STATUS = 403;

    public HttpConnectionConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(tls, "tls");
        if (tls.isPresent() && allowPlaintext) {
            throw new IllegalArgumentException("connection '" + name + "' has tls, which accepts TLS only, and allows plaintext");
        }
        Objects.requireNonNull(upstreamUrl, "upstreamUrl");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(responseTimeout, "responseTimeout");
        Objects.requireNonNull(credentials, "credentials");
        if (maxRequestBytes < 0) throw new IllegalArgumentException("maxRequestBytes < 0");
        if (approvalPendingStatus != 403 && approvalPendingStatus != 202) {
            throw new IllegalArgumentException("approvalPendingStatus must be 403 or 202, not " + approvalPendingStatus);
        }
        filterParams = List.copyOf(filterParams);
        sortParams = List.copyOf(sortParams);
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(redactor, "redactor");
        Objects.requireNonNull(via, "via");
    }

    /** A header carrying the target's secret. {@link #toString()} never shows the value. */
    public record Credentials(String header, String value) {
        /** {@code credentials: agent}: the network agent adds them (and speaks TLS to the target); the gateway has none. */
        public static final Credentials HELD_BY_AGENT = new Credentials("", "");

        public Credentials {
            Objects.requireNonNull(header, "header");
            Objects.requireNonNull(value, "value");
        }

        public boolean heldByAgent() {
            return header.isEmpty();
        }

        @Override
        public String toString() {
            return "Credentials[header=" + header + ", value=(redacted)]";
        }
    }
}
