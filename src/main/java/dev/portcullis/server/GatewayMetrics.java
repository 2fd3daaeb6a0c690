package dev.portcullis.server;

import dev.portcullis.gate.GateMetrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The gateway's Prometheus metrics. Meters are cached per label set so the hot path does one map
 * lookup, not a registry lookup.
 */
public final class GatewayMetrics implements GateMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentMap<String, Counter> operations = new ConcurrentHashMap<>();
    /** JVM allocation, GC and memory figures ({@code jvm_gc_memory_allocated_bytes_total}, ...), for operators and benchmarks. */
    private final io.micrometer.core.instrument.binder.jvm.JvmGcMetrics gc = new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics();

    {
        gc.bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
    }
    private final ConcurrentMap<String, Counter> tokenFailures = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Timer> upstreamLatency = new ConcurrentHashMap<>();

    @Override
    public void operation(String connection, String verdict, String rule) {
        operations.computeIfAbsent(connection + '\0' + verdict + '\0' + rule, k -> Counter.builder("portcullis.operations")
                .description("Operations judged, by connection, verdict and deciding rule")
                .tag("connection", connection).tag("verdict", verdict).tag("rule", rule)
                .register(registry)).increment();
    }

    @Override
    public void tokenFailure(String connection, String reason) {
        tokenFailures.computeIfAbsent(connection + '\0' + reason, k -> Counter.builder("portcullis.token.failures")
                .description("Agent tokens refused, by reason")
                .tag("connection", connection).tag("reason", reason)
                .register(registry)).increment();
    }

    @Override
    public void upstreamLatency(String connection, Duration latency) {
        upstreamLatency.computeIfAbsent(connection, c -> Timer.builder("portcullis.upstream.latency")
                .description("Time from forwarding an operation to the upstream's response headers")
                .tag("connection", c)
                .publishPercentileHistogram()
                .register(registry)).record(latency);
    }

    private final ConcurrentMap<String, Counter> notifications = new ConcurrentHashMap<>();

    public void notification(String channel, String outcome) {
        notifications.computeIfAbsent(channel + '\0' + outcome, k -> Counter.builder("portcullis.approval.notifications")
                .description("Approval notifications, by channel and outcome (delivered, failed)")
                .tag("channel", channel).tag("outcome", outcome)
                .register(registry)).increment();
    }

    /** Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }
}
