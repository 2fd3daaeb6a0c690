package dev.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine.Option;

/**
 * How {@code approvals}, {@code approve}, {@code deny} and {@code revoke} reach the gateway's approvals API: {@code --server},
 * for an https server the certificates to trust ({@code --cacert} or {@value #CACERT_ENV}, else the JVM's default
 * trust store), and the person's own OIDC access token from {@value #TOKEN_ENV}.
 */
final class ApprovalServer {
    static final String TOKEN_ENV = "PORTCULLIS_TOKEN";
    static final String CACERT_ENV = "PORTCULLIS_CACERT";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Option(names = "--server", paramLabel = "URL", defaultValue = "http://127.0.0.1:8080",
            description = "The gateway's admin listener, https://... when it has tls (default: ${DEFAULT-VALUE}).")
    URI server;

    @Option(names = "--cacert", paramLabel = "FILE",
            description = {"For an https --server: trust the certificates in this PEM file (the CA that signed the gateway's"
                    + " certificate, or that certificate itself) instead of the JVM's default trust store, as curl --cacert"
                    + " does (default: $" + CACERT_ENV + ")."})
    Path cacert;

    private final Map<String, String> env;

    ApprovalServer() {
        this(System.getenv());
    }

    ApprovalServer(Map<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    /** What the API answered: the status and the JSON body (a problem document when refused). */
    record Answer(int status, JsonNode body) {
        boolean ok() {
            return status / 100 == 2;
        }

        /** {@code 403 Not an approver: alice is in none of ...} */
        String problem() {
            String title = body.path("title").asText("");
            String detail = body.path("detail").asText("");
            return status + (title.isEmpty() ? "" : " " + title) + (detail.isEmpty() ? "" : ": " + detail);
        }
    }

    Answer get(String pathAndQuery) throws IOException, InterruptedException {
        return send(request(pathAndQuery).GET());
    }

    Answer post(String path, String jsonBody) throws IOException, InterruptedException {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(jsonBody)));
    }

    private HttpRequest.Builder request(String path) {
        String token = env.getOrDefault(TOKEN_ENV, "").strip();
        if (token.isEmpty()) {
            throw new IllegalArgumentException(TOKEN_ENV + " is not set: export your own OIDC access token from the"
                    + " gateway's identity provider, e.g. export " + TOKEN_ENV + "=$(your-idp-login --print-token)");
        }
        String base = server.toString().replaceAll("/+$", "");
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT)
                .header("Accept", "application/json")
                .header("Authorization", "Bearer " + token);
    }

    private Answer send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(TIMEOUT);
        Optional<TrustedCertificates> trusted = trustedCertificates();
        if (trusted.isPresent()) client.sslContext(trusted.get().sslContext());
        HttpResponse<String> response;
        try (HttpClient http = client.build()) {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new IOException("cannot reach the gateway at " + server + " (is it running? pass --server)", e);
        } catch (SSLException e) {
            if (!causedBy(e, CertificateException.class)) {
                throw new IOException("TLS with " + server + " failed (" + e.getMessage() + "); if the admin listener has"
                        + " no tls, use --server http://...", e);
            }
            String host = server.getHost();
            throw new IOException("cannot verify the TLS certificate of " + server + ": " + trusted
                    .map(t -> "it is not signed by a certificate in " + t.source() + ", or not issued for " + host)
                    .orElse("it is not signed by a CA in the default trust store, or not issued for " + host + "; for a"
                            + " private CA or a self-signed certificate pass the CA's certificate (PEM), or the gateway's"
                            + " own, with --cacert FILE or " + CACERT_ENV + "=FILE")
                    + " [" + e.getMessage() + "]", e);
        } catch (IOException e) {
            if (e instanceof HttpTimeoutException || !"http".equalsIgnoreCase(server.getScheme())) throw e;
            // Typically the TLS alert with which a TLS-only listener answers plain HTTP.
            throw new IOException(server + " gave no HTTP answer (" + e.getMessage() + "); if the admin listener has tls,"
                    + " use --server https://...", e);
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IOException(server + " answered " + response.statusCode() + " without JSON; is --server the admin listener?");
        }
        return new Answer(response.statusCode(), body == null ? JSON.createObjectNode() : body);
    }

    /** The certificates of {@code --cacert} or {@value #CACERT_ENV}, and which of the two named them. */
    private record TrustedCertificates(String source, KeyStore store) {
        SSLContext sslContext() throws IOException {
            try {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(store);
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(null, tmf.getTrustManagers(), null);
                return context;
            } catch (GeneralSecurityException e) {
                throw new IOException(source + ": " + e.getMessage(), e);
            }
        }
    }

    /** Empty when neither {@code --cacert} nor {@value #CACERT_ENV} is given: the JVM's default trust store applies. */
    private Optional<TrustedCertificates> trustedCertificates() throws IOException {
        String fromEnv = env.getOrDefault(CACERT_ENV, "").strip();
        if (cacert == null && fromEnv.isEmpty()) return Optional.empty();
        Path file = cacert != null ? cacert : Path.of(fromEnv);
        String source = cacert != null ? "--cacert " + file : CACERT_ENV + "=" + file;
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(file)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (NoSuchFileException e) {
            throw new IOException(source + ": no such file", e);
        } catch (CertificateException e) {
            throw new IOException(source + ": not a PEM certificate (-----BEGIN CERTIFICATE-----): " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) throw new IOException(source + ": holds no certificate; expected PEM (-----BEGIN CERTIFICATE-----)");
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            for (Certificate certificate : certificates) store.setCertificateEntry("cacert-" + n++, certificate);
            return Optional.of(new TrustedCertificates(source, store));
        } catch (GeneralSecurityException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) return true;
        }
        return false;
    }
}
