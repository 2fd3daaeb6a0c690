package dev.portcullis.dev;

import java.util.List;

/** An Okta API error: HTTP status, Okta error code and summary, optional causes. */
record OktaError(int status, String code, String summary, List<String> causes) {
    OktaError {
        causes = List.copyOf(causes);
    }

    static OktaError invalidToken() {
        return new OktaError(401, "E0000011", "Invalid token provided", List.of());
    }

    static OktaError notFound(String resource, String kind) {
        return new OktaError(404, "E0000007", "Not found: Resource not found: " + resource + " (" + kind + ")", List.of());
    }

    static OktaError validation(String field, String cause) {
        return new OktaError(400, "E0000001", "Api validation failed: " + field, List.of(field + ": " + cause));
    }

    static OktaError malformedBody() {
        return new OktaError(400, "E0000003", "The request body was not well-formed.", List.of());
    }

    static OktaError invalidSearch() {
        return new OktaError(400, "E0000031", "Invalid search criteria.", List.of());
    }

    static OktaError methodNotAllowed(String method) {
        return new OktaError(405, "E0000022", "The endpoint does not support the provided HTTP method", List.of());
    }

    static OktaError duplicateRole() {
        return new OktaError(409, "E0000090", "Duplicate role assignment exception.", List.of());
    }
}
