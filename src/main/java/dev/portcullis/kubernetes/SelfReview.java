package dev.portcullis.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.core.KubeRequest;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.Verdict;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code kubectl auth can-i}: a {@code SelfSubjectAccessReview} answered by the gateway from its own
 * policy, for the agent asking. The cluster's answer would be about the gateway's credential, which can
 * do far more than any agent may. A held operation is not allowed yet; the reason says who approves.
 */
final class SelfReview {
    private static final ObjectMapper JSON = Json.mapper();
    private static final Set<String> POD_STREAMS = Set.of("exec", "attach", "portforward");

    private SelfReview() {
    }

    /** Kubernetes' protobuf envelope: these four bytes, then a {@code runtime.Unknown} holding the object. */
    private static final byte[] PROTOBUF_MAGIC = {'k', '8', 's', 0};

    /**
     * The review with its {@code status}, as JSON; a body that is not a review gets {@code allowed: false}
     * and says why. The review may come as JSON or as protobuf (kubectl 1.30 and later send protobuf).
     */
    static byte[] answer(byte[] body, Identity identity, Policy policy) {
        ObjectNode review;
        try {
            JsonNode parsed = isProtobuf(body) ? fromProtobuf(body) : JSON.readTree(body);
            review = parsed instanceof ObjectNode o ? o : JSON.createObjectNode();
        } catch (IOException e) {
            review = JSON.createObjectNode();
        }
        review.put("apiVersion", review.path("apiVersion").asText("authorization.k8s.io/v1"));
        review.put("kind", "SelfSubjectAccessReview");
        ObjectNode status = review.putObject("status");
        KubeRequest asked = asked(review.path("spec"));
        if (asked == null) {
            status.put("allowed", false).put("reason", "Portcullis: the review names no resource or path it can judge");
            return bytes(review);
        }
        Verdict verdict = policy.decide(identity, asked).verdict();
        switch (verdict) {
            case Verdict.Allow a -> status.put("allowed", true).put("reason", "Portcullis rule " + a.ruleId());
            case Verdict.Mask m -> status.put("allowed", true).put("reason", "Portcullis rule " + m.ruleId() + " (masked)");
            case Verdict.Granted g -> status.put("allowed", true).put("reason", "Portcullis grant " + g.approvalId());
            case Verdict.HoldForApproval h -> status.put("allowed", false).put("reason", "Portcullis rule " + h.ruleId()
                    + " holds it for approval by " + String.join(", ", h.approverGroups()));
            case Verdict.Deny d -> status.put("allowed", false).put("denied", true).put("reason", "Portcullis rule " + d.ruleId() + ": " + d.reason());
        }
        return bytes(review);
    }

    /** The request the review asks about, as the gateway would see it. */
    static KubeRequest asked(JsonNode spec) {
        JsonNode ra = spec.path("resourceAttributes");
        if (ra.isObject()) {
            String verb = ra.path("verb").asText("").toLowerCase(Locale.ROOT);
            String group = ra.path("group").asText("");
            String resource = ra.path("resource").asText("");
            String sub = ra.path("subresource").asText("");
            if (verb.isEmpty() || resource.isEmpty()) return null;
            String version = ra.path("version").asText("").isEmpty() ? "v1" : ra.path("version").asText();
            if (group.isEmpty() && resource.equals("pods") && (POD_STREAMS.contains(sub) || sub.equals("log"))) {
                verb = sub.equals("log") ? "logs" : sub;
            }
            String ns = ra.path("namespace").asText("");
            String name = ra.path("name").asText("");
            String path = (group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version) + (ns.isEmpty() ? "" : "/namespaces/" + ns)
                    + "/" + resource + (name.isEmpty() ? "" : "/" + name) + (sub.isEmpty() ? "" : "/" + sub);
            return new KubeRequest("GET", path, "", true, verb, group, version, ns, resource, name, sub, List.of());
        }
        JsonNode nra = spec.path("nonResourceAttributes");
        if (nra.isObject() && !nra.path("path").asText("").isEmpty()) {
            String verb = nra.path("verb").asText("get").toLowerCase(Locale.ROOT);
            return new KubeRequest(verb.toUpperCase(Locale.ROOT), nra.path("path").asText(), "", false, verb, "", "", "", "", "", "", List.of());
        }
        return null;
    }

    private static boolean isProtobuf(byte[] body) {
        return body.length >= 4 && java.util.Arrays.equals(body, 0, 4, PROTOBUF_MAGIC, 0, 4);
    }

    /**
     * The spec of a protobuf {@code SelfSubjectAccessReview} as the JSON it stands for:
     * {@code runtime.Unknown{raw=2}} → {@code SelfSubjectAccessReview{spec=2}} → {@code spec{resourceAttributes=1
     * {namespace=1, verb=2, group=3, version=4, resource=5, subresource=6, name=7}, nonResourceAttributes=2{path=1, verb=2}}}.
     */
    static ObjectNode fromProtobuf(byte[] body) throws IOException {
        byte[] raw = field(java.util.Arrays.copyOfRange(body, 4, body.length), 2);
        ObjectNode review = JSON.createObjectNode().put("apiVersion", "authorization.k8s.io/v1");
        if (raw == null) return review;
        byte[] spec = field(raw, 2);
        if (spec == null) return review;
        ObjectNode s = review.putObject("spec");
        byte[] ra = field(spec, 1);
        if (ra != null) {
            ObjectNode o = s.putObject("resourceAttributes");
            String[] names = {"namespace", "verb", "group", "version", "resource", "subresource", "name"};
            for (int i = 0; i < names.length; i++) {
                byte[] v = field(ra, i + 1);
                if (v != null) o.put(names[i], new String(v, java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        byte[] nra = field(spec, 2);
        if (nra != null) {
            ObjectNode o = s.putObject("nonResourceAttributes");
            byte[] path = field(nra, 1);
            byte[] verb = field(nra, 2);
            if (path != null) o.put("path", new String(path, java.nio.charset.StandardCharsets.UTF_8));
            if (verb != null) o.put("verb", new String(verb, java.nio.charset.StandardCharsets.UTF_8));
        }
        return review;
    }

    /** The bytes of the first length-delimited field {@code number} of a message; null when absent. */
    private static byte[] field(byte[] message, int number) throws IOException {
        com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(message);
        int tag;
        while ((tag = in.readTag()) != 0) {
            if (com.google.protobuf.WireFormat.getTagFieldNumber(tag) == number
                    && com.google.protobuf.WireFormat.getTagWireType(tag) == com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                return in.readByteArray();
            }
            if (!in.skipField(tag)) break;
        }
        return null;
    }

    private static byte[] bytes(ObjectNode review) {
        return review.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
