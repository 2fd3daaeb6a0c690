package dev.portcullis.kubernetes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.portcullis.core.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Takes Secret values out of Kubernetes API responses, wherever the API puts them: a Secret, the items
 * of a SecretList (which carry no {@code kind}), the rows of a {@code Table} (kubectl's default output),
 * a watch event's object, a {@code List} mixing kinds, and the
 * {@value #LAST_APPLIED} annotation, which holds the whole applied object, Secret values included,
 * as a JSON string on every object kubectl applied.
 *
 * <p>A {@code data} value becomes the base64 of {@value #MASKED} (typed clients decode {@code data} as
 * base64 and would fail on anything else); a {@code stringData} value becomes {@value #MASKED}. In
 * {@link Mode#NAMES_ONLY} both fields are removed, so not even the keys show. A last-applied annotation
 * that does not parse as JSON is replaced whole.
 */
public final class SecretMasking {
    public static final String MASKED = "[masked]";
    public static final String MASKED_BASE64 = Base64.getEncoder().encodeToString(MASKED.getBytes(StandardCharsets.UTF_8));
    public static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
    private static final ObjectMapper JSON = Json.mapper();

    /** What is left of a Secret's values. */
    public enum Mode {
        /** Each value replaced, the keys kept: what {@code get} shows. */
        VALUES,
        /** {@code data} and {@code stringData} removed: names (and metadata) only. */
        NAMES_ONLY
    }

    private SecretMasking() {
    }

    /**
     * Masks one response body (or one watch event) in place.
     *
     * @param secrets whether the request was for the {@code secrets} resource: then every object with
     *                {@code data} or {@code stringData} in the body is treated as a Secret, whatever its kind says
     * @return how many values (and annotations) were masked or removed
     */
    public static int mask(JsonNode body, boolean secrets, Mode mode) {
        return walk(body, secrets, mode);
    }

    private static int walk(JsonNode node, boolean secrets, Mode mode) {
        int masked = 0;
        if (node instanceof ObjectNode object) {
            if (secrets || "Secret".equals(object.path("kind").asText(null))) masked += maskSecret(object, mode);
            masked += maskLastApplied(object, mode);
            boolean below = secrets || isSecretList(object);
            List<JsonNode> children = new ArrayList<>();
            object.values().forEachRemaining(children::add);
            for (JsonNode child : children) masked += walk(child, below, mode);
        } else if (node != null && node.isArray()) {
            for (JsonNode child : node) masked += walk(child, secrets, mode);
        }
        return masked;
    }

    /** A SecretList's items carry no kind of their own. */
    private static boolean isSecretList(ObjectNode object) {
        return "SecretList".equals(object.path("kind").asText(null));
    }

    private static int maskSecret(ObjectNode secret, Mode mode) {
        int masked = 0;
        for (String field : List.of("data", "stringData")) {
            JsonNode values = secret.get(field);
            if (values == null) continue;
            if (mode == Mode.NAMES_ONLY || !(values instanceof ObjectNode map)) {
                secret.remove(field);
                masked += Math.max(1, values.size());
                continue;
            }
            String replacement = field.equals("data") ? MASKED_BASE64 : MASKED;
            for (Map.Entry<String, JsonNode> entry : map.properties()) {
                entry.setValue(TextNode.valueOf(replacement));
                masked++;
            }
        }
        return masked;
    }

    /** The annotation holds the applied object as JSON text: masked inside, or replaced whole when unreadable. */
    private static int maskLastApplied(ObjectNode object, Mode mode) {
        JsonNode annotations = object.path("metadata").path("annotations");
        if (!(annotations instanceof ObjectNode map) || !map.has(LAST_APPLIED)) return 0;
        JsonNode value = map.get(LAST_APPLIED);
        try {
            JsonNode applied = JSON.readTree(value.asText());
            if (applied == null || !applied.isObject()) throw new IllegalArgumentException("not an object");
            int inside = walk(applied, "Secret".equals(applied.path("kind").asText(null)), mode);
            if (inside > 0) map.put(LAST_APPLIED, JSON.writeValueAsString(applied));
            return inside;
        } catch (JsonProcessingException | IllegalArgumentException e) {
            map.put(LAST_APPLIED, MASKED);
            return 1;
        }
    }
}
