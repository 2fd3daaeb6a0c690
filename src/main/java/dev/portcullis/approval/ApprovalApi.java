package dev.portcullis.approval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.recording.RecordingFailedException;
import dev.portcullis.store.AuditStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The approvals admin API, under {@value #PREFIX}, independent of the HTTP server that carries it
 * (the admin listener authenticates the caller and adapts requests to {@link #handle}); refusals are
 * RFC 9457 problem documents. The document at {@value #OPENAPI_PATH} describes the whole admin API.
 */
public final class ApprovalApi {

    public static final String PREFIX = "/api/v1/approvals";
    public static final String OPENAPI_PATH = "/api/v1/openapi.json";
    /** Larger request bodies are refused (413); a deny reason is a sentence. */
    public static final int MAX_BODY_BYTES = 16 * 1024;
    public static final int MAX_REASON_CHARS = 2000;

    private static final ObjectMapper JSON = Json.mapper();
    private static final Pattern ITEM = Pattern.compile("^" + PREFIX + "/([A-Za-z0-9_-]{1,64})(/approve|/deny|/revoke)?$");

    /** What to answer: status, content type, body, and extra headers. */
    public record Reply(int status, String contentType, String body, Map<String, String> headers) {
        public Reply {
            Objects.requireNonNull(contentType, "contentType");
            Objects.requireNonNull(body, "body");
            headers = Map.copyOf(headers);
        }

        static Reply json(int status, JsonNode body) {
            return new Reply(status, "application/json", body.toString(), Map.of());
        }
    }

    private final ApprovalService service;
    private final String openApi;

    public ApprovalApi(ApprovalService service) {
        this.service = Objects.requireNonNull(service, "service");
        this.openApi = openApiDocument();
    }

    /** Whether {@code path} belongs to this API. */
    public static boolean serves(String path) {
        return path.equals(PREFIX) || path.startsWith(PREFIX + "/");
    }

    /** The OpenAPI document of the whole admin API, checked to be JSON at start-up. */
    public String openApi() {
        return openApi;
    }

    /**
     * Answers one request of a caller the admin listener has authenticated (their own token, or their
     * console session).
     *
     * @param rawQuery the query string, may be null
     * @param body     the request body, at most {@link #MAX_BODY_BYTES} + 1 bytes read
     */
    public Reply handle(String method, String path, String rawQuery, Identity caller, byte[] body) {
        Matcher item = ITEM.matcher(path);
        boolean list = path.equals(PREFIX) || path.equals(PREFIX + "/");
        if (!list && !item.matches()) return problem(404, "Not found", "no approvals endpoint at " + path);

        try {
            if (list) {
                if (!method.equals("GET")) return notAllowed("GET");
                return list(rawQuery, caller);
            }
            String id = item.group(1);
            String action = item.group(2);
            if (action == null) {
                if (!method.equals("GET")) return notAllowed("GET");
                return service.get(id).filter(r -> visibleTo(r, caller)).map(r -> Reply.json(200, json(r)))
                        .orElseGet(() -> problem(404, "Not found", "no approval request " + id));
            }
            if (!method.equals("POST")) return notAllowed("POST");
            if (body.length > MAX_BODY_BYTES) return problem(413, "Request body too large", "at most " + MAX_BODY_BYTES + " bytes");
            if (action.equals("/approve")) return Reply.json(200, json(service.approve(id, caller)));
            Optional<String> reason = reason(body);
            String what = action.equals("/deny") ? "a denial" : "a revocation";
            if (reason.isEmpty()) {
                return problem(400, "Bad request", what + " needs a JSON body {\"reason\": \"...\"} with a non-empty reason of at most "
                        + MAX_REASON_CHARS + " characters");
            }
            return Reply.json(200, json(action.equals("/deny")
                    ? service.deny(id, caller, reason.get())
                    : service.revoke(id, caller, reason.get())));
        } catch (ApprovalRefusedException e) {
            return switch (e.kind()) {
                case UNKNOWN -> problem(404, "Not found", e.getMessage());
                case NOT_AN_APPROVER -> problem(403, "Not an approver", e.getMessage());
                case OWN_REQUEST -> problem(403, "Own request", e.getMessage());
                case ALREADY_APPROVED, NOT_PENDING, CONFLICT -> problem(409, "Conflict", e.getMessage());
            };
        } catch (AuditStoreException | RecordingFailedException e) {
            return problem(503, "Store unavailable", "the decision could not be made durable: " + e.getMessage());
        }
    }

    /**
     * Who may read a request: members of its approver groups, and its requester. Requests carry
     * operations (masked, but still other people's work); nobody else needs to see them.
     */
    static boolean visibleTo(ApprovalRequest r, Identity caller) {
        return caller.inAnyGroup(r.approverGroups()) || caller.subject().equals(r.requester().subject());
    }

    private Reply list(String rawQuery, Identity caller) {
        Optional<ApprovalState> state = Optional.empty();
        for (String value : dev.portcullis.core.HttpCall.parseQuery(rawQuery).getOrDefault("state", java.util.List.of())) {
            if (value.isEmpty() || value.equals("all")) continue;
            try {
                state = Optional.of(ApprovalState.fromLabel(value));
            } catch (IllegalArgumentException e) {
                return problem(400, "Bad request", e.getMessage());
            }
        }
        ObjectNode out = JSON.createObjectNode();
        ArrayNode items = out.putArray("approvals");
        service.list(state).stream().filter(r -> visibleTo(r, caller)).forEach(r -> items.add(json(r)));
        return Reply.json(200, out);
    }

    private static Optional<String> reason(byte[] body) {
        try {
            JsonNode reason = JSON.readTree(body).path("reason");
            if (!reason.isTextual() || reason.asText().isBlank() || reason.asText().length() > MAX_REASON_CHARS) {
                return Optional.empty();
            }
            return Optional.of(reason.asText().strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The API's view of a request; the OpenAPI schema {@code ApprovalRequest} describes it. */
    static ObjectNode json(ApprovalRequest r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", r.id());
        o.put("state", r.state().label());
        o.put("connection", r.connection());
        ObjectNode requester = o.putObject("requester");
        requester.put("subject", r.requester().subject());
        ArrayNode groups = requester.putArray("groups");
        r.requester().groups().stream().sorted().forEach(groups::add);
        requester.put("tokenId", r.requester().tokenId());
        o.put("protocol", r.protocol());
        o.put("summary", r.summary());
        o.put("detail", r.detail());
        o.put("fingerprint", r.fingerprint());
        o.put("ruleId", r.ruleId());
        o.put("reason", r.reason());
        ArrayNode approverGroups = o.putArray("approverGroups");
        r.approverGroups().forEach(approverGroups::add);
        o.put("approvalsRequired", r.approvalsRequired());
        ArrayNode approvals = o.putArray("approvals");
        r.approvals().forEach(a -> approvals.addObject().put("subject", a.subject()).put("at", a.at().toString()));
        // The store keeps a revocation where it keeps a denial; the API names each for what it is.
        boolean revoked = r.state() == ApprovalState.REVOKED;
        o.putNull("denial");
        o.putNull("revocation");
        r.denial().ifPresent(d -> o.putObject(revoked ? "revocation" : "denial").put("subject", d.subject())
                .put("reason", d.reason()).put("at", d.at().toString()));
        o.put("createdAt", r.createdAt().toString());
        o.put("expiresAt", r.expiresAt().toString());
        r.grant().ifPresentOrElse(g -> {
            ObjectNode grant = o.putObject("grant");
            grant.put("duration", g.duration().toString());
            grant.put("minutes", g.duration().toMinutes());
            g.until().ifPresentOrElse(u -> grant.put("until", u.toString()), () -> grant.putNull("until"));
        }, () -> o.putNull("grant"));
        return o;
    }

    private static Reply notAllowed(String allowed) {
        return new Reply(405, "application/problem+json", problemBody(405, "Method not allowed", "use " + allowed),
                Map.of("Allow", allowed));
    }

    private static Reply problem(int status, String title, String detail) {
        return new Reply(status, "application/problem+json", problemBody(status, title, detail), Map.of());
    }

    private static String problemBody(int status, String title, String detail) {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", "about:blank");
        o.put("title", title);
        o.put("status", status);
        o.put("detail", detail);
        return o.toString();
    }

    private static String openApiDocument() {
        try (InputStream in = ApprovalApi.class.getResourceAsStream("openapi.json")) {
            if (in == null) throw new IllegalStateException("openapi.json is missing from the build");
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            JSON.readTree(text); // a broken document fails start-up, not the first reader
            return text;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("openapi.json is not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
