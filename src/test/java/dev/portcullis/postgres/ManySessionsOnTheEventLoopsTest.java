package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sessions share two event loops (one per core here), and each session's threads run on its loop: a thread that
 * waits must give the loop back, or every session on it stops. Here many sessions start at once on tables the
 * gateway has not seen, so that their first masked results all look up the shared column catalog together (one
 * lock, held across a query to the database), while the others' statements come and go on the same loops; a
 * session whose first statement needs an approval waits on one loop meanwhile. Every statement must be answered,
 * masked, well within the deadline.
 */
class ManySessionsOnTheEventLoopsTest {
    private static final int SESSIONS = 12;
    private static final int ROUNDS = 40;

    @TempDir
    static Path data;
    static PostgresGatewayFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data, yaml -> yaml);
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            for (int i = 0; i < SESSIONS; i++) {
                st.execute("CREATE TABLE people_" + i + " (id int PRIMARY KEY, email text, notes text)");
                st.execute("INSERT INTO people_" + i + " SELECT n, 'p" + i + "_' || n || '@example.com', 'no notes' "
                        + "FROM generate_series(1, 50) n");
                st.execute("GRANT SELECT ON people_" + i + " TO " + PostgresGatewayFixture.DB_USER);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    private static Connection connect(String subject, String... groups) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", subject);
        p.setProperty("password", f.token(subject, groups));
        p.setProperty("prepareThreshold", "1"); // the second execution on is a server-side prepared statement
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + f.port + "/customers", p);
    }

    @Test
    void sessionsThatWaitOnTheSharedCatalogOrAnApprovalHoldUpNoOtherSession() throws Exception {
        // One session held for approval the whole time, on one of the loops.
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        Connection held = connect("agent-jit", "agents", "agents-jit");
        Future<?> waiting = pool.submit(() -> {
            try (Statement st = held.createStatement()) {
                st.execute("DELETE FROM orders WHERE id = 1"); // needs a DBA's approval nobody gives
            }
            return null;
        });
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> sessions = new ArrayList<>();
            for (int i = 0; i < SESSIONS; i++) {
                int table = i;
                Connection c = connect("agent-" + i, "agents");
                sessions.add(pool.submit(() -> {
                    int masked = 0;
                    try (c; PreparedStatement ps = c.prepareStatement("SELECT email, notes FROM people_" + table + " WHERE id = ?");
                         Statement simple = c.createStatement()) {
                        go.await();
                        for (int round = 1; round <= ROUNDS; round++) {
                            ps.setInt(1, round);
                            try (ResultSet rs = ps.executeQuery()) {
                                assertThat(rs.next()).isTrue();
                                assertThat(rs.getString(1)).isEqualTo("[masked]");
                                masked++;
                            }
                            try (ResultSet rs = simple.executeQuery("SELECT email FROM people_" + ((table + round) % SESSIONS)
                                    + " WHERE id = " + round)) {
                                assertThat(rs.next()).isTrue();
                                assertThat(rs.getString(1)).isEqualTo("[masked]");
                                masked++;
                            }
                        }
                    }
                    return masked;
                }));
            }
            go.countDown();
            for (Future<Integer> s : sessions) {
                assertThat(s.get(60, TimeUnit.SECONDS)).isEqualTo(2 * ROUNDS);
            }
            assertThat(waiting).isNotDone(); // still held: it was waiting on its loop the whole time
        } finally {
            held.close();
            pool.shutdownNow();
        }
    }
}
