package dev.portcullis.config;

import java.nio.file.Path;
import java.util.Objects;

/** Where approvals, sessions and audit events are kept. {@code postgres} joins later. */
public sealed interface StoreConfig {

    /**
     * A single-file database beside the gateway process, fed from the audit trail's write-ahead log in
     * the directory {@code <path>.trail}.
     *
     * @param segmentBytes the trail's segment size: a segment is closed (and forced to disk) when the
     *                     next batch would pass it, and deleted once the database holds its events
     */
    record Embedded(Path path, long segmentBytes) implements StoreConfig {
        public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;

        public Embedded(Path path) {
            this(path, DEFAULT_SEGMENT_BYTES);
        }

        public Embedded {
            Objects.requireNonNull(path, "path");
            if (segmentBytes < 1) throw new IllegalArgumentException("segmentBytes < 1");
        }
    }
}
