package dev.portcullis.kubernetes;

import dev.portcullis.core.KubeRequest;
import dev.portcullis.core.Operation;
import dev.portcullis.policy.OperationCondition;
import java.util.List;
import java.util.Set;

/**
 * A rule's {@code when.kubernetes} block: conditions on a {@link KubeRequest}, read as RBAC reads a role;
 * every non-empty one must hold.
 *
 * <p>{@code resources} name a resource as RBAC does: {@code pods}, {@code deployments}, or with its
 * group {@code deployments.apps}, {@code widgets.example.com}. A name without a group means the resource
 * of the core group or of a built-in one (a group without a dot, or ending in {@code .k8s.io}), never a
 * custom resource, whose group always has a dot. A subresource is named {@code deployments/scale}; a
 * plain {@code pods} does not cover {@code pods/status}, as in RBAC. The streams of a pod ({@code log},
 * {@code exec}, {@code attach}, {@code portforward}) are verbs on {@code pods}.
 *
 * @param verbs        get, list, watch, create, update, patch, delete, deletecollection, exec, attach, portforward, logs
 * @param resources    see above
 * @param namespaces   namespaces; a cluster-scoped request, or one across all namespaces, is in none of them
 * @param names        object names; a collection request has none
 * @param commands     for exec: the program run, looked through wrappers ({@link KubeRequest#program()})
 * @param interactive  for exec and attach: true matches a shell, an interpreter or anything unreadable;
 *                     false only a command that names its program; null either
 * @param discovery    true: discovery, {@code /version} and {@code /openapi} reads only
 */
public record KubeCondition(Set<String> verbs, Set<String> resources, Set<String> namespaces, Set<String> names,
                            Set<String> commands, Boolean interactive, boolean discovery) implements OperationCondition {

    static final List<String> VERBS = List.of("get", "list", "watch", "create", "update", "patch", "delete",
            "deletecollection", "exec", "attach", "portforward", "logs", "proxy");

    public KubeCondition {
        verbs = Set.copyOf(verbs);
        resources = Set.copyOf(resources);
        namespaces = Set.copyOf(namespaces);
        names = Set.copyOf(names);
        commands = Set.copyOf(commands);
    }

    @Override
    public String protocol() {
        return "kubernetes";
    }

    @Override
    public boolean matches(Operation operation, boolean everyValue) {
        if (!(operation instanceof KubeRequest r)) return false;
        if (discovery) return isDiscovery(r);
        if (!verbs.isEmpty() && !verbs.contains(r.verb())) return false;
        if (!r.resourceRequest()) return false; // other non-resource paths (/metrics, /logs, /healthz...): no rule names them
        if (!resources.isEmpty() && !resourceMatches(r)) return false;
        if (!namespaces.isEmpty() && !namespaces.contains(r.namespace())) return false;
        if (!names.isEmpty() && !names.contains(r.name())) return false;
        if (!commands.isEmpty() && !(r.verb().equals("exec") && !r.interactive() && commands.contains(r.program()))) return false;
        if (interactive != null && interactive != r.interactive()) return false;
        return true;
    }

    /** {@code create selfsubjectaccessreviews.authorization.k8s.io}: what kubectl auth can-i sends. */
    static boolean isSelfReview(KubeRequest r) {
        return r.resourceRequest() && r.verb().equals("create") && r.apiGroup().equals("authorization.k8s.io")
                && r.resource().equals("selfsubjectaccessreviews") && r.namespace().isEmpty() && r.subresource().isEmpty();
    }

    private boolean resourceMatches(KubeRequest r) {
        boolean stream = r.apiGroup().isEmpty() && r.resource().equals("pods")
                && Set.of("exec", "attach", "portforward", "logs").contains(r.verb());
        String sub = r.subresource().isEmpty() || stream ? "" : "/" + r.subresource();
        if (resources.contains(r.resource() + (r.apiGroup().isEmpty() ? "" : "." + r.apiGroup()) + sub)) return true;
        return builtIn(r.apiGroup()) && resources.contains(r.resource() + sub);
    }

    /** The core group and Kubernetes' own groups; a custom resource's group always has a dot and is not under k8s.io. */
    private static boolean builtIn(String group) {
        return group.isEmpty() || group.indexOf('.') < 0 || group.endsWith(".k8s.io");
    }

    /**
     * {@code GET /version}, {@code /api}, {@code /api/VERSION}, {@code /apis}, {@code /apis/GROUP[/VERSION]},
     * {@code /openapi/...}; and a {@code SelfSubjectAccessReview} (kubectl auth can-i), which the gateway
     * answers itself from its policy.
     */
    static boolean isDiscovery(KubeRequest r) {
        if (isSelfReview(r)) return true;
        if (r.resourceRequest() || !(r.method().equals("GET") || r.method().equals("HEAD"))) return false;
        String p = r.path();
        while (p.endsWith("/") && p.length() > 1) p = p.substring(0, p.length() - 1);
        if (p.equals("/version") || p.equals("/api") || p.equals("/apis") || p.equals("/openapi/v2") || p.startsWith("/openapi/v3/")
                || p.equals("/openapi/v3") || p.equals("/swagger-2.0.0.pb-v1") || p.equals("/swagger.json")) { // the last two: OpenAPI v2's old paths
            return true;
        }
        String[] parts = p.substring(1).split("/");
        return (parts[0].equals("api") && parts.length == 2) || (parts[0].equals("apis") && parts.length <= 3);
    }
}
