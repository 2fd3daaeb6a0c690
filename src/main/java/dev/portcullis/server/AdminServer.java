package dev.portcullis.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.approval.ApprovalApi;
import dev.portcullis.config.AdminConfig;
import dev.portcullis.core.Json;
import dev.portcullis.core.Identity;
import dev.portcullis.http.ListenerConnector;
import dev.portcullis.identity.BearerCredentials;
import dev.portcullis.identity.TokenVerifier;
import dev.portcullis.store.AuditStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

/**
 * The admin listener: liveness, readiness (with reasons), Prometheus metrics, the REST API (approvals,
 * live and recorded sessions, network agents, the trail's health, the policies; described by the OpenAPI
 * document) and the console; HTTPS only when the configuration gives it {@code tls:}.
 */
public final class AdminServer implements AutoCloseable {
    private static final ObjectMapper JSON = Json.mapper();

    /** One readiness check: the probe answers empty when ready, else the reason it is not. */
    public record ReadinessCheck(String name, Supplier<Optional<String>> probe, boolean informational) {
        public ReadinessCheck(String name, Supplier<Optional<String>> probe) {
            this(name, probe, false);
        }

        /** Shown in {@code /readyz}'s detail without deciding readiness (an agent that is offline). */
        public static ReadinessCheck info(String name, Supplier<String> detail) {
            return new ReadinessCheck(name, () -> Optional.of(detail.get()), true);
        }

    }

    private final Server server;
    private final ServerConnector connector;

    private AdminServer(Server server, ServerConnector connector) {
        this.server = server;
        this.connector = connector;
    }

    /**
     * What the admin listener serves beside health and metrics. Every API but the OpenAPI document needs a
     * caller, whom {@code callers} authenticates (their own token, or their console session); absent parts
     * are not served.
     */
    record Services(AdminCallers callers, Optional<ApprovalApi> approvals, Optional<SessionsApi> live, Optional<AgentsApi> agents,
                    Optional<RecordedSessionsApi> recorded, Optional<PolicyApi> policy, Optional<TrailHealth> trail,
                    Optional<ConsolePages> console, Auditors auditors) {
    }

    /**
     * The admin listener with the approvals API only, for callers with their own tokens.
     *
     * @param admin where to listen, over TLS when it has {@code tls:}
     */
    public static AdminServer start(AdminConfig admin, List<ReadinessCheck> checks, GatewayMetrics metrics, ApprovalApi approvals,
                                    TokenVerifier verifier) throws Exception {
        return start(admin, checks, metrics, new Services(new AdminCallers(verifier, Optional.empty(), ConsoleAudit.NONE),
                Optional.of(approvals), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), new Auditors(admin)));
    }

    static AdminServer start(AdminConfig admin, List<ReadinessCheck> checks, GatewayMetrics metrics, Services services) throws Exception {
        VirtualThreadPool threads = new VirtualThreadPool();
        threads.setName("admin");
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        InetSocketAddress listen = admin.listen();
        ServerConnector connector = ListenerConnector.create(server, http, listen, admin.tls(), "admin");
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                try {
                    route(request, response, callback, services, checks, metrics);
                } catch (AuditStoreException e) {
                    send(response, callback, 503, "application/problem+json", SessionsApi.problem(503, "Store unavailable", e.getMessage()).body());
                }
                return true;
            }
        });
        try {
            server.start();
        } catch (Exception e) {
            throw new IllegalStateException("admin: cannot listen on " + listen.getHostString() + ":" + listen.getPort()
                    + ": " + e.getMessage(), e);
        }
        return new AdminServer(server, connector);
    }

    /** Which part answers: health and metrics, the console's pages, else an API for an authenticated caller. */
    private static void route(Request request, Response response, Callback callback, Services s, List<ReadinessCheck> checks,
                              GatewayMetrics metrics) {
        String path = request.getHttpURI().getPath();
        String method = request.getMethod();
        switch (path) {
            case "/healthz" -> {
                send(response, callback, 200, "application/json", "{\"status\":\"ok\"}");
                return;
            }
            case "/readyz" -> {
                ObjectNode body = readiness(checks);
                send(response, callback, body.path("status").asText().equals("ready") ? 200 : 503, "application/json", body.toString());
                return;
            }
            case "/metrics" -> {
                send(response, callback, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
                return;
            }
            case ApprovalApi.OPENAPI_PATH -> {
                if (s.approvals().isPresent()) {
                    send(response, callback, 200, "application/json", s.approvals().get().openApi());
                    return;
                }
            }
            default -> {
            }
        }
        if (s.console().isPresent() && ConsolePages.serves(path)) {
            s.console().get().serve(request, response, callback);
            return;
        }
        if (!path.startsWith("/api/v1/")) {
            reply(response, callback, NOT_FOUND);
            return;
        }
        if (path.equals(SshCertificatesApi.PATH) && s.live().isPresent()) {
            byte[] body = body(request, SshCertificatesApi.MAX_BODY_BYTES, response, callback);
            if (body == null) return;
            switch (s.callers().bearerOnly(request)) {
                case AdminCallers.Refused r -> problem(response, callback, r);
                case AdminCallers.Caller c -> reply(response, callback, new SshCertificatesApi().handle(method, c.identity(),
                        BearerCredentials.fromAuthorizationHeader(request.getHeaders().get(HttpHeader.AUTHORIZATION)).orElseThrow(), body));
            }
            return;
        }
        boolean approvals = s.approvals().isPresent() && ApprovalApi.serves(path);
        AdminCallers.Caller caller;
        switch (s.callers().authenticate(request, approvals)) {
            case AdminCallers.Refused r -> {
                problem(response, callback, r);
                return;
            }
            case AdminCallers.Caller c -> caller = c;
        }
        Identity who = caller.identity();
        if (approvals) {
            byte[] body = body(request, ApprovalApi.MAX_BODY_BYTES, response, callback);
            if (body == null) return;
            ApprovalApi.Reply reply = s.approvals().get().handle(method, path, request.getHttpURI().getQuery(), who, body);
            reply.headers().forEach((name, value) -> response.getHeaders().put(name, value));
            send(response, callback, reply.status(), reply.contentType(), reply.body());
        } else if (path.equals(ME_PATH)) {
            if (!AdminCallers.safe(method)) reply(response, callback, SessionsApi.problem(405, "Method not allowed", "use GET"));
            else send(response, callback, 200, "application/json", me(caller, s.auditors()).toString());
        } else if (s.agents().isPresent() && AgentsApi.serves(path)) {
            byte[] body = body(request, AgentsApi.MAX_BODY_BYTES, response, callback);
            if (body != null) reply(response, callback, s.agents().get().handle(method, path, who, body));
        } else if (s.live().isPresent() && SessionsApi.serves(path)) {
            byte[] body = body(request, SessionsApi.MAX_BODY_BYTES, response, callback);
            if (body != null) reply(response, callback, s.live().get().handle(method, path, who, body));
        } else if (s.recorded().isPresent() && RecordedSessionsApi.serves(path)) {
            reply(response, callback, s.recorded().get().handle(method, path, request.getHttpURI().getQuery(), who));
        } else if (s.policy().isPresent() && PolicyApi.serves(path)) {
            byte[] body = body(request, PolicyApi.MAX_BODY_BYTES, response, callback);
            if (body != null) reply(response, callback, s.policy().get().handle(method, path, who, body));
        } else if (s.trail().isPresent() && (path.equals(TRAIL_PATH) || path.equals(TRAIL_PATH + "/verify"))) {
            reply(response, callback, trail(s.trail().get(), method, path, who, s.auditors(), checks));
        } else {
            reply(response, callback, NOT_FOUND);
        }
    }

    private static final SessionsApi.Reply NOT_FOUND = SessionsApi.problem(404, "Not found", "no admin endpoint at this path");
    static final String ME_PATH = "/api/v1/me";
    static final String TRAIL_PATH = "/api/v1/trail";

    /** Who the caller is to the admin API: what the console shows and which pages it offers. */
    private static ObjectNode me(AdminCallers.Caller caller, Auditors auditors) {
        Identity who = caller.identity();
        ObjectNode out = JSON.createObjectNode().put("subject", who.subject());
        who.groups().stream().sorted().forEach(out.putArray("groups")::add);
        out.put("via", caller.via());
        caller.session().ifPresentOrElse(session -> out.put("csrfToken", session.csrfToken()), () -> out.putNull("csrfToken"));
        out.put("expiresAt", who.expiresAt().toString()).put("issuer", who.issuer());
        out.put("name", who.claims().getOrDefault("name", who.claims().getOrDefault("preferred_username", "")));
        out.putObject("roles").put("auditor", auditors.include(who))
                .put("sessionAdmin", who.groups().stream().anyMatch(auditors.config().sessionAdmins()::contains));
        return out;
    }

    private static SessionsApi.Reply trail(TrailHealth trail, String method, String path, Identity who, Auditors auditors,
                                           List<ReadinessCheck> checks) {
        var refused = auditors.refuse(who, "the trail's health");
        if (refused.isPresent()) return refused.get();
        boolean verify = path.endsWith("/verify");
        if (verify ? !method.equals("POST") : !AdminCallers.safe(method)) {
            return SessionsApi.problem(405, "Method not allowed", verify ? "use POST" : "use GET");
        }
        if (verify) trail.verifyNow();
        return new SessionsApi.Reply(200, "application/json", trail.json(readiness(checks)).toString());
    }

    static void problem(Response response, Callback callback, AdminCallers.Refused r) {
        r.headers().forEach((name, value) -> response.getHeaders().put(name, value));
        reply(response, callback, SessionsApi.problem(r.status(), r.title(), r.detail()));
    }

    private static void reply(Response response, Callback callback, SessionsApi.Reply reply) {
        send(response, callback, reply.status(), reply.contentType(), reply.body());
    }

    /** {@code /readyz}'s body: each check's state, and whether the gateway is ready. */
    static ObjectNode readiness(List<ReadinessCheck> checks) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode details = body.putObject("checks");
        boolean ready = true;
        for (ReadinessCheck check : checks) {
            Optional<String> reason = check.probe().get();
            details.put(check.name(), reason.orElse("ok"));
            ready &= reason.isEmpty() || check.informational();
        }
        body.put("status", ready ? "ready" : "not-ready");
        return body;
    }

    /**
     * The request body, read up to one byte over {@code max} so the API sees it is too large; null (answered
     * 400) when it cannot be read.
     */
    private static byte[] body(Request request, int max, Response response, Callback callback) {
        try (InputStream in = Content.Source.asInputStream(request)) {
            return in.readNBytes(max + 1);
        } catch (IOException e) {
            send(response, callback, 400, "application/problem+json",
                    "{\"type\":\"about:blank\",\"title\":\"Bad request\",\"status\":400,\"detail\":\"cannot read the request body\"}");
            return null;
        }
    }

    static void send(Response response, Callback callback, int status, String type, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
