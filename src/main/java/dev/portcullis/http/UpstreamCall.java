package dev.portcullis.http;

import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Operation;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.masking.CappedCapture;
import dev.portcullis.masking.MaskingException;
import dev.portcullis.recording.Excerpt;
import dev.portcullis.net.LoopInbox;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call forwarded by {@link HttpUpstream}: sends it, reads the answer and ends the agent's exchange,
 * recorded first. Everything but the masking of a streamed body runs on the agent connection's loop.
 */


final class UpstreamCall {
    private enum State { CONNECTING, WAITING, GATHERING, PASSING, MASKING, DONE }

    private static final Logger log = LoggerFactory.getLogger(UpstreamCall.class);
    private final HttpUpstream upstream;
    private final AgentExchange exchange;
    private final HttpCall call;
    private final Operation operation;
    /** A watch or a followed log: the response goes on as it comes, for as long as the upstream writes. */
    private final boolean streams;
    private final byte[] body;
    private final ResponseMasking masking;
    private final Gate.Judged judged;
    private final long startNanos;
    private State state = State.CONNECTING;
    private Channel up;
    private boolean reused;
    private boolean retried;
    private long sentNanos;
    private ScheduledFuture<?> timeout;
    private HttpResponse head;
    private ByteBuf gathered; // one chunk as it came, a composite of them once a second one arrives
    private CappedCapture passCapture;
    private LoopInbox pipe;
    /** Claimed by whichever path records how the call ended: exactly one does. */
    private final AtomicBoolean outcome = new AtomicBoolean();

    UpstreamCall(HttpUpstream upstream, AgentExchange exchange, HttpCall call, Operation operation, byte[] body, dev.portcullis.masking.MaskPlan plan,
                 Gate.Judged judged, long startNanos) {
        this.upstream = upstream;
        this.exchange = exchange;
        this.call = call;
        this.operation = operation;
        this.masking = new ResponseMasking(plan, upstream.dialect.masker(operation, judged.decision().verdict()).orElse(null),
                upstream.dialect == HttpDialect.REST, upstream.jsonMasker);
        this.streams = upstream.dialect.streams(operation);
        this.body = body;
        this.judged = judged;
        this.startNanos = startNanos;
    }

    void start() {
        if (!exchange.agentConnected()) {
            judged.completeAborted(0, "the agent closed the connection before the call was forwarded", startNanos);
            exchange.abort();
            return;
        }
        timeout = exchange.loop().schedule(this::timedOut, upstream.connection.responseTimeout().toMillis(), TimeUnit.MILLISECONDS);
        exchange.onAgentLeft(this::agentLeft);
        Channel c = upstream.idleChannel(exchange.loop());
        if (c != null) {
            reused = true;
            send(c);
        } else {
            connect();
        }
    }

    private void connect() {
        reused = false;
        state = State.CONNECTING;
        upstream.connect(exchange.loop(), upstream::newHandler, (c, failure) -> {
            if (state == State.DONE) {
                if (c != null) c.close();
                return;
            }
            if (failure != null) {
                if (c != null) c.close();
                failBeforeAnswer(HttpUpstream.connectFailure(failure));
                return;
            }
            send(c);
        });
    }

    private void send(Channel c) {
        up = c;
        c.pipeline().get(HttpUpstream.Handler.class).call = this;
        state = State.WAITING;
        FullHttpRequest request = upstream.request(exchange, call, operation, body);
        sentNanos = System.nanoTime();
        c.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) upstreamClosed(f.cause());
        });
    }

    void read(Object msg) {
        try {
            if (state == State.DONE) return;
            if (msg instanceof HttpResponse r) responseHead(r);
            if (msg instanceof HttpContent content && head != null) content(content);
        } catch (RuntimeException e) {
            log.error("response on {} failed: {}", upstream.connection.name(), e.toString(), e);
            abortAfterFailure("the gateway failed on the response: " + e);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void responseHead(HttpResponse r) {
        if (r.decoderResult().isFailure()) {
            failBeforeAnswer("sent a response the gateway cannot read: " + HttpUpstream.describe(r.decoderResult().cause()));
            return;
        }
        if (r.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL) return; // 100 Continue
        head = r;
        judged.upstreamLatency(System.nanoTime() - sentNanos);
        String contentType = r.headers().get(HttpHeaderNames.CONTENT_TYPE);
        String contentEncoding = r.headers().get(HttpHeaderNames.CONTENT_ENCODING);
        if (masking.decide(contentType, contentEncoding) == BodyMode.UNMASKABLE) {
            // Masking was required but this body cannot be masked: fail closed, say why.
            String detail = "connection '" + upstream.connection.name() + "': the response (" + (contentType == null ? "no content type" : contentType)
                    + (contentEncoding == null ? "" : ", " + contentEncoding) + ") must be masked but cannot be; refused";
            if (!outcome.compareAndSet(false, true)) return;
            state = State.DONE;
            if (timeout != null) timeout.cancel(false);
            releaseUpstream(false); // the rest of the body is not read
            judged.completeUpstreamFailed(detail, startNanos);
            exchange.problem(HttpProblem.badGateway(upstream.connection.name(), detail));
            return;
        }
        state = State.GATHERING;
        if (streams) {
            // A watch or a followed log lasts as long as the agent wants it: no response timeout, no gathering.
            if (timeout != null) timeout.cancel(false);
            startStreaming();
        }
    }

    private void content(HttpContent content) {
        ByteBuf bytes = content.content();
        boolean last = content instanceof LastHttpContent;
        switch (state) {
            case GATHERING -> {
                if (bytes.isReadable()) gather(bytes);
                if (last) {
                    answerWhole();
                } else if (gathered != null && gathered.readableBytes() > HttpUpstream.STREAM_ABOVE_BYTES) {
                    startStreaming();
                }
            }
            case PASSING -> pass(bytes, last);
            case MASKING -> {
                if (bytes.isReadable()) pipe.offer(bytes.retain());
                if (last) {
                    pipe.end();
                    releaseUpstream(true);
                }
            }
            default -> {
            }
        }
    }

    private void gather(ByteBuf bytes) {
        if (gathered == null) {
            gathered = bytes.retain();
        } else if (gathered instanceof CompositeByteBuf composite) {
            composite.addComponent(true, bytes.retain());
        } else {
            CompositeByteBuf composite = up.alloc().compositeBuffer(64);
            composite.addComponent(true, gathered);
            composite.addComponent(true, bytes.retain());
            gathered = composite;
        }
    }

    /** The whole body is here: mask it on the loop, record, answer with its length. */
    private void answerWhole() {
        ByteBuf in = gathered == null ? Unpooled.EMPTY_BUFFER : gathered;
        gathered = null;
        ByteBuf out = up.alloc().buffer(Math.max(256, in.readableBytes() + 64));
        CappedCapture capture = new CappedCapture(new ByteBufOutputStream(out), upstream.maxRecordedResponseBytes);
        try {
            masking.copy(new ByteBufInputStream(in), capture, this::links);
        } catch (MaskingException | IOException e) {
            in.release();
            out.release();
            state = State.DONE;
            finish(); // the body was read whole: the connection can serve another call
            if (!outcome.compareAndSet(false, true)) return;
            String detail = "connection '" + upstream.connection.name() + "': the response could not be masked (" + e.getMessage()
                    + "); refused";
            log.warn("response on {} refused: {}", upstream.connection.name(), e.getMessage());
            judged.completeAborted(head.status().code(), "response aborted: " + e.getMessage(), startNanos);
            exchange.problem(HttpProblem.badGateway(upstream.connection.name(), detail));
            return;
        }
        in.release();
        state = State.DONE;
        finish();
        if (!outcome.compareAndSet(false, true)) {
            out.release();
            return;
        }
        // Recorded (durably) before the response is released to the agent.
        try {
            judged.completeForwarded(head.status().code(), excerpt(capture), startNanos);
        } catch (GateUnavailableException e) {
            out.release();
            log.error("recording failed on {}; refusing the response: {}", upstream.connection.name(), e.getMessage());
            exchange.problem(HttpProblem.unavailable(upstream.connection.name(), e.getMessage()));
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, head.status(), out);
        copyHeaders(response.headers());
        if (call.method().equals("HEAD")) {
            String length = head.headers().get(HttpHeaderNames.CONTENT_LENGTH);
            if (length != null) response.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
        } else if (HttpUpstream.hasContent(head.status())) {
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, out.readableBytes());
        }
        exchange.respond(response);
    }

    /** Over {@link #STREAM_ABOVE_BYTES}: the head goes out now, the body as it comes (masked on a virtual thread). */
    private void startStreaming() {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, head.status());
        copyHeaders(response.headers());
        boolean chunked = exchange.request().protocolVersion().equals(HttpVersion.HTTP_1_1);
        String length = head.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (masking.mode() == BodyMode.PASS_THROUGH && length != null) {
            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
        } else if (chunked) {
            response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else {
            exchange.answerHeader(HttpHeaderNames.CONNECTION, "close"); // the body ends where the connection does
        }
        exchange.startResponse(response);
        exchange.onWritable(this::agentWritable);
        ByteBuf first = gathered == null ? Unpooled.EMPTY_BUFFER : gathered;
        gathered = null;
        if (masking.mode() == BodyMode.PASS_THROUGH) {
            state = State.PASSING;
            passCapture = new CappedCapture(OutputStream.nullOutputStream(), upstream.maxRecordedResponseBytes);
            pass(first, false);
            first.release();
        } else {
            state = State.MASKING;
            pipe = new LoopInbox(up, "the upstream");
            if (first.isReadable()) pipe.offer(first);
            else first.release();
            upstream.blocking.execute(this::maskStream);
        }
    }

    private void pass(ByteBuf bytes, boolean last) {
        if (bytes.isReadable()) {
            try {
                bytes.getBytes(bytes.readerIndex(), passCapture, bytes.readableBytes());
            } catch (IOException e) {
                throw new IllegalStateException(e); // a null stream does not fail
            }
            exchange.write(new DefaultHttpContent(bytes.retainedSlice()));
            if (!exchange.agentWritable()) up.config().setAutoRead(false); // resumed by agentWritable
        }
        if (last) {
            state = State.DONE;
            finish();
            completeStreamed(passCapture);
        }
    }

    private void agentWritable() {
        if (state == State.PASSING && up != null) {
            up.config().setAutoRead(true);
            up.read();
        }
    }

    /** On a virtual thread: masks the streamed body into the agent's connection. */
    private void maskStream() {
        CappedCapture capture = new CappedCapture(new BufferedOutputStream(new AgentBodyStream(exchange), 32 * 1024),
                upstream.maxRecordedResponseBytes);
        try (InputStream in = pipe) {
            masking.copy(in, capture, this::links);
        } catch (MaskingException | IOException | RuntimeException e) {
            // Part of the body is on its way: abort the response rather than complete it.
            exchange.loop().execute(() -> abortAfterFailure("response aborted: " + e.getMessage()));
            pipe.close();
            return;
        }
        completeStreamed(capture);
    }

    /** The last byte of a streamed body is out (or queued): record, then end the response. */
    private void completeStreamed(CappedCapture capture) {
        if (timeout != null) timeout.cancel(false);
        if (!outcome.compareAndSet(false, true)) return;
        judged.streamed();
        try {
            judged.completeForwarded(head.status().code(), excerpt(capture), startNanos);
        } catch (GateUnavailableException e) {
            log.error("recording failed on {}; aborting the response: {}", upstream.connection.name(), e.getMessage());
            exchange.abort();
            return;
        }
        exchange.endResponse();
    }

    private void timedOut() {
        if (state == State.DONE) return;
        if (state == State.PASSING || state == State.MASKING) {
            abortAfterFailure("response aborted: the upstream did not finish within " + upstream.connection.responseTimeout().toSeconds() + "s");
        } else {
            failBeforeAnswer("did not answer: timed out");
        }
    }

    /** The upstream connection closed or failed before the call was done. */
    void upstreamClosed(Throwable cause) {
        if (state == State.DONE) return;
        if (state == State.MASKING) {
            // Everything up to the failure was handed over; the masker fails on the cut body and says so.
            pipe.fail(new IOException("the upstream " + (cause == null ? "closed the connection" : HttpUpstream.describe(cause)) + " mid-body"));
            releaseUpstream(false);
            return;
        }
        if (state == State.WAITING && head == null && reused && !retried && HttpUpstream.idempotent(call.method())) {
            // A kept-alive connection the upstream had just closed: try once on a new one.
            retried = true;
            releaseUpstream(false);
            connect();
            return;
        }
        String why = cause == null ? "closed the connection" : HttpUpstream.describe(cause);
        if (state == State.PASSING) abortAfterFailure("response aborted: the upstream " + why);
        else failBeforeAnswer(head == null ? "did not answer: " + why : "response cut short: " + why);
    }

    /** The agent went away: stop the upstream call. */
    private void agentLeft() {
        if (outcome.compareAndSet(false, true)) {
            judged.completeAborted(head == null ? 0 : head.status().code(), "the agent closed the connection", startNanos);
        }
        stop();
        exchange.abort();
    }

    /** Nothing was sent to the agent yet: answer 502, recorded first. */
    private void failBeforeAnswer(String what) {
        if (!outcome.compareAndSet(false, true)) return;
        stop();
        String detail = "connection '" + upstream.connection.name() + "': upstream " + UpstreamHeaders.origin(upstream.base) + " " + what;
        log.warn("upstream failure on {}: {}", upstream.connection.name(), what);
        judged.completeUpstreamFailed(detail, startNanos); // recorded before the agent hears of it
        exchange.problem(HttpProblem.badGateway(upstream.connection.name(), detail));
    }

    /** Part of the answer may be out: close the agent's connection instead of completing it. */
    private void abortAfterFailure(String what) {
        if (!outcome.compareAndSet(false, true)) return;
        stop();
        log.warn("{} on {}", what, upstream.connection.name()); // what says "response aborted: why"
        judged.completeAborted(head == null ? 0 : head.status().code(), what, startNanos);
        exchange.abort();
    }

    /** On the loop: no more of this call, on either side. */
    private void stop() {
        state = State.DONE;
        if (timeout != null) timeout.cancel(false);
        if (pipe != null) pipe.fail(new IOException("the call was stopped"));
        releaseGathered();
        if (up != null) releaseUpstream(false);
    }

    private void releaseGathered() {
        if (gathered != null) {
            gathered.release();
            gathered = null;
        }
    }

    /** The call read its whole response: done with the timer, and the connection goes back to the pool if the upstream keeps it alive. */
    private void finish() {
        if (timeout != null) timeout.cancel(false);
        releaseUpstream(true);
    }

    private void releaseUpstream(boolean reusable) {
        Channel c = up;
        if (c == null) return;
        up = null;
        upstream.release(c, reusable && HttpUtil.isKeepAlive(head));
    }

    private Excerpt excerpt(CappedCapture capture) {
        return new Excerpt(capture.text(), capture.truncated(), capture.totalBytes());
    }

    private UpstreamLinks links() {
        return new UpstreamLinks(upstream.base, exchange.origin());
    }

    private void copyHeaders(HttpHeaders to) {
        HttpUpstream.copyDownstream(head.headers(), to, this::links);
    }
}
