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

    @Override
    public String summary() {
        return method + " " + path + (rawQuery.isEmpty() ? "" : "?" + rawQuery);
    }
}
