package dev.portcullis.store;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** The index store contract on PostgreSQL, a real server: one database per test. */
class PostgresIndexStoreTest extends IndexStoreContract {
    static PostgresServer server;
    String url;

    @BeforeAll
    static void startServer() throws Exception {
        server = PostgresServer.start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @BeforeEach
    void freshDatabase() throws Exception {
        url = server.freshDatabase();
    }

    @Override
    IndexStore open(String name) {
        // the name is the replica: reopening it continues the same chain, as a restarted replica does
        return PostgresStore.open(url, "postgres", "postgres", "portcullis", name, 2);
    }
}
