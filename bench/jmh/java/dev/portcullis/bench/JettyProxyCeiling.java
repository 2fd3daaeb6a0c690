package dev.portcullis.bench;

import java.nio.ByteBuffer;
import java.util.Map;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.client.transport.internal.HttpConnectionOverHTTP;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Not Portcullis: the ceiling of an asynchronous Jetty proxy (the libraries Portcullis already uses), to
 * set beside {@link EventLoopProxyCeiling}. The handler runs on the server's selector thread (it never
 * blocks), the upstream response is parsed on the client's selector thread and answered from there.
 * No token check, policy or masking.
 *
 * <p>Usage: {@code JettyProxyCeiling LISTEN_PORT UPSTREAM_PORT [trail FILE]}
 */
public final class JettyProxyCeiling {
    private JettyProxyCeiling() {
    }

    public static void main(String[] args) throws Exception {
        int listen = Integer.parseInt(args[0]);
        String upstream = "http://127.0.0.1:" + Integer.parseInt(args[1]);
        CeilingTrail trail = CeilingTrail.fromArgs(args, 2);

        HttpClient client = new HttpClient(new HttpClientTransportOverHTTP() {
            @Override
            public org.eclipse.jetty.io.Connection newConnection(EndPoint endPoint, Map<String, Object> context) {
                return customize(new HttpConnectionOverHTTP(endPoint, context) {
                    @Override
                    public InvocationType getInvocationType() {
                        return InvocationType.NON_BLOCKING;
                    }
                }, context);
            }
        });
        client.setMaxConnectionsPerDestination(1024);
        client.start();

        Server server = new Server(new QueuedThreadPool(64, 4));
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setPort(listen);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract(org.eclipse.jetty.util.thread.Invocable.InvocationType.NON_BLOCKING) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                client.newRequest(upstream + request.getHttpURI().getPathQuery())
                        .headers(h -> h.put(HttpHeader.AUTHORIZATION, "SSWS bench-api-token"))
                        .send(new BufferingResponseListener(1 << 20) {
                            @Override
                            public void onComplete(org.eclipse.jetty.client.Result result) {
                                if (result.isFailed()) {
                                    Response.writeError(request, response, callback, 502);
                                    return;
                                }
                                if (trail != null) trail.append();
                                response.setStatus(result.getResponse().getStatus());
                                for (HttpField f : result.getResponse().getHeaders()) {
                                    if (f.getHeader() == HttpHeader.CONTENT_TYPE) response.getHeaders().add(f);
                                }
                                byte[] body = getContent();
                                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
                                response.write(true, ByteBuffer.wrap(body), callback);
                            }
                        });
                return true;
            }
        });
        server.start();
        System.out.println("jetty async proxy ceiling on 127.0.0.1:" + listen + " -> " + upstream
                + (trail == null ? "" : ", appending to " + trail.name()));
        server.join();
    }
}
