package dev.portcullis.http;

import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Operation;
import dev.portcullis.masking.MaskingException;
import dev.portcullis.policy.Verdict;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.Optional;

/**
 * What a protocol carried over HTTP decides for itself on the HTTP data path: which operation a request
 * is, how a refusal is written, what the upstream request carries, how a response is masked and whether
 * it streams. A plain REST API (Okta's) is the default dialect; Kubernetes' API is another
 * ({@code dev.portcullis.kubernetes}). Everything else (listener, TLS, authentication, policy, approvals,
 * the upstream connection pool, recording) is the same code for every dialect.
 */
public interface HttpDialect {

    /** A REST API: the request is the operation, refusals are problem documents, the rule's mask plan applies. */
    HttpDialect REST = new HttpDialect() {
        @Override
        public String protocol() {
            return "http";
        }

        @Override
        public Operation operation(HttpCall call, String rawPath, HttpHeaders headers) {
            return call;
        }
    };

    /** The protocol, as recorded and given to the gate: {@code http}, {@code kubernetes}. */
    String protocol();

    /**
     * The operation policy judges for this request; {@code rawPath} is the path as the agent wrote it
     * (before its dot segments were resolved and its escapes decoded into {@code call.path()}).
     *
     * @throws Refused the request is refused before it is judged (a path the target would read otherwise,
     *                 a header the gateway never lets through); recorded as refused, never forwarded
     */
    Operation operation(HttpCall call, String rawPath, HttpHeaders headers) throws Refused;

    /**
     * The body and content type of a refusal, from the gateway's problem fields ({@code type}, {@code title},
     * {@code detail}, {@code rule}, {@code operation}, ...); empty: an RFC 9457 {@code application/problem+json}.
     */
    default Optional<RefusalBody> refusal(int status, Map<String, String> problem) {
        return Optional.empty();
    }

    /**
     * A JSON answer the gateway gives itself to an allowed request, without the upstream (Kubernetes'
     * {@code SelfSubjectAccessReview}, answered from the gateway's own policy); empty: forward it.
     */
    default Optional<byte[]> answerLocally(Operation operation, byte[] body, dev.portcullis.core.Identity identity,
                                           dev.portcullis.policy.Policy policy) {
        return Optional.empty();
    }

    /** Changes the request about to go upstream (the target's credential is already in place). */
    default void upstreamRequest(Operation operation, HttpHeaders headers) {
    }

    /**
     * How the response to an allowed operation is masked on its way to the agent: empty when the HTTP
     * default applies (the rule's mask plan, links pointed at the gateway).
     */
    default Optional<ResponseMasker> masker(Operation operation, Verdict verdict) {
        return Optional.empty();
    }

    /** Whether the response streams for as long as the upstream writes (a watch, a followed log): sent on as it comes, never gathered. */
    default boolean streams(Operation operation) {
        return false;
    }

    /**
     * How long a held operation's request is kept open waiting for a decision. HTTP clients give up after
     * 30 to 60 s, so by default half the rule's hold-timeout, at most 25 s, and the agent retries with the
     * approval id; a client that cannot retry so (kubectl) is held longer.
     */
    default java.time.Duration holdWait(java.time.Duration holdTimeout) {
        return HttpGatewayHandler.holdWait(holdTimeout);
    }

    /**
     * What the recording (and an approver) keeps of a JSON request body, before the connection's redactor
     * takes its secrets out: the body as sent by default.
     */
    default String recordedBody(String json) {
        return json;
    }

    /**
     * Whether an allowed request that asks to upgrade its connection ({@code Upgrade: websocket},
     * {@code SPDY/3.1}) becomes a stream of bytes both ways once the upstream agrees ({@code 101}); false:
     * the upgrade is not forwarded, and the request goes upstream as a plain one.
     */
    default boolean tunnels(Operation operation) {
        return false;
    }

    /** What watches a tunnel's bytes for the recording; one per tunnel. */
    default StreamTap tap(Operation operation, HttpHeaders request) {
        return new StreamTap.Counting();
    }

    /**
     * Watches the bytes of a tunnel in both directions, on the tunnel's event loop, without changing them
     * (it must not move a buffer's reader index), and says what the recording keeps when it ends.
     */
    interface StreamTap {
        /** The upstream agreed to switch protocols; its {@code 101} headers. */
        void opened(HttpHeaders response);

        /** @throws StreamRefused the stream breaks a limit: the tunnel is closed */
        void fromAgent(io.netty.buffer.ByteBuf bytes);

        /** @throws StreamRefused the stream breaks a limit: the tunnel is closed */
        void fromUpstream(io.netty.buffer.ByteBuf bytes);

        /**
         * The stream ended ({@code why}): what the recording keeps of it.
         *
         */
        dev.portcullis.recording.Excerpt closed(String why);

        /** Bytes counted each way, nothing kept. */
        final class Counting implements StreamTap {
            private long in;
            private long out;

            @Override
            public void opened(HttpHeaders response) {
            }

            @Override
            public void fromAgent(io.netty.buffer.ByteBuf bytes) {
                in += bytes.readableBytes();
            }

            @Override
            public void fromUpstream(io.netty.buffer.ByteBuf bytes) {
                out += bytes.readableBytes();
            }

            @Override
            public dev.portcullis.recording.Excerpt closed(String why) {
                return new dev.portcullis.recording.Excerpt("(a stream: " + in + " bytes from the agent, " + out
                        + " bytes to it; " + why + ")", false, in + out);
            }
        }
    }

    /** A tap found the stream breaking a limit (a frame too large): the tunnel is closed, and the recording says why. */
    final class StreamRefused extends RuntimeException {
        public StreamRefused(String message) {
            super(message);
        }
    }

    /** A refusal's body. */
    record RefusalBody(String contentType, byte[] bytes) {
    }

    /** A request refused before it is judged, with the HTTP status to answer. */
    final class Refused extends Exception {
        private final int status;
        private final String type;

        public Refused(int status, String type, String message) {
            super(message);
            this.status = status;
            this.type = type;
        }

        public int status() {
            return status;
        }

        /** Its problem type, e.g. {@code bad-request}, {@code impersonation}. */
        public String type() {
            return type;
        }
    }

    /** Masks one response body as it streams from the upstream to the agent. */
    interface ResponseMasker {
        /**
         * Copies {@code in} to {@code out}, masked. For a stream of values (a watch), flushes {@code out}
         * after each, so the agent sees every event as it happens.
         *
         * @throws MaskingException the body cannot be masked (not what it should be): the response is refused or aborted
         */
        void mask(InputStream in, OutputStream out) throws IOException, MaskingException;
    }
}
