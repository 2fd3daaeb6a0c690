package dev.portcullis.dev;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.Json;
import dev.portcullis.core.KubeRequest;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A stand-in for a Kubernetes API server (NOT a cluster): what kubectl needs to list, get, create,
 * update, patch and delete pods, services, configmaps, secrets, events, namespaces and deployments,
 * in the API server's wire format: {@code /version}, legacy discovery ({@code /api}, {@code /apis},
 * resource lists), objects with {@code resourceVersion}, {@code Table} answers when asked for them (as
 * kubectl does), and {@code Status} errors. Every request is logged, so tests can prove what never
 * arrived. Bodies are JSON only: kubectl's generators ({@code kubectl create configmap ...}) send
 * protobuf, which gets 415 here (a gateway that judges and masks bodies reads JSON); manifests
 * ({@code -f}) and {@code apply} send JSON. Watches stream one event per line; a pod's log is text, followed
 * with {@code follow=true}. A pod's {@code exec} and {@code attach} run a tiny {@link StandInContainer} over
 * WebSocket or SPDY, and a port-forward reaches ports that echo ({@link KubeExecFront}). Not served:
 * OpenAPI documents (so kubectl's {@code create -f} and {@code apply} need {@code --validate=false} against it).
 */
public final class KubeApiStandIn implements AutoCloseable {
    private static final ObjectMapper JSON = Json.mapper();

    /** One kind of object this stand-in serves. */
    private record Kind(String group, String version, String resource, String singular, String kind, boolean namespaced,
                        List<String> shortNames) {
        String apiVersion() {
            return group.isEmpty() ? version : group + "/" + version;
        }
    }

    private static final List<Kind> KINDS = List.of(
            new Kind("", "v1", "namespaces", "namespace", "Namespace", false, List.of("ns")),
            new Kind("", "v1", "pods", "pod", "Pod", true, List.of("po")),
            new Kind("", "v1", "services", "service", "Service", true, List.of("svc")),
            new Kind("", "v1", "configmaps", "configmap", "ConfigMap", true, List.of("cm")),
            new Kind("", "v1", "secrets", "secret", "Secret", true, List.of()),
            new Kind("", "v1", "events", "event", "Event", true, List.of("ev")),
            new Kind("apps", "v1", "deployments", "deployment", "Deployment", true, List.of("deploy")));
    private static final List<String> VERBS = List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");

    /** A request as received; {@code authorization} is the header as sent, empty when none. */
    public record Received(String method, String path, String query, String authorization) {
    }

    private final Clock clock;
    private final LocalServer server;
    /** Where clients connect: exec and attach served there, everything else relayed to {@link #server}. */
    private final KubeExecFront front;
    private final AtomicLong resourceVersion = new AtomicLong(1000);
    /** Objects by "group/resource/namespace/name". */
    private final Map<String, ObjectNode> objects = new TreeMap<>();
    /** The latest {@value #LOG_LIMIT} requests (a benchmark sends millions); guarded by itself. */
    private final java.util.ArrayDeque<Received> received = new java.util.ArrayDeque<>();
    private static final int LOG_LIMIT = 10_000;
    /** Each pod's log lines, by "namespace/name"; guarded by this. */
    private final Map<String, List<String>> logs = new TreeMap<>();

    /** Open watches; each gets every change to the objects it watches. */
    private final List<Watch> watches = new CopyOnWriteArrayList<>();

    private record Watch(Kind kind, String namespace, String name, BlockingQueue<ObjectNode> events) {
        boolean sees(Kind k, ObjectNode object) {
            JsonNode m = object.path("metadata");
            return k == kind && (namespace.isEmpty() || namespace.equals(m.path("namespace").asText()))
                    && (name.isEmpty() || name.equals(m.path("name").asText()));
        }
    }

    /** The bearer token every request must carry (the cluster credential the gateway holds); null: none needed. */
    private final String token;

    private KubeApiStandIn(Clock clock, int port, String token) {
        this.clock = clock;
        this.token = token;
        this.server = LocalServer.start("kube-standin", 0, new Routes());
        this.front = KubeExecFront.start(port, server.baseUri(), new KubeExecFront.Api() {
            @Override
            public boolean authorized(String authorization) {
                return token == null || authorization.equals("Bearer " + token);
            }

            @Override
            public void received(String method, String path, String query, String authorization) {
                logRequest(new Received(method, path, query, authorization));
            }

            @Override
            public boolean podExists(String namespace, String name) {
                synchronized (KubeApiStandIn.this) {
                    return objects.containsKey(key(kind("", "pods"), namespace, name));
                }
            }
        });
    }

    /** Starts on 127.0.0.1:{@code port} (0: any) with namespaces dev, staging and kube-system. */
    public static KubeApiStandIn start(int port) {
        return start(port, null);
    }

    /** As {@link #start(int)}, answering only requests with {@code Authorization: Bearer token} (401 Unauthorized otherwise). */
    public static KubeApiStandIn start(int port, String token) {
        KubeApiStandIn api = new KubeApiStandIn(Clock.systemUTC(), port, token);
        for (String ns : List.of("default", "dev", "staging", "kube-system")) {
            api.put("namespaces", "", JSON.createObjectNode().put("apiVersion", "v1").put("kind", "Namespace")
                    .set("metadata", JSON.createObjectNode().put("name", ns)));
        }
        return api;
    }

    /**
     * A small cluster to try kubectl on: pods web-1 and web-2 (with log lines) and a ConfigMap in dev, a
     * deployment web with its pod in staging, a Secret db in dev and in staging, a pod in kube-system.
     */
    public KubeApiStandIn seedDemo() {
        for (String ns : List.of("dev", "staging", "kube-system")) {
            List<String> pods = ns.equals("dev") ? List.of("web-1", "web-2") : ns.equals("staging") ? List.of("web-7d9f-x2k4p") : List.of("coredns-1");
            for (String pod : pods) {
                ObjectNode p = JSON.createObjectNode();
                p.putObject("metadata").put("name", pod).putObject("labels").put("app", pod.startsWith("web") ? "web" : "dns");
                p.putObject("spec").putArray("containers").addObject().put("name", "app").put("image", "nginx:1.27");
                p.putObject("status").put("phase", "Running");
                put("pods", ns, p);
                log(ns, pod, "listening on :8080");
                log(ns, pod, "GET /healthz 200");
            }
        }
        ObjectNode deployment = JSON.createObjectNode();
        deployment.putObject("metadata").put("name", "web");
        ObjectNode spec = deployment.putObject("spec").put("replicas", 1);
        spec.putObject("selector").putObject("matchLabels").put("app", "web");
        ObjectNode template = spec.putObject("template");
        template.putObject("metadata").putObject("labels").put("app", "web");
        template.putObject("spec").putArray("containers").addObject().put("name", "app").put("image", "nginx:1.27");
        put("deployments", "staging", deployment);
        ObjectNode config = JSON.createObjectNode();
        config.putObject("metadata").put("name", "settings");
        config.putObject("data").put("mode", "fast").put("contact", "oncall@example.com");
        put("configmaps", "dev", config);
        for (String ns : List.of("dev", "staging")) {
            ObjectNode secret = JSON.createObjectNode().put("type", "Opaque");
            secret.putObject("metadata").put("name", "db");
            secret.putObject("data").put("password", java.util.Base64.getEncoder().encodeToString(("s3cret-" + ns).getBytes(StandardCharsets.UTF_8)));
            put("secrets", ns, secret);
        }
        return this;
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + front.port());
    }

    private void logRequest(Received r) {
        synchronized (received) {
            if (received.size() >= LOG_LIMIT) received.removeFirst();
            received.addLast(r);
        }
    }

    /** Every request received (the latest 10,000), oldest first. */
    public List<Received> received() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    public void reset() {
        synchronized (received) {
            received.clear();
        }
    }

    /** Watch events produced but not yet written to their clients (a client that does not read holds them here). */
    public int pendingWatchEvents() {
        int n = 0;
        for (Watch w : watches) n += w.events().size();
        return n;
    }

    /** Appends a line to a pod's log (what its container printed); a follower sees it at once. */
    public synchronized void log(String namespace, String pod, String line) {
        logs.computeIfAbsent(namespace + "/" + pod, k -> new ArrayList<>()).add(line);
        notifyAll();
    }

    /** Stores an object as a create would (for tests and seeding); returns what is stored. */
    public synchronized ObjectNode put(String resource, String namespace, ObjectNode object) {
        Kind kind = kind("", resource);
        if (kind == null) kind = kind("apps", resource);
        Objects.requireNonNull(kind, resource);
        return store(kind, namespace, object.deepCopy());
    }

    private ObjectNode store(Kind kind, String namespace, ObjectNode object) {
        ObjectNode metadata = object.with("metadata");
        if (kind.namespaced()) metadata.put("namespace", namespace);
        if (!metadata.has("uid")) metadata.put("uid", UUID.randomUUID().toString());
        if (!metadata.has("creationTimestamp")) metadata.put("creationTimestamp", clock.instant().truncatedTo(ChronoUnit.SECONDS).toString());
        metadata.put("resourceVersion", Long.toString(resourceVersion.incrementAndGet()));
        object.put("apiVersion", kind.apiVersion());
        object.put("kind", kind.kind());
        ObjectNode before = objects.put(key(kind, kind.namespaced() ? namespace : "", metadata.path("name").asText()), object);
        changed(kind, before == null ? "ADDED" : "MODIFIED", object);
        return object;
    }

    private void changed(Kind kind, String type, ObjectNode object) {
        for (Watch w : watches) {
            if (!w.sees(kind, object)) continue;
            ObjectNode event = JSON.createObjectNode().put("type", type);
            event.set("object", object.deepCopy());
            w.events().add(event);
        }
    }

    private static String key(Kind kind, String namespace, String name) {
        return kind.group() + "/" + kind.resource() + "/" + namespace + "/" + name;
    }

    private static Kind kind(String group, String resource) {
        for (Kind k : KINDS) if (k.group().equals(group) && k.resource().equals(resource)) return k;
        return null;
    }

    private volatile boolean closed;

    @Override
    public void close() {
        // As a cluster that dies: its clients' connections are cut first (a watch ends without its last
        // chunk), then the watches' loops and the HTTP server stop.
        front.close();
        closed = true;
        server.close();
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String path = Request.getPathInContext(request);
            String query = Objects.requireNonNullElse(request.getHttpURI().getQuery(), "");
            String authorization = Objects.requireNonNullElse(request.getHeaders().get(HttpHeader.AUTHORIZATION), "");
            logRequest(new Received(request.getMethod(), path, query, authorization));
            if (token != null && !authorization.equals("Bearer " + token)) {
                Content.Source.consumeAll(request);
                response.setStatus(401);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                response.write(true, ByteBuffer.wrap(JSON.writeValueAsBytes(status(401, "Unauthorized", "Unauthorized").body())), callback);
                return true;
            }
            String body = Content.Source.asString(request, StandardCharsets.UTF_8);
            String accept = Objects.requireNonNullElse(request.getHeaders().get(HttpHeader.ACCEPT), "");
            String contentType = Objects.requireNonNullElse(request.getHeaders().get(HttpHeader.CONTENT_TYPE), "application/json");
            if (request.getMethod().equals("GET") && path.endsWith("/log")) {
                KubeRequest r = KubeRequest.parse("GET", path, query);
                if (r.verb().equals("logs")) {
                    podLog(r, response, callback);
                    return true;
                }
            }
            if (request.getMethod().equals("GET") && isWatch(path, query)) {
                watch(KubeRequest.parse("GET", path, query), accept, response, callback);
                return true;
            }
            Answer answer;
            if (!body.isEmpty() && !contentType.startsWith("application/json") && !contentType.contains("patch+json")) {
                // JSON only, as a gateway that masks would ask for: protobuf and CBOR are refused, and clients fall back
                answer = status(415, "UnsupportedMediaType", "the body of type " + contentType + " is not supported; send JSON");
            } else {
                try {
                    answer = route(request.getMethod(), path, query, body, accept);
                } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
                    answer = status(400, "BadRequest", e.getMessage());
                }
            }
            response.setStatus(answer.code());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.write(true, ByteBuffer.wrap(JSON.writeValueAsBytes(answer.body())), callback);
            return true;
        }
    }

    private record Answer(int code, JsonNode body) {
    }

    /** A pod's log as text, and with {@code follow=true} every line added while the client stays. */
    private void podLog(KubeRequest r, Response response, Callback callback) throws Exception {
        String key = r.namespace() + "/" + r.name();
        synchronized (this) {
            if (!objects.containsKey(key(kind("", "pods"), r.namespace(), r.name()))) {
                response.setStatus(404);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                response.write(true, ByteBuffer.wrap(JSON.writeValueAsBytes(notFound(kind("", "pods"), r.name()).body())), callback);
                return;
            }
        }
        boolean follow = dev.portcullis.core.HttpCall.parseQuery(r.rawQuery()).getOrDefault("follow", List.of("false"))
                .getFirst().equals("true");
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
        OutputStream out = Content.Sink.asOutputStream(response);
        try {
            int sent = 0;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            do {
                List<String> lines;
                synchronized (this) {
                    List<String> all = logs.getOrDefault(key, List.of());
                    if (follow && all.size() == sent && !closed) wait(200);
                    lines = List.copyOf(logs.getOrDefault(key, List.of()));
                }
                for (; sent < lines.size(); sent++) out.write((lines.get(sent) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } while (follow && !closed && System.nanoTime() < deadline);
            out.close();
            callback.succeeded();
        } catch (java.io.IOException e) {
            callback.failed(e); // the client left
        }
    }

    private static boolean isWatch(String path, String query) {
        try {
            return KubeRequest.parse("GET", path, query).verb().equals("watch");
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * A watch: one JSON event per line, as the API server streams them, until {@code timeoutSeconds}
     * (at most 5 minutes) or the client leaves. Without a {@code resourceVersion} the existing objects
     * come first as ADDED; kubectl lists first and watches from the list's version, so gets only changes.
     * Asked for Tables (as {@code kubectl get -w} does), each event's object is a one-row Table.
     */
    private static long parseVersion(String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void watch(KubeRequest r, String accept, Response response, Callback callback) throws Exception {
        Kind kind = kind(r.apiGroup(), r.resource());
        if (kind == null) {
            response.setStatus(404);
            response.write(true, ByteBuffer.wrap(JSON.writeValueAsBytes(status(404, "NotFound",
                    "the server could not find the requested resource").body())), callback);
            return;
        }
        java.util.Map<String, List<String>> query = dev.portcullis.core.HttpCall.parseQuery(r.rawQuery());
        long timeout = Math.min(300, Long.parseLong(query.getOrDefault("timeoutSeconds", List.of("300")).getFirst()));
        String since = query.getOrDefault("resourceVersion", List.of("")).getFirst();
        boolean fromNow = !since.isEmpty() && !since.equals("0");
        boolean table = accept.contains("as=Table");
        Watch w = new Watch(kind, kind.namespaced() ? r.namespace() : "", r.name(), new LinkedBlockingQueue<>());
        synchronized (this) {
            watches.add(w);
            // From a resourceVersion (what a client sends after its list): what changed since, as the API
            // server's watch cache replays it, so a change between the list and the watch is not lost.
            long after = fromNow ? parseVersion(since) : -1;
            for (ObjectNode o : matching(kind, r)) {
                if (fromNow && parseVersion(o.path("metadata").path("resourceVersion").asText("0")) <= after) continue;
                ObjectNode event = JSON.createObjectNode().put("type", "ADDED");
                event.set("object", o.deepCopy());
                w.events().add(event);
            }
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeout);
        OutputStream out = Content.Sink.asOutputStream(response);
        try {
            out.flush();
            while (System.nanoTime() < deadline && !closed) {
                ObjectNode event = w.events().poll(200, TimeUnit.MILLISECONDS);
                if (event == null) continue;
                if (table) event.set("object", table(kind, List.of((ObjectNode) event.get("object"))));
                out.write(JSON.writeValueAsBytes(event));
                out.write('\n');
                out.flush();
            }
            out.close();
            callback.succeeded();
        } catch (java.io.IOException e) {
            callback.failed(e); // the client left
        } finally {
            watches.remove(w);
        }
    }

    private Answer route(String method, String path, String query, String body, String accept) throws Exception {
        switch (path) {
            case "/version" -> {
                return new Answer(200, JSON.createObjectNode().put("major", "1").put("minor", "33").put("gitVersion", "v1.33.0")
                        .put("gitCommit", "portcullis-standin").put("platform", "linux/amd64"));
            }
            case "/api" -> {
                ObjectNode versions = JSON.createObjectNode().put("kind", "APIVersions");
                versions.putArray("versions").add("v1");
                versions.putArray("serverAddressByClientCIDRs").addObject().put("clientCIDR", "0.0.0.0/0")
                        .put("serverAddress", url().getAuthority());
                return new Answer(200, versions);
            }
            case "/apis" -> {
                ObjectNode groups = JSON.createObjectNode().put("kind", "APIGroupList").put("apiVersion", "v1");
                ObjectNode apps = groups.putArray("groups").addObject().put("name", "apps");
                apps.putArray("versions").addObject().put("groupVersion", "apps/v1").put("version", "v1");
                apps.putObject("preferredVersion").put("groupVersion", "apps/v1").put("version", "v1");
                return new Answer(200, groups);
            }
            case "/api/v1" -> {
                return new Answer(200, resourceList("v1"));
            }
            case "/apis/apps/v1" -> {
                return new Answer(200, resourceList("apps/v1"));
            }
            default -> {
            }
        }
        KubeRequest r = KubeRequest.parse(method, path, query);
        if (!r.resourceRequest()) return status(404, "NotFound", "the server could not find the requested resource");
        Kind kind = kind(r.apiGroup(), r.resource());
        if (kind == null || !kind.version().equals(r.apiVersion())) {
            return status(404, "NotFound", "the server could not find the requested resource");
        }
        if (!r.subresource().isEmpty()) return status(404, "NotFound", "the server could not find the requested resource");
        // For a cluster-scoped kind the "namespace" the path names is the object itself (namespaces/NAME).
        String ns = kind.namespaced() ? r.namespace() : "";
        synchronized (this) {
            return switch (r.verb()) {
                case "list" -> new Answer(200, accept.contains("as=Table") ? table(kind, r) : list(kind, r));
                case "get" -> {
                    ObjectNode o = objects.get(key(kind, ns, r.name()));
                    yield o == null ? notFound(kind, r.name()) : new Answer(200, accept.contains("as=Table") ? table(kind, List.of(o)) : o);
                }
                case "create" -> {
                    ObjectNode o = (ObjectNode) JSON.readTree(body);
                    String name = o.path("metadata").path("name").asText("");
                    if (name.isEmpty()) yield status(422, "Invalid", kind.kind() + " is invalid: metadata.name: Required value");
                    if (objects.containsKey(key(kind, ns, name))) {
                        yield status(409, "AlreadyExists", kind.resource() + " \"" + name + "\" already exists");
                    }
                    yield new Answer(201, store(kind, ns, o));
                }
                case "update" -> {
                    if (!objects.containsKey(key(kind, ns, r.name()))) yield notFound(kind, r.name());
                    yield new Answer(200, store(kind, ns, (ObjectNode) JSON.readTree(body)));
                }
                case "patch" -> {
                    ObjectNode o = objects.get(key(kind, ns, r.name()));
                    if (o == null) yield notFound(kind, r.name());
                    ObjectNode patched = o.deepCopy();
                    merge(patched, JSON.readTree(body));
                    yield new Answer(200, store(kind, ns, patched));
                }
                case "delete" -> {
                    ObjectNode o = objects.remove(key(kind, ns, r.name()));
                    if (o != null) changed(kind, "DELETED", o);
                    yield o == null ? notFound(kind, r.name()) : new Answer(200, o);
                }
                default -> status(405, "MethodNotAllowed", r.verb() + " is not served by this stand-in");
            };
        }
    }

    /** JSON merge patch (RFC 7386), which is what strategic merge patch amounts to for the fields used here. */
    private static void merge(ObjectNode target, JsonNode patch) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getValue().isNull()) target.remove(f.getKey());
            else if (f.getValue().isObject() && target.get(f.getKey()) instanceof ObjectNode inner) merge(inner, f.getValue());
            else target.set(f.getKey(), f.getValue().deepCopy());
        }
    }

    private List<ObjectNode> matching(Kind kind, KubeRequest r) {
        List<ObjectNode> items = new ArrayList<>();
        String prefix = kind.group() + "/" + kind.resource() + "/" + (kind.namespaced() ? r.namespace() : "");
        for (Map.Entry<String, ObjectNode> e : objects.entrySet()) {
            boolean inScope = r.namespace().isEmpty() ? e.getKey().startsWith(kind.group() + "/" + kind.resource() + "/")
                    : e.getKey().startsWith(prefix + "/");
            if (inScope && (r.name().isEmpty() || e.getValue().path("metadata").path("name").asText().equals(r.name()))) {
                items.add(e.getValue());
            }
        }
        return items;
    }

    private ObjectNode list(Kind kind, KubeRequest r) {
        ObjectNode list = JSON.createObjectNode().put("kind", kind.kind() + "List").put("apiVersion", kind.apiVersion());
        list.putObject("metadata").put("resourceVersion", Long.toString(resourceVersion.get()));
        ArrayNode items = list.putArray("items");
        for (ObjectNode o : matching(kind, r)) {
            ObjectNode item = o.deepCopy();
            item.remove("kind"); // as the API server writes list items
            item.remove("apiVersion");
            items.add(item);
        }
        return list;
    }

    private ObjectNode table(Kind kind, KubeRequest r) {
        return table(kind, matching(kind, r));
    }

    /** What kubectl's default output asks for: rows with Name and Age, each with the object's metadata. */
    private ObjectNode table(Kind kind, List<ObjectNode> objectsInTable) {
        ObjectNode table = JSON.createObjectNode().put("kind", "Table").put("apiVersion", "meta.k8s.io/v1");
        table.putObject("metadata").put("resourceVersion", Long.toString(resourceVersion.get()));
        ArrayNode columns = table.putArray("columnDefinitions");
        columns.addObject().put("name", "Name").put("type", "string").put("format", "name").put("description", "Name").put("priority", 0);
        columns.addObject().put("name", "Age").put("type", "string").put("format", "").put("description", "Age").put("priority", 0);
        ArrayNode rows = table.putArray("rows");
        for (ObjectNode o : objectsInTable) {
            ObjectNode row = rows.addObject();
            ArrayNode cells = row.putArray("cells");
            cells.add(o.path("metadata").path("name").asText());
            cells.add(age(o.path("metadata").path("creationTimestamp").asText()));
            ObjectNode partial = row.putObject("object").put("kind", "PartialObjectMetadata").put("apiVersion", "meta.k8s.io/v1");
            partial.set("metadata", o.path("metadata").deepCopy());
        }
        return table;
    }

    private String age(String created) {
        try {
            long s = ChronoUnit.SECONDS.between(Instant.parse(created), clock.instant());
            return s < 120 ? s + "s" : s / 60 + "m";
        } catch (RuntimeException e) {
            return "<unknown>";
        }
    }

    private ObjectNode resourceList(String groupVersion) {
        ObjectNode list = JSON.createObjectNode().put("kind", "APIResourceList").put("apiVersion", "v1").put("groupVersion", groupVersion);
        ArrayNode resources = list.putArray("resources");
        for (Kind k : KINDS) {
            if (!k.apiVersion().equals(groupVersion)) continue;
            ObjectNode res = resources.addObject().put("name", k.resource()).put("singularName", k.singular())
                    .put("namespaced", k.namespaced()).put("kind", k.kind());
            ArrayNode verbs = res.putArray("verbs");
            VERBS.forEach(verbs::add);
            ArrayNode shortNames = res.putArray("shortNames");
            k.shortNames().forEach(shortNames::add);
        }
        return list;
    }

    private static Answer notFound(Kind kind, String name) {
        return status(404, "NotFound", kind.resource() + (kind.group().isEmpty() ? "" : "." + kind.group()) + " \"" + name + "\" not found");
    }

    private static Answer status(int code, String reason, String message) {
        ObjectNode status = JSON.createObjectNode().put("kind", "Status").put("apiVersion", "v1");
        status.putObject("metadata");
        status.put("status", "Failure").put("message", message).put("reason", reason).put("code", code);
        return new Answer(code, status);
    }
}
