package dev.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine.Option;

/**
 * How {@code approvals}, {@code approve}, {@code deny} and {@code revoke} reach the gateway's approvals API: {@code --server},
 * and the person's own OIDC access token from {@value #TOKEN_ENV}.
 */
final class ApprovalServer {
    static final String TOKEN_ENV = "PORTCULLIS_TOKEN";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Option(names = "--server", paramLabel = "URL", defaultValue = "http://127.0.0.1:8080",
            description = "The gateway's admin listener (default: ${DEFAULT-VALUE}).")
    URI server;

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
        HttpResponse<String> response;
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build()) {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new IOException("cannot reach the gateway at " + server + " (is it running? pass --server)", e);
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IOException(server + " answered " + response.statusCode() + " without JSON; is --server the admin listener?");
        }
        return new Answer(response.statusCode(), body == null ? JSON.createObjectNode() : body);
    }
}
