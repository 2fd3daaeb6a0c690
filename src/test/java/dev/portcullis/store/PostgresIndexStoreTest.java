package dev.portcullis.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** The index store contract on PostgreSQL, a real server: one database per test. */
class PostgresIndexStoreTest extends IndexStoreContract {
    static EmbeddedPostgres postgres;
    static int databases;
    String database;

    @BeforeAll
    static void startServer() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        postgres.close();
    }

    @BeforeEach
    void freshDatabase() throws Exception {
        database = "contract_" + (++databases);
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + database);
        }
    }

    @Override
    IndexStore open(String name) {
        // the name is the replica: reopening it continues the same chain, as a restarted replica does
        return PostgresStore.open("jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + database, "postgres", "postgres",
                "portcullis", name, 2);
    }
}
