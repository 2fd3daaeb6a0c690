package dev.portcullis.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.approval.ApprovalApi;
import dev.portcullis.config.AdminConfig;
import dev.portcullis.core.Json;
import dev.portcullis.http.ListenerConnector;
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
 * The admin listener: liveness, readiness (with reasons), Prometheus metrics and, when given, the
 * approvals API and page; HTTPS only when the configuration gives it {@code tls:}.
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
     * @param admin     where to listen, over TLS when it has {@code tls:}
     * @param approvals the approvals API, served under {@value ApprovalApi#PREFIX} with its OpenAPI document
     */
    public static AdminServer start(AdminConfig admin, List<ReadinessCheck> checks, GatewayMetrics metrics,
                                    Optional<ApprovalApi> approvals) throws Exception {
        return start(admin, checks, metrics, approvals, Optional.empty());
    }

    /** @param sessions the live sessions API, served under {@value SessionsApi#PREFIX} */
    static AdminServer start(AdminConfig admin, List<ReadinessCheck> checks, GatewayMetrics metrics,
                             Optional<ApprovalApi> approvals, Optional<SessionsApi> sessions) throws Exception {
        return start(admin, checks, metrics, approvals, sessions, Optional.empty());
    }

    /** @param agents the network agents API, served under {@value AgentsApi#PREFIX} */
    static AdminServer start(AdminConfig admin, List<ReadinessCheck> checks, GatewayMetrics metrics,
                             Optional<ApprovalApi> approvals, Optional<SessionsApi> sessions, Optional<AgentsApi> agents) throws Exception {
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
                String path = request.getHttpURI().getPath();
                if (sessions.isPresent() && path.equals(SshCertificatesApi.PATH)) {
                    sshCertificates(sessions.get().certificates(), request, response, callback);
                    return true;
                }
                if (agents.isPresent() && AgentsApi.serves(path)) {
                    byte[] body = body(request, AgentsApi.MAX_BODY_BYTES, response, callback);
                    if (body == null) return true;
                    SessionsApi.Reply reply = agents.get().handle(request.getMethod(), path, request.getHeaders().get(HttpHeader.AUTHORIZATION), body);
                    send(response, callback, reply.status(), reply.contentType(), reply.body());
                    return true;
                }
                if (sessions.isPresent() && SessionsApi.serves(path)) {
                    sessions(sessions.get(), request, response, callback);
                    return true;
                }
                if (approvals.isPresent() && ApprovalApi.serves(path)) {
                    approvals(approvals.get(), request, response, callback);
                    return true;
                }
                if (approvals.isPresent() && ApprovalPage.serves(path)) {
                    ApprovalPage.serve(request.getMethod(), path, response, callback);
                    return true;
                }
                switch (path) {
                    case "/healthz" -> send(response, callback, 200, "application/json", "{\"status\":\"ok\"}");
                    case "/readyz" -> readiness(response, callback, checks);
                    case "/metrics" -> send(response, callback, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
                    default -> send(response, callback, 404, "application/problem+json",
                            "{\"type\":\"about:blank\",\"title\":\"Not found\",\"status\":404,\"detail\":\"no admin endpoint at this path\"}");
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

    private static void readiness(Response response, Callback callback, List<ReadinessCheck> checks) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode details = body.putObject("checks");
        boolean ready = true;
        for (ReadinessCheck check : checks) {
            Optional<String> reason = check.probe().get();
            details.put(check.name(), reason.orElse("ok"));
            ready &= reason.isEmpty() || check.informational();
        }
        body.put("status", ready ? "ready" : "not-ready");
        send(response, callback, ready ? 200 : 503, "application/json", body.toString());
    }

    private static void approvals(ApprovalApi api, Request request, Response response, Callback callback) {
        byte[] body = body(request, ApprovalApi.MAX_BODY_BYTES, response, callback);
        if (body == null) return;
        ApprovalApi.Reply reply = api.handle(request.getMethod(), request.getHttpURI().getPath(),
                request.getHttpURI().getQuery(), request.getHeaders().get(HttpHeader.AUTHORIZATION), body);
        reply.headers().forEach((name, value) -> response.getHeaders().put(name, value));
        send(response, callback, reply.status(), reply.contentType(), reply.body());
    }

    private static void sshCertificates(SshCertificatesApi api, Request request, Response response, Callback callback) {
        byte[] body = body(request, SshCertificatesApi.MAX_BODY_BYTES, response, callback);
        if (body == null) return;
        SessionsApi.Reply reply = api.handle(request.getMethod(), request.getHeaders().get(HttpHeader.AUTHORIZATION), body);
        send(response, callback, reply.status(), reply.contentType(), reply.body());
    }

    private static void sessions(SessionsApi api, Request request, Response response, Callback callback) {
        byte[] body = body(request, SessionsApi.MAX_BODY_BYTES, response, callback);
        if (body == null) return;
        SessionsApi.Reply reply = api.handle(request.getMethod(), request.getHttpURI().getPath(), request.getHeaders().get(HttpHeader.AUTHORIZATION), body);
        send(response, callback, reply.status(), reply.contentType(), reply.body());
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
