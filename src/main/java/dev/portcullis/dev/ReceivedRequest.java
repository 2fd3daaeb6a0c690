package dev.portcullis.dev;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One request exactly as {@link DemoOkta} received it, refused or not.
 *
 * @param method        HTTP method
 * @param path          path without the query
 * @param query         raw query string, empty when there was none
 * @param authorization the {@code Authorization} header as received (the gateway must send {@code SSWS <api token>})
 * @param body          request body as UTF-8 text, empty when there was none
 * @param headerNames   the names of the headers received, lower case, in order
 */
public record ReceivedRequest(String method, String path, String query, Optional<String> authorization, String body,
                              List<String> headerNames) {
    public ReceivedRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(authorization, "authorization");
        Objects.requireNonNull(body, "body");
        headerNames = List.copyOf(headerNames);
    }
}
