package dev.portcullis.config;

import java.nio.file.Path;
import java.util.Objects;

/** Where approvals, sessions and audit events are kept: an embedded file, or PostgreSQL shared by replicas. */
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

    /**
     * PostgreSQL shared by any number of gateway replicas. Each replica writes its events to its own trail
     * (a local directory, as the embedded store does) and indexes them into the database on its own hash
     * chain, named by {@code replica}; approval requests are shared, and a change is announced to every
     * replica ({@code LISTEN}/{@code NOTIFY}).
     *
     * @param url      a JDBC URL, {@code jdbc:postgresql://host:5432/db}, with TLS options as pgjdbc takes
     *                 them ({@code ?sslmode=verify-full&sslrootcert=...})
     * @param schema   the schema the store's tables live in (created if missing)
     * @param replica  this process's name: stable across its restarts (its trail and chain continue), unique
     *                 among the replicas running at once
     * @param trail    the directory of this replica's trail: keep it across restarts of the process (a
     *                 volume), so what was written but not yet indexed is indexed on the next start
     */
    record Postgres(String url, String user, String password, String schema, String replica, Path trail, long segmentBytes,
                    int poolSize) implements StoreConfig {
        public static final String DEFAULT_SCHEMA = "portcullis";

        public Postgres {
            Objects.requireNonNull(schema, "schema");
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
            Objects.requireNonNull(replica, "replica");
            Objects.requireNonNull(trail, "trail");
            if (segmentBytes < 1) throw new IllegalArgumentException("segmentBytes < 1");
            if (poolSize < 2) throw new IllegalArgumentException("poolSize < 2");
        }

        @Override
        public String toString() { // never the password
            return "Postgres[url=" + dev.portcullis.store.PostgresStore.withoutQuery(url) + ", user=" + user + ", replica=" + replica + ", trail=" + trail + "]";
        }
    }
}
