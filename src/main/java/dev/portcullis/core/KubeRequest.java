package dev.portcullis.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A Kubernetes API request as policy sees it: a verb on a resource, parsed from the request path the
 * way the API server itself parses it (k8s.io/apiserver's {@code RequestInfoFactory}), so that the
 * gateway and the cluster agree on what a request does.
 *
 * <p>Resource requests: {@code /api/VERSION/...} (the core group, {@code ""}) and
 * {@code /apis/GROUP/VERSION/...}, cluster-scoped or under {@code namespaces/NAMESPACE/}; the verb
 * comes from the method ({@code get}, {@code list} or {@code watch} for a read, {@code create},
 * {@code update}, {@code patch}, {@code delete}, {@code deletecollection}) or the legacy path prefixes
 * {@code watch/} and {@code proxy/}. Streams are verbs of their own: a pod's {@code exec}, {@code attach}
 * and {@code portforward} subresources, and {@code log} as {@code logs}. Everything else ({@code /version},
 * discovery, {@code /openapi/v3}) is a non-resource request whose verb is the lower-case method.
 *
 * <p>Paths the API server would read differently from a proxy (empty, {@code .} or {@code ..}
 * segments) are refused by {@link #parse}, never guessed at.
 *
 * @param method      the HTTP method, upper case
 * @param path        the decoded path
 * @param rawQuery    the raw query, empty when none
 * @param resourceRequest whether the path names an API resource (else {@code verb} is the method)
 * @param verb        see above
 * @param apiGroup    the API group, {@code ""} for the core group
 * @param apiVersion  the API version, e.g. {@code v1}; empty for non-resource requests
 * @param namespace   the namespace, empty for cluster-scoped requests and those across all namespaces
 * @param resource    the resource, e.g. {@code pods}
 * @param name        the object's name, empty for collections (a list or watch narrowed to one name
 *                    with {@code fieldSelector=metadata.name=NAME} has it, as on the API server)
 * @param subresource the subresource, e.g. {@code status}, {@code exec}
 * @param command     for {@code exec}: the command, one element per {@code command} parameter
 */
public record KubeRequest(String method, String path, String rawQuery, boolean resourceRequest, String verb,
                          String apiGroup, String apiVersion, String namespace, String resource, String name,
                          String subresource, List<String> command) implements Operation {

    private static final Set<String> NAMESPACE_SUBRESOURCES = Set.of("status", "finalize");
    private static final Set<String> SPECIAL_VERBS = Set.of("proxy", "watch");
    private static final Set<String> READ_VERBS = Set.of("get", "list", "watch", "logs");
    /** Subresources of pods that are streams; each is a verb of its own here. */
    private static final Map<String, String> STREAM_VERBS = Map.of("exec", "exec", "attach", "attach",
            "portforward", "portforward", "log", "logs");

    public KubeRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        rawQuery = rawQuery == null ? "" : rawQuery;
        Objects.requireNonNull(verb, "verb");
        apiGroup = Objects.requireNonNullElse(apiGroup, "");
        apiVersion = Objects.requireNonNullElse(apiVersion, "");
        namespace = Objects.requireNonNullElse(namespace, "");
        resource = Objects.requireNonNullElse(resource, "");
        name = Objects.requireNonNullElse(name, "");
        subresource = Objects.requireNonNullElse(subresource, "");
        command = List.copyOf(command);
    }

    /**
     * Parses a request. {@code path} is the decoded path, already refused by the listener when its
     * encoding was ambiguous; {@code rawQuery} as received.
     *
     * @throws IllegalArgumentException the path cannot be read as the API server would read it; the
     *                                  message says why, for a {@code Status} of reason BadRequest
     */
    public static KubeRequest parse(String method, String path, String rawQuery) {
        String m = method.toUpperCase(Locale.ROOT);
        Map<String, List<String>> query = HttpCall.parseQuery(rawQuery);
        List<String> parts = split(path);
        if (parts.size() < 3 || !(parts.get(0).equals("api") || parts.get(0).equals("apis"))
                || (parts.get(0).equals("apis") && parts.size() < 4)) {
            return new KubeRequest(m, path, rawQuery, false, m.toLowerCase(Locale.ROOT), "", "", "", "", "", "", List.of());
        }
        int i = 1;
        String group = "";
        if (parts.get(0).equals("apis")) group = parts.get(i++);
        String version = parts.get(i++);
        String verb;
        boolean verbFromPath = false;
        if (SPECIAL_VERBS.contains(parts.get(i))) {
            if (parts.size() - i < 2) throw new IllegalArgumentException("unable to determine kind and namespace from " + path);
            verb = parts.get(i++);
            verbFromPath = true;
        } else {
            verb = switch (m) {
                case "POST" -> "create";
                case "GET", "HEAD" -> "get";
                case "PUT" -> "update";
                case "PATCH" -> "patch";
                case "DELETE" -> "delete";
                default -> "";
            };
        }
        if (verb.isEmpty()) throw new IllegalArgumentException("method " + m + " is not a Kubernetes API verb");

        List<String> rest = parts.subList(i, parts.size());
        String namespace = "";
        if (rest.get(0).equals("namespaces") && rest.size() > 1) {
            namespace = rest.get(1);
            // namespaces/NS/RESOURCE...: a namespaced resource; namespaces/NS/status|finalize: the namespace's own
            if (rest.size() > 2 && !NAMESPACE_SUBRESOURCES.contains(rest.get(2))) rest = rest.subList(2, rest.size());
        }
        String resource = rest.get(0);
        String name = rest.size() >= 2 ? rest.get(1) : "";
        String subresource = rest.size() >= 3 && !verb.equals("proxy") ? rest.get(2) : "";

        if (name.isEmpty() && verb.equals("get")) {
            verb = watchRequested(query) ? "watch" : "list";
            String selected = exactName(first(query, "fieldSelector"));
            if (selected != null) name = selected;
        }
        if (name.isEmpty() && verb.equals("delete")) verb = "deletecollection";
        if (!verbFromPath && group.isEmpty() && resource.equals("pods") && STREAM_VERBS.containsKey(subresource)) {
            verb = STREAM_VERBS.get(subresource);
        }
        List<String> command = verb.equals("exec") ? query.getOrDefault("command", List.of()) : List.of();
        return new KubeRequest(m, path, rawQuery, true, verb, group, version, namespace, resource, name, subresource, command);
    }

    /** Path segments; an empty, {@code .} or {@code ..} segment inside the path is refused. */
    private static List<String> split(String path) {
        String trimmed = path;
        while (trimmed.startsWith("/")) trimmed = trimmed.substring(1);
        while (trimmed.endsWith("/")) trimmed = trimmed.substring(0, trimmed.length() - 1);
        List<String> parts = new ArrayList<>();
        if (trimmed.isEmpty()) return parts;
        for (String p : trimmed.split("/", -1)) {
            if (p.isEmpty() || p.equals(".") || p.equals("..")) {
                throw new IllegalArgumentException("the path " + path + " has an empty, '.' or '..' segment");
            }
            parts.add(p);
        }
        return parts;
    }

    /** As the API server reads {@code watch}: any value but {@code false} or {@code 0} asks for a watch. */
    private static boolean watchRequested(Map<String, List<String>> query) {
        String watch = first(query, "watch");
        if (watch == null) return false;
        String w = watch.toLowerCase(Locale.ROOT);
        return !(w.equals("false") || w.equals("0"));
    }

    /** The name a field selector requires exactly ({@code metadata.name=NAME} or {@code ==}), if it is a valid name. */
    private static String exactName(String selector) {
        if (selector == null) return null;
        for (String term : selector.split(",")) {
            String t = term.strip();
            String value = null;
            if (t.startsWith("metadata.name==")) value = t.substring("metadata.name==".length());
            else if (t.startsWith("metadata.name=")) value = t.substring("metadata.name=".length());
            if (value != null) {
                value = value.strip();
                boolean valid = !value.isEmpty() && !value.equals(".") && !value.equals("..")
                        && value.indexOf('/') < 0 && value.indexOf('%') < 0;
                return valid ? value : null;
            }
        }
        return null;
    }

    private static String first(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    /** Shells and interpreters: a command run by one of them cannot be judged from its name, so it counts as interactive. */
    private static final Set<String> INTERPRETERS = Set.of("sh", "bash", "zsh", "ash", "dash", "ksh", "mksh", "csh", "tcsh",
            "fish", "python", "python2", "python3", "perl", "ruby", "irb", "node", "nodejs", "php", "lua", "pwsh",
            "powershell", "tclsh", "wish", "expect", "awk", "gawk", "mawk", "nawk", "jshell", "groovy", "R", "Rscript", "osqueryi");
    /** Programs that run another program named in their arguments: looked through. */
    private static final Set<String> WRAPPERS = Set.of("env", "nice", "nohup", "timeout", "stdbuf", "ionice", "setsid",
            "sudo", "doas", "su", "runuser", "chroot", "busybox", "xargs", "exec", "command", "time", "strace", "ltrace",
            "watch", "flock", "taskset", "chrt", "unshare", "nsenter", "script", "tini", "dumb-init", "gosu", "su-exec");
    /** Wrapper options that take the next argument as their value. */
    private static final Set<String> VALUE_OPTIONS = Set.of("-n", "-s", "-k", "-u", "-C", "-c", "-g", "-p", "-t", "-i",
            "--signal", "--kill-after", "--user", "--group", "--chdir", "--adjustment", "--unset", "-d", "-P", "-L", "-E");

    /** A followed log ({@code follow=true}): answered for as long as the container writes. */
    public boolean follows() {
        if (!verb.equals("logs")) return false;
        String follow = first(HttpCall.parseQuery(rawQuery), "follow");
        return follow != null && !(follow.equalsIgnoreCase("false") || follow.equals("0"));
    }

    /**
     * The program an {@code exec} runs, looked through wrappers ({@code env A=1 ls} runs {@code ls},
     * {@code timeout 5 cat} runs {@code cat}), by its file name ({@code /bin/ls} is {@code ls}); empty when
     * there is no command or it cannot be read (a wrapper option the gateway does not know, {@code env -S}).
     */
    public String program() {
        int i = 0;
        while (i < command.size()) {
            String name = baseName(command.get(i));
            if (!WRAPPERS.contains(name)) return name;
            i++;
            boolean timeout = name.equals("timeout");
            while (i < command.size()) {
                String arg = command.get(i);
                if (arg.equals("-S") || arg.startsWith("--split-string") || (name.equals("env") && arg.startsWith("-S"))) return "";
                if (arg.equals("--")) {
                    i++;
                    break;
                }
                if (arg.startsWith("-") && arg.length() > 1) {
                    i += VALUE_OPTIONS.contains(arg) ? 2 : 1;
                } else if (name.equals("env") && arg.indexOf('=') > 0) {
                    i++;
                } else if (timeout) {
                    i++; // the duration
                    timeout = false;
                } else {
                    break;
                }
            }
            if (i >= command.size() && !name.equals("env")) return "";
            if (i >= command.size()) return "env"; // env alone prints the environment
        }
        return "";
    }

    /**
     * An exec whose command cannot be judged from what it names: no command, a shell or an interpreter
     * (whatever its arguments: {@code sh -c '...'}, {@code python -c '...'}), or one the gateway cannot read.
     * An attach is always interactive.
     */
    public boolean interactive() {
        if (verb.equals("attach")) return true;
        if (!verb.equals("exec")) return false;
        String program = program();
        return program.isEmpty() || INTERPRETERS.contains(program) || program.matches("(python|perl|ruby|php|lua|node)[0-9.]*");
    }

    private static String baseName(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }

    @Override
    public String protocol() {
        return "kubernetes";
    }

    /** e.g. {@code list pods in dev}, {@code get secrets/db in staging}, {@code exec pods/web-1 in dev: ls -la}, {@code get /version}. */
    @Override
    public String summary() {
        if (!resourceRequest) return verb + " " + path;
        StringBuilder sb = new StringBuilder(verb).append(' ').append(resource);
        if (!apiGroup.isEmpty()) sb.append('.').append(apiGroup);
        if (!name.isEmpty()) sb.append('/').append(name);
        if (!subresource.isEmpty() && !STREAM_VERBS.containsKey(subresource)) sb.append('/').append(subresource);
        sb.append(namespace.isEmpty() ? "" : " in " + namespace);
        if (!command.isEmpty()) sb.append(": ").append(String.join(" ", command));
        return sb.toString();
    }

    /** Method, path and raw query, as for any HTTP call; the body is added by whoever holds its bytes. */
    @Override
    public List<String> identity() {
        return List.of(method, path, rawQuery);
    }

    @Override
    public boolean bodyIsPartOfIdentity() {
        return true;
    }

    /** Reads do not change the cluster; writes, deletes and the streams into containers may. */
    @Override
    public boolean mayChangeTarget() {
        if (!resourceRequest) return !(method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS"));
        return !READ_VERBS.contains(verb);
    }
}
