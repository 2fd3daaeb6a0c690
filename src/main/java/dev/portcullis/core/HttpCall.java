package dev.portcullis.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An HTTP request as policy sees it.
 *
 * @param method      upper-case method
 * @param path        the decoded request path, without query
 * @param rawQuery    the raw query string, empty when none
 * @param query       decoded query parameters
 * @param contentType the request's content type, empty when none
 * @param json        the request body parsed as JSON, when the body is JSON; empty otherwise
 * @param bodyBytes   size of the request body in bytes
 */
public record HttpCall(String method, String path, String rawQuery, Map<String, List<String>> query,
                       String contentType, Optional<JsonNode> json, long bodyBytes) implements Operation {
    @Override
    public List<String> identity() {
        return List.of(method, path, rawQuery);
    }

    @Override
    public boolean bodyIsPartOfIdentity() {
        return true;
    }

    public HttpCall {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        rawQuery = rawQuery == null ? "" : rawQuery;
        query = Map.copyOf(query);
        contentType = contentType == null ? "" : contentType;
        Objects.requireNonNull(json, "json");
    }

    @Override
    public String protocol() {
        return "http";
    }

    /** Safe methods (RFC 9110 section 9.2.1) do not change the target; everything else may. */
    @Override
    public boolean mayChangeTarget() {
        return !(method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS"));
    }

    /**
     * The query string's parameters, decoded ({@code +} is a space, {@code %xx} UTF-8), in order, repeated
     * names kept; a malformed escape is kept as written. The one parser of query strings: the gateway and
     * {@code policy test} judge the same parameters.
     */
    public static Map<String, List<String>> parseQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) return Map.of();
        Map<String, List<String>> params = new java.util.LinkedHashMap<>();
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String key = decodeQueryPart(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decodeQueryPart(pair.substring(eq + 1));
            params.computeIfAbsent(key, k -> new java.util.ArrayList<>()).add(value);
        }
        return params;
    }

    private static String decodeQueryPart(String s) {
        try {
            return java.net.URLDecoder.decode(s, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    /**
     * A path as written ({@code /api/v1/users/%30%30u1}) decoded the way the gateway judges it
     * ({@code /api/v1/users/00u1}): {@code %xx} as UTF-8, {@code +} kept; a malformed escape is kept as written.
     */
    public static String decodePath(String rawPath) {
        if (rawPath.indexOf('%') < 0) return rawPath;
        try {
            return java.net.URLDecoder.decode(rawPath.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return rawPath;
        }
    }

    @Override
    public String summary() {
        return method + " " + path + (rawQuery.isEmpty() ? "" : "?" + rawQuery);
    }
}
