package dev.portcullis.dev;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A stand-in for an Okta org's admin API on 127.0.0.1, answering in Okta's own JSON shapes so that Okta's Java
 * SDK works against it unchanged. Not for production.
 *
 * <p>Requests must carry {@code Authorization: SSWS <apiToken>}. Every request that arrives, refused or not,
 * is kept in {@link #received()}, so a test can prove what did (or did not) reach the target.
 *
 * <p>Served: {@code GET/POST /api/v1/users}, {@code GET/POST/PUT/DELETE /api/v1/users/{id}} (GET also by login),
 * {@code POST /api/v1/users/{id}/lifecycle/deactivate}, {@code GET/POST /api/v1/users/{id}/roles},
 * {@code DELETE /api/v1/users/{id}/roles/{roleAssignmentId}}.
 */
public final class DemoOkta implements AutoCloseable {
    public static final int DEFAULT_PAGE_SIZE = 200;
    /** Far above Okta's own cap, so a test can pull a large org in one response. */
    public static final int MAX_PAGE_SIZE = 100_000;
    static final int RATE_LIMIT_PER_MINUTE = 600;

    private static final Logger log = LoggerFactory.getLogger(DemoOkta.class);
    private static final String USERS = "/api/v1/users";

    private final LocalServer server;
    private final URI orgUrl;
    private final byte[] expectedAuthorization;
    private final Clock clock;
    private final OktaIds ids;
    private final UserDirectory directory = new UserDirectory();
    private final ConcurrentLinkedQueue<ReceivedRequest> received = new ConcurrentLinkedQueue<>();
    private final RateWindow rateWindow = new RateWindow();

    private DemoOkta(String bind, int port, URI publicUrl, String apiToken, int seededUsers, Clock clock, long seed) {
        if (Objects.requireNonNull(apiToken, "apiToken").isBlank()) {
            throw new IllegalArgumentException("apiToken must not be blank");
        }
        this.expectedAuthorization = ("SSWS " + apiToken).getBytes(StandardCharsets.UTF_8);
        this.clock = Objects.requireNonNull(clock, "clock");
        var random = new Random(seed);
        this.ids = new OktaIds(random);
        for (OktaUser user : SeedUsers.generate(seededUsers, ids, random, clock.instant())) {
            try {
                directory.add(user);
            } catch (UserDirectory.DuplicateLoginException e) {
                throw new IllegalStateException("seed logins are unique by construction: " + e.getMessage(), e);
            }
        }
        this.server = LocalServer.start("demo-okta", bind, port, publicUrl, new Routes());
        this.orgUrl = server.baseUri();
        log.warn("DEMO OKTA at {} is a stand-in with {} generated users, NOT an Okta org", orgUrl, seededUsers);
    }

    /** @param port 0 for a random free port */
    public static DemoOkta start(int port, String apiToken, int seededUsers) {
        return start(port, apiToken, seededUsers, Clock.systemUTC(), 42L);
    }

    /** @param seed the same seed gives the same users (names, phones, ids) */
    public static DemoOkta start(int port, String apiToken, int seededUsers, Clock clock, long seed) {
        return new DemoOkta("127.0.0.1", port, null, apiToken, seededUsers, clock, seed);
    }

    /** On {@code bind} (a container network), its links pointing at {@code publicUrl}, as the gateway reaches it. */
    public static DemoOkta start(String bind, int port, URI publicUrl, String apiToken, int seededUsers) {
        return new DemoOkta(bind, port, publicUrl, apiToken, seededUsers, Clock.systemUTC(), 42L);
    }

    /** {@code http://127.0.0.1:PORT}: the Okta SDK's org URL. */
    public URI orgUrl() {
        return orgUrl;
    }

    /** Ids of all current users (deprovisioned included), in list order. */
    public List<String> userIds() {
        return directory.ids();
    }

    /** Every request received since start or {@link #reset()}, oldest first. */
    public List<ReceivedRequest> received() {
        return List.copyOf(received);
    }

    /** Forgets the request log; users and roles are kept. */
    public void reset() {
        received.clear();
    }

    @Override
    public void close() {
        server.close();
    }

    private boolean authorized(Optional<String> authorization) {
        return authorization.isPresent()
                && MessageDigest.isEqual(expectedAuthorization, authorization.get().getBytes(StandardCharsets.UTF_8));
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String path = Request.getPathInContext(request);
            String query = Objects.requireNonNullElse(request.getHttpURI().getQuery(), "");
            Optional<String> authorization = Optional.ofNullable(request.getHeaders().get(HttpHeader.AUTHORIZATION));
            String body = Content.Source.asString(request, StandardCharsets.UTF_8);
            List<String> headerNames = request.getHeaders().stream()
                    .map(h -> h.getName().toLowerCase(java.util.Locale.ROOT)).toList();
            received.add(new ReceivedRequest(request.getMethod(), path, query, authorization, body, headerNames));
            rateWindow.writeHeaders(response, clock.instant());

            var exchange = new Exchange(request, response, callback, body);
            if (!authorized(authorization)) {
                exchange.error(OktaError.invalidToken());
                return true;
            }
            if (!path.equals(USERS) && !path.startsWith(USERS + "/")) {
                exchange.error(OktaError.notFound(path, "Page"));
                return true;
            }
            String[] segments = path.substring(USERS.length()).split("/");
            // segments[0] is "" (before the leading slash) when there is a sub-path
            route(exchange, request.getMethod(), segments.length <= 1 ? List.of() : List.of(segments).subList(1, segments.length));
            return true;
        }

        private void route(Exchange ex, String method, List<String> rest) {
            switch (rest.size()) {
                case 0 -> {
                    switch (method) {
                        case "GET" -> listUsers(ex);
                        case "POST" -> createUser(ex);
                        default -> ex.error(OktaError.methodNotAllowed(method));
                    }
                }
                case 1 -> {
                    switch (method) {
                        case "GET" -> withUser(ex, rest.get(0), user -> ex.user(200, user));
                        case "POST" -> updateUser(ex, rest.get(0), false);
                        case "PUT" -> updateUser(ex, rest.get(0), true);
                        case "DELETE" -> deleteUser(ex, rest.get(0));
                        default -> ex.error(OktaError.methodNotAllowed(method));
                    }
                }
                default -> {
                    String id = rest.get(0);
                    String sub = String.join("/", rest.subList(1, rest.size()));
                    if (sub.equals("lifecycle/deactivate") && method.equals("POST")) {
                        deactivate(ex, id);
                    } else if (sub.equals("roles") && method.equals("GET")) {
                        withUser(ex, id, user -> ex.json(200, json ->
                                OktaJson.writeRoles(json, directory.roles(user.id()), user.id(), orgUrl)));
                    } else if (sub.equals("roles") && method.equals("POST")) {
                        assignRole(ex, id);
                    } else if (rest.size() == 3 && rest.get(1).equals("roles") && method.equals("DELETE")) {
                        withUser(ex, id, user -> {
                            if (directory.unassign(user.id(), rest.get(2))) {
                                JsonResponses.sendNoContent(ex.response, ex.callback);
                            } else {
                                ex.error(OktaError.notFound(rest.get(2), "Role"));
                            }
                        });
                    } else {
                        ex.error(OktaError.notFound(USERS + "/" + String.join("/", rest), "Page"));
                    }
                }
            }
        }

        private void listUsers(Exchange ex) {
            Fields params = Request.extractQueryParameters(ex.request);
            int limit;
            try {
                limit = Optional.ofNullable(params.getValue("limit")).map(Integer::parseInt).orElse(DEFAULT_PAGE_SIZE);
            } catch (NumberFormatException e) {
                ex.error(OktaError.validation("limit", "must be a whole number"));
                return;
            }
            if (limit < 1 || limit > MAX_PAGE_SIZE) {
                ex.error(OktaError.validation("limit", "must be between 1 and " + MAX_PAGE_SIZE));
                return;
            }
            Optional<String> after = Optional.ofNullable(params.getValue("after"));
            Optional<String> q = Optional.ofNullable(params.getValue("q"));
            Optional<String> filter = Optional.ofNullable(params.getValue("filter"));
            Optional<String> search = Optional.ofNullable(params.getValue("search"));
            Optional<Predicate<OktaUser>> matches = UserQuery.parse(q, filter, search);
            if (matches.isEmpty()) {
                ex.error(OktaError.invalidSearch());
                return;
            }
            // one past the page tells whether there is a next page
            List<OktaUser> page = directory.snapshotAfter(after).stream().filter(matches.get()).limit(limit + 1L).toList();
            boolean more = page.size() > limit;
            List<OktaUser> shown = more ? page.subList(0, limit) : page;

            String carried = carry("q", q) + carry("filter", filter) + carry("search", search);
            var headers = ex.response.getHeaders();
            headers.add(HttpHeader.LINK, "<" + orgUrl + USERS + "?limit=" + limit + carried
                    + after.map(a -> "&after=" + encode(a)).orElse("") + ">; rel=\"self\"");
            if (more) {
                headers.add(HttpHeader.LINK, "<" + orgUrl + USERS + "?after=" + encode(shown.getLast().id())
                        + "&limit=" + limit + carried + ">; rel=\"next\"");
            }
            ex.json(200, json -> {
                json.writeStartArray();
                for (OktaUser user : shown) {
                    OktaJson.writeUser(json, user, orgUrl);
                }
                json.writeEndArray();
            });
        }

        private void createUser(Exchange ex) {
            Optional<ObjectNode> body = ex.jsonBody();
            if (body.isEmpty()) return;
            JsonNode profileNode = body.get().path("profile");
            if (!profileNode.isObject()) {
                ex.error(OktaError.validation("profile", "The field cannot be left blank"));
                return;
            }
            ObjectNode profile = ((ObjectNode) profileNode).deepCopy();
            for (String required : List.of("login", "email", "firstName", "lastName")) {
                if (profile.path(required).asText("").isBlank()) {
                    ex.error(OktaError.validation(required, "The field cannot be left blank"));
                    return;
                }
            }
            boolean activate = !"false".equalsIgnoreCase(Request.extractQueryParameters(ex.request).getValue("activate"));
            boolean password = hasPassword(body.get());
            Instant now = clock.instant();
            OktaUser.Status status = !activate ? OktaUser.Status.STAGED
                    : password ? OktaUser.Status.ACTIVE : OktaUser.Status.PROVISIONED;
            var user = new OktaUser(ids.next("00u"), status, now, activate ? Optional.of(now) : Optional.empty(), now,
                    Optional.empty(), now, password ? Optional.of(now) : Optional.empty(), profile, password);
            try {
                directory.add(user);
            } catch (UserDirectory.DuplicateLoginException e) {
                ex.error(OktaError.validation("login", "An object with this field already exists in the current organization"));
                return;
            }
            ex.user(200, user);
        }

        /** Okta's POST is a partial update (profile fields merged); PUT replaces the profile. */
        private void updateUser(Exchange ex, String idOrLogin, boolean replace) {
            Optional<ObjectNode> body = ex.jsonBody();
            if (body.isEmpty()) return;
            withUser(ex, idOrLogin, current -> {
                JsonNode changes = body.get().path("profile");
                ObjectNode profile = replace && changes.isObject() ? ((ObjectNode) changes).deepCopy() : current.profile().deepCopy();
                if (!replace && changes.isObject()) {
                    profile.setAll(((ObjectNode) changes).deepCopy());
                }
                boolean password = hasPassword(body.get());
                try {
                    Optional<OktaUser> updated =
                            directory.update(current.id(), user -> user.withProfile(profile, password, clock.instant()));
                    updated.ifPresentOrElse(user -> ex.user(200, user), () -> ex.error(OktaError.notFound(idOrLogin, "User")));
                } catch (UserDirectory.DuplicateLoginException e) {
                    ex.error(OktaError.validation("login", "An object with this field already exists in the current organization"));
                }
            });
        }

        /** Okta: deleting a user that is not yet deprovisioned deactivates it; a second delete removes it. */
        private void deleteUser(Exchange ex, String idOrLogin) {
            withUser(ex, idOrLogin, user -> {
                if (user.status() == OktaUser.Status.DEPROVISIONED) {
                    directory.remove(user.id());
                } else {
                    setStatus(user.id(), OktaUser.Status.DEPROVISIONED);
                }
                JsonResponses.sendNoContent(ex.response, ex.callback);
            });
        }

        private void deactivate(Exchange ex, String idOrLogin) {
            withUser(ex, idOrLogin, user -> {
                setStatus(user.id(), OktaUser.Status.DEPROVISIONED);
                ex.json(200, json -> {
                    json.writeStartObject();
                    json.writeEndObject();
                });
            });
        }

        private void assignRole(Exchange ex, String idOrLogin) {
            Optional<ObjectNode> body = ex.jsonBody();
            if (body.isEmpty()) return;
            withUser(ex, idOrLogin, user -> {
                String type = body.get().path("type").asText("");
                RoleAssignment.StandardRole role;
                try {
                    role = RoleAssignment.StandardRole.valueOf(type);
                } catch (IllegalArgumentException e) {
                    ex.error(OktaError.validation("type", "'" + type + "' is not a standard role type this demo supports"));
                    return;
                }
                var assignment = new RoleAssignment(ids.next("ra1"), role, clock.instant());
                directory.assign(user.id(), assignment).ifPresentOrElse(
                        assigned -> ex.json(201, json -> OktaJson.writeRole(json, assigned, user.id(), orgUrl)),
                        () -> ex.error(OktaError.duplicateRole()));
            });
        }

        private void setStatus(String id, OktaUser.Status status) {
            try {
                directory.update(id, user -> user.withStatus(status, clock.instant()));
            } catch (UserDirectory.DuplicateLoginException e) {
                throw new IllegalStateException("a status change cannot change the login", e);
            }
        }

        private void withUser(Exchange ex, String idOrLogin, java.util.function.Consumer<OktaUser> action) {
            directory.find(idOrLogin).ifPresentOrElse(action, () -> ex.error(OktaError.notFound(idOrLogin, "User")));
        }

        private static boolean hasPassword(ObjectNode body) {
            return body.path("credentials").path("password").path("value").isTextual()
                    || body.path("credentials").path("password").path("hash").isObject();
        }

        private static String carry(String name, Optional<String> value) {
            return value.map(v -> "&" + name + "=" + encode(v)).orElse("");
        }

        private static String encode(String value) {
            return URLEncoder.encode(value, StandardCharsets.UTF_8);
        }
    }

    /** One request being answered. */
    private final class Exchange {
        final Request request;
        final Response response;
        final Callback callback;
        final String body;

        Exchange(Request request, Response response, Callback callback, String body) {
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.body = body;
        }

        void json(int status, JsonResponses.Body writer) {
            JsonResponses.send(response, callback, status, writer);
        }

        void user(int status, OktaUser user) {
            json(status, json -> OktaJson.writeUser(json, user, orgUrl));
        }

        void error(OktaError error) {
            String errorId = ids.next("oae");
            json(error.status(), json -> OktaJson.writeError(json, error, errorId));
        }

        /** The body as a JSON object, or empty after answering with Okta's malformed-body error. */
        Optional<ObjectNode> jsonBody() {
            try {
                JsonNode node = JsonResponses.MAPPER.readTree(body.isBlank() ? "{}" : body);
                if (node instanceof ObjectNode object) {
                    return Optional.of(object);
                }
            } catch (JsonProcessingException e) {
                // answered below
            }
            error(OktaError.malformedBody());
            return Optional.empty();
        }
    }

    /** Okta-style {@code X-Rate-Limit-*} headers over a one-minute window; informative only, never enforced. */
    private static final class RateWindow {
        private final AtomicLong windowStartEpochMinute = new AtomicLong();
        private final AtomicLong used = new AtomicLong();

        void writeHeaders(Response response, Instant now) {
            long minute = now.getEpochSecond() / 60;
            if (windowStartEpochMinute.getAndSet(minute) != minute) {
                used.set(0);
            }
            long remaining = Math.max(0, RATE_LIMIT_PER_MINUTE - used.incrementAndGet());
            var headers = response.getHeaders();
            headers.put("X-Rate-Limit-Limit", String.valueOf(RATE_LIMIT_PER_MINUTE));
            headers.put("X-Rate-Limit-Remaining", String.valueOf(remaining));
            headers.put("X-Rate-Limit-Reset", String.valueOf((minute + 1) * 60));
        }
    }
}
