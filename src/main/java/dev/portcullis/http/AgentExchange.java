package dev.portcullis.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpURI;

/**
 * One agent request in flight on an {@link AgentConnection}, and its answer. The request is complete
 * (its body read, or found too large) when an exchange is made. Answering methods may be called from
 * any thread: Netty runs the writes on the connection's event loop, in call order. Exactly one answer
 * ends the exchange: a whole response, a streamed one ({@link #startResponse} ... {@link #endResponse}),
 * or {@link #abort()}.
 */
final class AgentExchange {
    private final AgentConnection connection;
    private final Channel channel;
    private final HttpRequest request;
    private final HttpURI uri;
    private final byte[] body;
    private final boolean tooLarge;
    private final boolean keepAlive;
    private final HttpHeaders answerHeaders = new DefaultHttpHeaders(false);
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile Runnable onAgentLeft;
    private volatile Runnable onWritable;

    AgentExchange(AgentConnection connection, Channel channel, HttpRequest request, HttpURI uri, byte[] body, boolean tooLarge,
                  boolean keepAlive) {
        this.connection = connection;
        this.channel = channel;
        this.request = request;
        this.uri = uri;
        this.body = body;
        this.tooLarge = tooLarge;
        this.keepAlive = keepAlive && !tooLarge;
    }

    HttpRequest request() {
        return request;
    }

    String header(CharSequence name) {
        return request.headers().get(name);
    }

    HttpURI uri() {
        return uri;
    }

    /** The body, whole; empty when there was none or it was {@link #tooLarge()}. */
    byte[] body() {
        return body;
    }

    /** The body was over the connection's limit and is being read and dropped (then the connection closes). */
    boolean tooLarge() {
        return tooLarge;
    }

    String clientAddress() {
        return connection.clientAddress();
    }

    /** How the agent addressed the gateway, e.g. {@code https://127.0.0.1:18443}: links are pointed there. */
    String origin() {
        return connection.scheme() + "://" + connection.authority(request);
    }

    Channel channel() {
        return channel;
    }

    EventLoop loop() {
        return channel.eventLoop();
    }

    /** Whether the agent's connection is still open (asked while a call waits for approval). */
    boolean agentConnected() {
        return channel.isActive();
    }

    boolean agentWritable() {
        return channel.isWritable();
    }

    /** Added to whichever answer is given (the approval id of a released call). */
    void answerHeader(CharSequence name, String value) {
        answerHeaders.set(name, value);
    }

    /** Run on the event loop if the agent closes its connection before the answer ended. */
    void onAgentLeft(Runnable action) {
        onAgentLeft = action;
    }

    /** Run on the event loop each time the agent's connection can take more bytes again. */
    void onWritable(Runnable action) {
        onWritable = action;
    }

    void agentLeft() {
        Runnable action = onAgentLeft;
        if (action != null && !ended.get()) action.run();
    }

    void writable() {
        Runnable action = onWritable;
        if (action != null) action.run();
    }

    void problem(HttpProblem problem) {
        respond(problem.toResponse(connection.dialect()));
    }

    /** Answers with a whole response and ends the exchange. */
    void respond(FullHttpResponse response) {
        if (!ended.compareAndSet(false, true)) {
            response.release();
            return;
        }
        prepare(response);
        channel.writeAndFlush(response).addListener(this::ended);
    }

    /**
     * Answers {@code 101 Switching Protocols} and hands the agent's connection over: once the answer is out,
     * its bytes go to {@code relay} (HTTP is done on this connection), and {@code switched} runs.
     */
    void switchProtocols(FullHttpResponse switching, io.netty.channel.ChannelHandler relay, Runnable switched) {
        if (!ended.compareAndSet(false, true)) {
            switching.release();
            return;
        }
        switching.headers().add(answerHeaders);
        channel.writeAndFlush(switching).addListener(f -> {
            if (!f.isSuccess()) {
                channel.close();
                return;
            }
            connection.switchTo(relay);
            switched.run();
        });
    }

    /** Sends the status line and headers of a response whose body follows in {@link #write} calls. */
    void startResponse(HttpResponse response) {
        prepare(response);
        channel.write(response);
    }

    /** Writes part of a streamed body; the future completes when it is on the wire. */
    ChannelFuture write(HttpContent content) {
        return channel.writeAndFlush(content);
    }

    /** Ends a streamed body (after its recording) and the exchange. */
    void endResponse() {
        if (!ended.compareAndSet(false, true)) return;
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(this::ended);
    }

    /** Ends the exchange without a (complete) answer: the agent sees its connection close. */
    void abort() {
        if (!ended.compareAndSet(false, true)) return;
        channel.close();
        connection.exchangeEnded(this, false);
    }

    boolean ended() {
        return ended.get();
    }

    private void prepare(HttpResponse response) {
        response.headers().add(answerHeaders);
        if (!keepAlive) response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }

    private void ended(io.netty.util.concurrent.Future<? super Void> written) {
        boolean goOn = written.isSuccess() && keepAlive;
        connection.exchangeEnded(this, goOn);
    }
}
