package dev.portcullis.cli;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.config.StoreConfig;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.PostgresStore;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the read-only commands find the recordings: {@code --store}, else {@code --config}'s store, else the default. */
final class StoreOption {
    @Option(names = "--store", paramLabel = "FILE", description = "The embedded store file (default: $PORTCULLIS_DATA/portcullis.db, or ./data/portcullis.db).")
    Path store;

    @Option(names = "--config", paramLabel = "FILE", description = "Take the store from this gateway configuration.")
    Path config;

    /** The store to read: the embedded file (waiting for its gateway to index its trail), or PostgreSQL. */
    AuditStore open() throws Exception {
        Path file;
        if (store != null) {
            file = store;
        } else if (config != null) {
            GatewayConfig cfg = ConfigLoader.load(config, System.getenv());
            switch (cfg.store()) {
                case StoreConfig.Embedded embedded -> file = embedded.path();
                case StoreConfig.Postgres pg -> {
                    return PostgresStore.openForReading(pg.url(), pg.user(), pg.password(), pg.schema()); // every replica's chain
                }
            }
        } else {
            String data = System.getenv().getOrDefault("PORTCULLIS_DATA", "./data");
            file = Path.of(data, "portcullis.db");
        }
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("no store at " + file + " (nothing recorded yet, or pass --store / --config)");
        }
        return LoggedStore.openForReading(file);
    }
}
