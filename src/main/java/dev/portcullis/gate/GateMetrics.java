package dev.portcullis.gate;

import java.time.Duration;

/**
 * What the gate counts, for whoever exports metrics (the server's Prometheus registry). The gate sits
 * below the server, so it tells it through this interface instead of importing it.
 */
public interface GateMetrics {

    /** An operation judged: {@code verdict} is the verdict's name (allow, mask, deny...), {@code rule} the deciding rule. */
    void operation(String connection, String verdict, String rule);

    /** An agent token refused, by reason. */
    void tokenFailure(String connection, String reason);

    /** Time from forwarding an operation to the upstream's first answer. */
    void upstreamLatency(String connection, Duration latency);

    /**
     * What the gateway itself added to an operation it forwarded and the target answered: from taking it in (the start
     * the adapter gives: for HTTP the whole request read, its token not yet checked; for SQL the start of judging) to its
     * outcome being recorded (the response is released next), less the upstream's part. Not measured for an
     * operation held for approval (a person's wait is not the gateway's), nor for an answer its adapter streamed
     * ({@code Judged.streamed()}: a streamed body, an upgraded connection, whose outcome comes when it ends).
     */
    void gatewayAdded(String connection, Duration added);
}
