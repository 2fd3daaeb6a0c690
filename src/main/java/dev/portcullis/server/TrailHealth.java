package dev.portcullis.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.Json;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.VerifyReport;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.AuditStoreException;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trail's health: the last {@code audit verify} of the running gateway's store (at start-up, then on a
 * schedule and on demand) and the store's state. Served at {@code GET /api/v1/trail} (and
 * {@code POST /api/v1/trail/verify} to verify now) for auditors, and summed up in {@code /readyz}.
 */
final class TrailHealth {
    private static final Logger log = LoggerFactory.getLogger(TrailHealth.class);
    private static final ObjectMapper JSON = Json.mapper();

    /** The last verification: its report, or why it could not run. */
    record Verified(Instant at, Optional<VerifyReport> report, String failure, long millis) {
        String summary() {
            if (report.isEmpty()) return "could not verify: " + failure;
            VerifyReport r = report.get();
            return (r.ok() ? "intact: " : "TAMPERED (" + r.problems().size() + " problems): ") + r.sessions() + " sessions, "
                    + r.events() + " events, head " + r.headHash();
        }
    }

    private final AuditStore store;
    private final String storeType;
    private final String where;
    private final Supplier<Optional<String>> notHealthyBecause;
    private final Clock clock;
    private volatile Verified last;

    /** @param notHealthyBecause the store's and recorder's state, as {@code /readyz} checks it */
    TrailHealth(AuditStore store, String storeType, String where, Supplier<Optional<String>> notHealthyBecause, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.storeType = storeType;
        this.where = where;
        this.notHealthyBecause = notHealthyBecause;
        this.clock = clock;
    }

    /** Verifies the whole trail now (one verification at a time); the result is kept for the page and /readyz. */
    synchronized Verified verifyNow() {
        long start = System.nanoTime();
        Instant at = clock.instant();
        Verified v;
        try {
            VerifyReport report = AuditVerifier.verify(store);
            v = new Verified(at, Optional.of(report), "", (System.nanoTime() - start) / 1_000_000);
            if (!report.ok()) log.error("audit trail verification found {} problems; first: {}", report.problems().size(), report.problems().getFirst());
        } catch (AuditStoreException | IllegalStateException e) {
            v = new Verified(at, Optional.empty(), e.getMessage(), (System.nanoTime() - start) / 1_000_000);
            log.warn("audit trail verification could not run: {}", e.getMessage());
        }
        last = v;
        return v;
    }

    Optional<Verified> last() {
        return Optional.ofNullable(last);
    }

    /** For /readyz's detail (informational: a tampered trail is reported, and the gateway goes on recording). */
    String readiness() {
        Verified v = last;
        return v == null ? "not verified yet" : v.summary() + " (verified " + v.at() + ")";
    }

    ObjectNode json(ObjectNode readiness) {
        ObjectNode out = JSON.createObjectNode();
        Verified v = last;
        if (v == null) {
            out.putNull("verify");
        } else {
            ObjectNode verify = out.putObject("verify");
            verify.put("ok", v.report().map(VerifyReport::ok).orElse(false));
            verify.put("summary", v.summary());
            verify.put("checkedAt", v.at().toString());
            verify.put("millis", v.millis());
            v.report().ifPresent(r -> verify.put("sessions", r.sessions()).put("events", r.events()).put("headHash", r.headHash()));
            ArrayNode problems = verify.putArray("problems");
            v.report().ifPresent(r -> r.problems().stream().limit(200).forEach(p -> problems.add(p.toString())));
        }
        Optional<String> unhealthy = notHealthyBecause.get();
        out.putObject("store").put("type", storeType).put("where", where).put("healthy", unhealthy.isEmpty())
                .put("detail", unhealthy.orElse("ok"));
        out.set("readiness", readiness);
        return out;
    }
}
