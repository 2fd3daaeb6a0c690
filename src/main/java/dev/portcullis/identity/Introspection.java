package dev.portcullis.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.Json;
import dev.portcullis.identity.TokenRejectedException.Reason;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RFC 7662 token introspection, for revocation: asks the issuer whether a token is still active, and
 * remembers the answer for {@code cache-ttl} by the token's SHA-256 (never the token). Any answer but
 * a 200 with {@code active} is the identity provider being unavailable: the token is refused.
 */
final class Introspection {
    private static final ObjectMapper JSON = Json.mapper();

    /** Where the endpoint comes from: the configuration, or the issuer's discovery document. */
    interface Endpoint {
        Optional<URI> get() throws TokenRejectedException;
    }

    private record Cached(boolean active, Instant until) {
    }

    private final Optional<IdentityConfig.IntrospectionConfig> config;
    private final HttpClient http;
    private final Duration timeout;
    private final int maxCached;
    private final Map<String, Cached> answers = new ConcurrentHashMap<>();

    Introspection(Optional<IdentityConfig.IntrospectionConfig> config, HttpClient http, Duration timeout, int maxCached) {
        this.config = config;
        this.http = http;
        this.timeout = timeout;
        this.maxCached = maxCached;
    }

    /** Whether the issuer reports the token active; true when introspection is not configured. */
    boolean active(String token, String fingerprint, Instant now, Endpoint endpoint) throws TokenRejectedException {
        if (config.isEmpty()) return true;
        Cached cached = answers.get(fingerprint);
        if (cached == null || !now.isBefore(cached.until())) {
            URI uri = endpoint.get().orElseThrow(() -> new TokenRejectedException(Reason.IDP_UNAVAILABLE,
                    "introspection is configured but the issuer publishes no introspection_endpoint"));
            cached = new Cached(call(uri, config.get(), token), now.plus(config.get().cacheTtl()));
            if (answers.size() >= maxCached) {
                answers.values().removeIf(c -> !now.isBefore(c.until()));
                if (answers.size() >= maxCached) answers.clear();
            }
            answers.put(fingerprint, cached);
        }
        return cached.active();
    }

    /** Whether {@link #active} would answer from its cache at {@code now} (always, without introspection). */
    boolean fresh(String fingerprint, Instant now) {
        if (config.isEmpty()) return true;
        Cached cached = answers.get(fingerprint);
        return cached != null && now.isBefore(cached.until());
    }

    private boolean call(URI endpoint, IdentityConfig.IntrospectionConfig ic, String token) throws TokenRejectedException {
        String form = "token=" + URLEncoder.encode(token, StandardCharsets.UTF_8) + "&token_type_hint=access_token";
        String basic = Base64.getEncoder().encodeToString(
                (urlForm(ic.clientId()) + ":" + urlForm(ic.clientSecret())).getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(endpoint).timeout(timeout)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .header("Authorization", "Basic " + basic)
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        try {
            HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "introspection answered " + response.statusCode());
            }
            JsonNode body = JSON.readTree(response.body());
            if (!body.has("active")) throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "introspection answer has no 'active'");
            return body.get("active").asBoolean(false);
        } catch (IOException e) {
            throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "introspection failed: " + TokenVerifier.describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokenRejectedException(Reason.IDP_UNAVAILABLE, "interrupted during introspection");
        }
    }

    /** RFC 6749 section 2.3.1: client credentials are form-encoded before Basic encoding. */
    private static String urlForm(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
