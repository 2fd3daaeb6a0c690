package dev.portcullis.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.core.HttpCall;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Conditions on an {@link HttpCall}; every non-empty one must hold.
 *
 * @param methods upper-case methods, any of
 * @param paths   compiled path templates, any of
 * @param query   query parameter → accepted values; the parameter must be present
 * @param body    JSON body fields → accepted values, compared as text; the body must be JSON
 */
public record HttpCondition(Set<String> methods, List<PathTemplate> paths, Map<String, Set<String>> query,
                            List<BodyField> body) implements OperationCondition {
    public HttpCondition {
        methods = Set.copyOf(methods);
        paths = List.copyOf(paths);
        query = Map.copyOf(query);
        body = List.copyOf(body);
    }

    @Override
    public String protocol() {
        return "http";
    }

    /**
     * Whether the call satisfies every condition.
     *
     * @param everyValue how a repeated query parameter or a JSON array is judged: when true (allow
     *                   rules) every value must be accepted, when false (deny, approval) any one
     *                   suffices; so a smuggled extra value can neither widen an allow nor dodge a deny
     */
    @Override
    public boolean matches(dev.portcullis.core.Operation operation, boolean everyValue) {
        return operation instanceof HttpCall call && matches(call, everyValue);
    }

    boolean matches(HttpCall call, boolean everyValue) {
        if (!methods.isEmpty() && !methods.contains(call.method())) return false;
        if (!paths.isEmpty() && !anyPathMatches(call.path())) return false;
        for (Map.Entry<String, Set<String>> q : query.entrySet()) {
            List<String> values = call.query().get(q.getKey());
            if (values == null || values.isEmpty() || !accepted(values, q.getValue(), everyValue)) return false;
        }
        if (!body.isEmpty()) {
            Optional<JsonNode> json = call.json();
            if (json.isEmpty()) return false;
            for (BodyField field : body) {
                if (!field.matches(json.get(), everyValue)) return false;
            }
        }
        return true;
    }

    private boolean anyPathMatches(String path) {
        for (PathTemplate t : paths) {
            if (t.matches(path)) return true;
        }
        return false;
    }

    private static boolean accepted(List<String> values, Set<String> accepted, boolean everyValue) {
        for (String v : values) {
            boolean ok = accepted.contains(v);
            if (everyValue && !ok) return false;
            if (!everyValue && ok) return true;
        }
        return everyValue;
    }

    /**
     * A condition on one field of a JSON body.
     *
     * @param segments the dotted path split at dots ({@code profile.login} → [profile, login]); objects only
     * @param accepted accepted values, as text ({@code 5}, {@code true}, {@code SUPER_ADMIN})
     */
    public record BodyField(List<String> segments, Set<String> accepted) {
        public BodyField {
            segments = List.copyOf(segments);
            accepted = Set.copyOf(accepted);
            if (segments.isEmpty()) throw new IllegalArgumentException("empty body field path");
        }

        /** @throws IllegalArgumentException when the dotted path has an empty part */
        public static BodyField of(String dottedPath, Set<String> accepted) {
            List<String> segments = List.of(dottedPath.split("\\.", -1));
            if (dottedPath.isEmpty() || segments.contains("")) {
                throw new IllegalArgumentException("'" + dottedPath + "' is not a dotted field path like profile.login");
            }
            return new BodyField(segments, accepted);
        }

        public String path() {
            return String.join(".", segments);
        }

        boolean matches(JsonNode root, boolean everyValue) {
            JsonNode node = root;
            for (String s : segments) {
                if (!node.isObject()) return false;
                node = node.get(s);
                if (node == null) return false;
            }
            if (node.isArray()) {
                if (node.isEmpty()) return false;
                for (JsonNode element : node) {
                    boolean ok = isAccepted(element);
                    if (everyValue && !ok) return false;
                    if (!everyValue && ok) return true;
                }
                return everyValue;
            }
            return isAccepted(node);
        }

        private boolean isAccepted(JsonNode value) {
            return value.isValueNode() && !value.isNull() && accepted.contains(value.asText());
        }
    }

}
