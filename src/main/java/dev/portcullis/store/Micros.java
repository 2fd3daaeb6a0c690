package dev.portcullis.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** Timestamps are stored as epoch microseconds: portable BIGINT, and what the hash covers. */
public final class Micros {

    private Micros() {
    }

    public static long of(Instant instant) {
        return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
    }

    public static Instant toInstant(long micros) {
        return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
    }
}
