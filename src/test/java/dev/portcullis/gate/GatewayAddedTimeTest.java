package dev.portcullis.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.approval.ApprovalService;
import dev.portcullis.approval.SqlApprovalStore;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.policy.Action;
import dev.portcullis.policy.Conditions;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.Rule;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.recording.Excerpt;
import dev.portcullis.server.GatewayMetrics;
import dev.portcullis.store.EmbeddedStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code portcullis_gateway_added_seconds}: the gateway's own part of a call the target answered, the upstream's
 * part taken out; holds and the answers an adapter streamed left out, so the figure is never a person's or a
 * stream's time.
 */
class GatewayAddedTimeTest {
    static final Identity AGENT = new Identity("agent-7", Set.of("agents"), "jti-7", "client", "https://idp", Map.of(),
            Instant.now().plus(Duration.ofHours(1)));
    static final HttpCall READ = new HttpCall("GET", "/api/v1/users/00u1", "", Map.of(), null, Optional.empty(), 0);

    @TempDir
    Path dir;
    EmbeddedStore store;
    DurableRecorder recorder;
    GatewayMetrics metrics = new GatewayMetrics();
    Gate gate;

    @BeforeEach
    void open() {
        store = EmbeddedStore.open(dir.resolve("p.db"));
        recorder = new DurableRecorder(store, Clock.systemUTC());
        gate = new Gate(null, recorder, metrics, new ApprovalService(new SqlApprovalStore(store), recorder, Clock.systemUTC()),
                "http://127.0.0.1:8080/approvals/");
    }

    @AfterEach
    void close() {
        recorder.close();
        store.close();
    }

    static Policy policy(Action action) {
        return new Policy(List.of(new Rule("r", "", Conditions.ALWAYS, action, Optional.empty(), "", List.of("admins"), 1,
                Duration.ofMinutes(5), false, Optional.empty())));
    }

    Gate.Judged judged(Action action) throws Exception {
        return gate.judge("okta", "http", "127.0.0.1", AGENT, READ, policy(action), "");
    }

    /** The scraped histogram's count and sum (seconds), or zeros when nothing was recorded. */
    double[] added() {
        String scraped = metrics.scrape();
        return new double[] {value(scraped, "portcullis_gateway_added_seconds_count"), value(scraped, "portcullis_gateway_added_seconds_sum")};
    }

    static double value(String scraped, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{connection=\"okta\",?\\} (\\S+)$").matcher(scraped);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void aCallTheTargetAnsweredCountsTheGatewaysTimeWithoutTheUpstreams() throws Exception {
        Gate.Judged call = judged(Action.ALLOW);
        long start = call.startedNanos();
        Thread.sleep(300); // the upstream's part
        call.upstreamLatency(System.nanoTime() - start);
        call.completeForwarded(200, Excerpt.NONE, start);
        long total = System.nanoTime() - start;

        double[] added = added();
        assertThat(added[0]).isEqualTo(1);
        assertThat(added[1]).isGreaterThan(0);
        // The 300 ms spent upstream is not the gateway's: what is left is judging and recording.
        assertThat(added[1]).isLessThan(total / 1e9 - 0.3 + 1e-3);
        assertThat(added[1]).isLessThan(0.25);
        assertThat(metrics.scrape()).contains("portcullis_gateway_added_seconds_bucket{connection=\"okta\",le=\"1.0E-5\"}");
    }

    @Test
    void aHeldCallAndAStreamedAnswerAreNotTheGatewaysTime() throws Exception {
        Gate.Judged held = judged(Action.REQUIRE_APPROVAL);
        assertThat(held.decision().verdict()).isInstanceOf(Verdict.HoldForApproval.class);
        long start = held.startedNanos();
        Thread.sleep(50); // a person approving
        held.upstreamLatency(1_000_000);
        held.completeForwarded(200, Excerpt.NONE, start);

        Gate.Judged streamed = judged(Action.ALLOW);
        streamed.upstreamLatency(1_000_000);
        streamed.streamed();
        streamed.completeForwarded(200, Excerpt.NONE, streamed.startedNanos());

        Gate.Judged unmeasured = judged(Action.ALLOW); // no adapter measured the upstream's part
        unmeasured.completeForwarded(200, Excerpt.NONE, unmeasured.startedNanos());

        assertThat(added()[0]).isZero();
        // Each was still recorded: the metric leaves them out, the trail does not.
        assertThat(store.head().lastGlobalSeq()).isGreaterThanOrEqualTo(3);
    }

    /**
     * The outcome's status means nothing to the gate: only the adapter knows whether an answer was a stream (an
     * upgraded connection: {@code KubectlExecThroughGatewayTest}). An SSH command that exited 101 is a call like any.
     */
    @Test
    void aStatusIsNotTakenForAStream() throws Exception {
        Gate.Judged command = judged(Action.ALLOW);
        command.upstreamLatency(1_000_000);
        command.completeForwarded(101, Excerpt.NONE, command.startedNanos());

        assertThat(added()[0]).isEqualTo(1);
    }
}
