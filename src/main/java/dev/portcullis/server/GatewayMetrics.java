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
    private final ConcurrentMap<String, Timer> gatewayAdded = new ConcurrentHashMap<>();

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
                .description("Time from forwarding an operation to the upstream's response headers (for SQL, to the statement's command tag)")
                .tag("connection", c)
                .publishPercentileHistogram()
                .register(registry)).record(latency);
    }

    /**
     * {@code portcullis_gateway_added_seconds}: a histogram with buckets from 10 µs, fine enough to read a p99 of a
     * few hundred microseconds from two scrapes ({@code bench/lib.sh}'s {@code added_quantiles}). Compared with the
     * latency a client sees, it tells the gateway's own work from the time spent before and after it (the network
     * stack, the scheduler, the client).
     */
    @Override
    public void gatewayAdded(String connection, Duration added) {
        gatewayAdded.computeIfAbsent(connection, c -> Timer.builder("portcullis.gateway.added")
                .description("Time the gateway added to a forwarded operation: from taking it in (token check and judging included) to its outcome being recorded,"
                        + " less the upstream's part (operations held for approval and streamed answers excluded)")
                .tag("connection", c)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry)).record(added);
    }

    private final ConcurrentMap<String, Counter> notifications = new ConcurrentHashMap<>();

    public void notification(String channel, String outcome) {
        notifications.computeIfAbsent(channel + '\0' + outcome, k -> Counter.builder("portcullis.approval.notifications")
                .description("Approval notifications, by channel and outcome (delivered, failed)")
                .tag("channel", channel).tag("outcome", outcome)
                .register(registry)).increment();
    }

    private volatile Runnable beforeScrape = () -> { };

    /**
     * Network agents, refreshed at each scrape: {@code portcullis_agent_connected{agent}} (1 or 0, for every
     * agent a connection goes through or that is connected here), {@code portcullis_agent_open_streams} and
     * {@code portcullis_agent_heartbeat_age_seconds}.
     */
    void agents(java.util.Set<String> needed, java.util.function.Supplier<java.util.List<dev.portcullis.netagent.AgentListener.Status>> connected) {
        io.micrometer.core.instrument.MultiGauge up = io.micrometer.core.instrument.MultiGauge.builder("portcullis.agent.connected")
                .description("Whether the network agent is connected to this replica").register(registry);
        io.micrometer.core.instrument.MultiGauge streams = io.micrometer.core.instrument.MultiGauge.builder("portcullis.agent.open.streams")
                .description("Upstream connections open through the agent's tunnel").register(registry);
        io.micrometer.core.instrument.MultiGauge age = io.micrometer.core.instrument.MultiGauge.builder("portcullis.agent.heartbeat.age")
                .baseUnit("seconds").description("Time since the agent's last heartbeat").register(registry);
        beforeScrape = () -> {
            java.util.Map<String, dev.portcullis.netagent.AgentListener.Status> here = new java.util.TreeMap<>();
            for (var st : connected.get()) here.put(st.name(), st);
            java.util.Set<String> names = new java.util.TreeSet<>(needed);
            names.addAll(here.keySet());
            java.time.Instant now = java.time.Instant.now();
            up.register(names.stream().map(n -> io.micrometer.core.instrument.MultiGauge.Row.of(
                    io.micrometer.core.instrument.Tags.of("agent", n), here.containsKey(n) ? 1 : 0)).toList(), true);
            streams.register(here.values().stream().map(st -> io.micrometer.core.instrument.MultiGauge.Row.of(
                    io.micrometer.core.instrument.Tags.of("agent", st.name()), st.openStreams())).toList(), true);
            age.register(here.values().stream().map(st -> io.micrometer.core.instrument.MultiGauge.Row.of(
                    io.micrometer.core.instrument.Tags.of("agent", st.name()),
                    java.time.Duration.between(st.lastHeartbeat(), now).toMillis() / 1000.0)).toList(), true);
        };
    }

    /** Prometheus text exposition. */
    public String scrape() {
        beforeScrape.run();
        return registry.scrape();
    }
}
