package dev.portcullis.kubernetes;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Json;
import dev.portcullis.core.KubeRequest;
import dev.portcullis.core.Operation;
import dev.portcullis.http.HttpDialect;
import dev.portcullis.policy.Verdict;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Kubernetes' API on the HTTP data path: each request is a {@link KubeRequest} (a verb on a resource),
 * refusals are {@code Status} objects kubectl prints as {@code Error from server (Forbidden): ...},
 * the upstream is asked for JSON, Secret values are masked in every response, and watches and followed
 * logs stream for as long as they last.
 */
final class KubeDialect implements HttpDialect {
    private static final ObjectMapper JSON = Json.mapper();

    private final KubernetesConnectionConfig connection;

    KubeDialect(KubernetesConnectionConfig connection) {
        this.connection = connection;
    }

    @Override
    public String protocol() {
        return "kubernetes";
    }

    @Override
    public Operation operation(HttpCall call, String rawPath, HttpHeaders headers) throws Refused {
        // The API server would not resolve these the way a proxy does (it redirects, or reads them as names):
        // the path must say plainly what it asks for.
        String unclear = unclearSegment(rawPath);
        if (unclear != null) throw new Refused(400, "bad-request", "the path " + rawPath + " has " + unclear + "; send it without");
        Optional<String> impersonation = KubeHeaders.impersonation(headers.names());
        if (impersonation.isPresent()) {
            throw new Refused(403, "impersonation", "the " + impersonation.get() + " header is refused: agents act as themselves,"
                    + " and upstream every request carries the gateway's credential");
        }
        try {
            return KubeRequest.parse(call.method(), call.path(), call.rawQuery());
        } catch (IllegalArgumentException e) {
            throw new Refused(400, "bad-request", e.getMessage());
        }
    }

    /** What makes a raw path unclear: an empty, {@code .} or {@code ..} segment, or an escaped slash or dot; null when none. */
    static String unclearSegment(String rawPath) {
        if (rawPath == null || rawPath.isEmpty()) return null;
        String lower = rawPath.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("%2f") || lower.contains("%2e") || lower.contains("%5c") || lower.contains("\\")) {
            return "an escaped '/', '.' or '\\'";
        }
        String[] segments = rawPath.split("/", -1);
        for (int i = 1; i < segments.length; i++) {
            String s = segments[i];
            if (s.equals(".") || s.equals("..")) return "a '" + s + "' segment";
            if (s.isEmpty() && i < segments.length - 1) return "an empty segment ('//')";
        }
        return null;
    }

    @Override
    public Optional<RefusalBody> refusal(int status, Map<String, String> problem) {
        String detail = problem.getOrDefault("detail", "");
        String rule = problem.get("rule");
        String operation = problem.get("operation");
        String message = status == 403 && rule != null && operation != null
                ? operation + " is forbidden: Portcullis rule " + rule + ": " + detail
                : "Portcullis: " + detail;
        KubeStatus s = new KubeStatus(status, reason(status), message, "", "");
        return Optional.of(new RefusalBody("application/json", s.json()));
    }

    /** The StatusReason kubectl prints in parentheses. */
    private static String reason(int status) {
        return switch (status) {
            case 400 -> "BadRequest";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "NotFound";
            case 413 -> "RequestEntityTooLarge";
            case 504 -> "Timeout";
            default -> status >= 500 ? "ServiceUnavailable" : "BadRequest";
        };
    }

    /** kubectl auth can-i: answered from the gateway's policy for the agent asking, never by the cluster. */
    @Override
    public Optional<byte[]> answerLocally(Operation operation, byte[] body, dev.portcullis.core.Identity identity,
                                          dev.portcullis.policy.Policy policy) {
        return KubeCondition.isSelfReview((KubeRequest) operation) ? Optional.of(SelfReview.answer(body, identity, policy)) : Optional.empty();
    }

    @Override
    public void upstreamRequest(Operation operation, HttpHeaders headers) {
        KubeRequest r = (KubeRequest) operation;
        if (!r.verb().equals("logs")) headers.set(HttpHeaderNames.ACCEPT, KubeHeaders.jsonAccept(headers.get(HttpHeaderNames.ACCEPT)));
        if (connection.token().isEmpty()) headers.remove(HttpHeaderNames.AUTHORIZATION); // the client certificate says who
        if (connection.impersonateUser().isPresent()) {
            headers.set("Impersonate-User", connection.impersonateUser().get());
            for (String group : connection.impersonateGroups()) headers.add("Impersonate-Group", group);
        }
    }

    /** Every JSON response: Secret values never reach an agent. A list or watch of Secrets shows their names only. */
    @Override
    public Optional<ResponseMasker> masker(Operation operation, Verdict verdict) {
        KubeRequest r = (KubeRequest) operation;
        if (r.verb().equals("logs")) return Optional.empty(); // a container's output, as text
        boolean secrets = r.resourceRequest() && r.resource().equals("secrets") && r.apiGroup().isEmpty();
        boolean collection = r.verb().equals("list") || r.verb().equals("watch");
        SecretMasking.Mode mode = secrets && collection && r.name().isEmpty() ? SecretMasking.Mode.NAMES_ONLY : SecretMasking.Mode.VALUES;
        return Optional.of(new SecretStreamMasker(secrets, mode, r.verb().equals("watch")));
    }

    /** exec, attach and port-forward become streams once the API server (the kubelet behind it) agrees. */
    @Override
    public boolean tunnels(Operation operation) {
        String verb = ((KubeRequest) operation).verb();
        return verb.equals("exec") || verb.equals("attach") || verb.equals("portforward");
    }

    /** An exec or attach is recorded as a terminal session (asciicast v2); a port-forward by its byte counts. */
    @Override
    public StreamTap tap(Operation operation, HttpHeaders request) {
        KubeRequest r = (KubeRequest) operation;
        return r.verb().equals("portforward") ? new StreamTap.Counting() : new ExecRecorder(r);
    }

    @Override
    public boolean streams(Operation operation) {
        KubeRequest r = (KubeRequest) operation;
        return r.verb().equals("watch") || r.follows();
    }

    /** kubectl cannot repeat a request with an approval id, and waits as long as it is held: the whole hold-timeout. */
    @Override
    public Duration holdWait(Duration holdTimeout) {
        return holdTimeout;
    }

    /** A Secret (or its last-applied copy) sent by the agent is recorded with its values masked. */
    @Override
    public String recordedBody(String json) {
        try {
            JsonNode body = JSON.readTree(json);
            if (body == null) return json;
            return SecretMasking.mask(body, false, SecretMasking.Mode.VALUES) > 0 ? JSON.writeValueAsString(body) : json;
        } catch (JacksonException e) {
            return "(a body that is not JSON, " + json.length() + " characters)";
        }
    }
}
