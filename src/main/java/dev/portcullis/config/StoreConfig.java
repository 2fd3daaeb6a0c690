package dev.portcullis.config;

import java.nio.file.Path;
import java.util.Objects;

/** Where approvals, sessions and audit events are kept. {@code postgres} joins later. */
public sealed interface StoreConfig {

    /** A single-file database beside the gateway process. */
    record Embedded(Path path) implements StoreConfig {
        public Embedded {
            Objects.requireNonNull(path, "path");
        }
    }
}
