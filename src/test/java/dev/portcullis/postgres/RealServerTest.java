package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.postgres.BackendMessage.BindComplete;
import dev.portcullis.postgres.BackendMessage.CommandComplete;
import dev.portcullis.postgres.BackendMessage.CopyData;
import dev.portcullis.postgres.BackendMessage.CopyDone;
import dev.portcullis.postgres.BackendMessage.CopyInResponse;
import dev.portcullis.postgres.BackendMessage.CopyOutResponse;
import dev.portcullis.postgres.BackendMessage.DataRow;
import dev.portcullis.postgres.BackendMessage.ErrorResponse;
import dev.portcullis.postgres.BackendMessage.ParameterDescription;
import dev.portcullis.postgres.BackendMessage.ParseComplete;
import dev.portcullis.postgres.BackendMessage.ReadyForQuery;
import dev.portcullis.postgres.BackendMessage.RowDescription;
import dev.portcullis.postgres.BackendMessage.TransactionStatus;
import dev.portcullis.postgres.FrontendMessage.Bind;
import dev.portcullis.postgres.FrontendMessage.Describe;
import dev.portcullis.postgres.FrontendMessage.Execute;
import dev.portcullis.postgres.FrontendMessage.Parse;
import dev.portcullis.postgres.FrontendMessage.Query;
import dev.portcullis.postgres.FrontendMessage.Sync;
import dev.portcullis.postgres.FrontendMessage.Target;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** UpstreamConnection and the codecs against a real PostgreSQL 18 that requires passwords over TCP. */
@Timeout(120)
class RealServerTest {

    static final String SCRAM_USER = "agent_scram";
    static final String MD5_USER = "agent_md5";
    static final String CLEARTEXT_USER = "agent_cleartext";
    static final String PASSWORD = "s3cret-pässword";

    static EmbeddedPostgres postgres;

    @BeforeAll
    static void startServer() throws Exception {
        postgres = startPasswordProtected();
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE " + SCRAM_USER + " LOGIN PASSWORD '" + PASSWORD + "'");
            s.execute("CREATE ROLE " + CLEARTEXT_USER + " LOGIN PASSWORD '" + PASSWORD + "'");
            s.execute("SET password_encryption = 'md5'"); // deprecated in 18, still accepted with a warning
            s.execute("CREATE ROLE " + MD5_USER + " LOGIN PASSWORD '" + PASSWORD + "'");
        }
    }

    /**
     * Embedded PostgreSQL whose TCP logins need a password, except for the superuser {@code postgres}
     * (zonky's readiness check and the test set-up connect as it, without one). The customizer runs
     * after initdb and before the first start, so pg_hba.conf is in force from the beginning. With
     * method {@code md5} the server uses SCRAM for roles whose password is stored as SCRAM.
     */
    static EmbeddedPostgres startPasswordProtected() throws IOException {
        return EmbeddedPostgres.builder()
                .setDataDirectoryCustomizer(dataDirectory -> {
                    try {
                        Files.writeString(dataDirectory.toPath().resolve("pg_hba.conf"), """
                                local all all                      trust
                                host  all postgres        127.0.0.1/32 trust
                                host  all postgres        ::1/128      trust
                                host  all %1$s 127.0.0.1/32 password
                                host  all %1$s ::1/128      password
                                host  all all             127.0.0.1/32 md5
                                host  all all             ::1/128      md5
                                """.formatted(CLEARTEXT_USER));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .start();
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (postgres != null) {
            postgres.close();
        }
    }

    static UpstreamConnection connect(String user, String password) throws IOException {
        return UpstreamConnection.open("localhost", postgres.getPort(), "postgres", user, password,
                Map.of("application_name", "portcullis-test"));
    }

    @Test
    void scramLoginThenSimpleQueryReturnsRowsAndReadyForQuery() throws Exception {
        try (UpstreamConnection upstream = connect(SCRAM_USER, PASSWORD)) {
            assertThat(upstream.parameters()).containsKey("server_version").containsEntry("client_encoding", "UTF8")
                    .containsEntry("application_name", "portcullis-test");
            assertThat(upstream.backendKey().processId()).isPositive();
            assertThat(upstream.transactionStatus()).isEqualTo(TransactionStatus.IDLE);

            upstream.writer().write(new Query("SELECT 1 AS one, NULL::text AS nothing, 'héllo' AS greeting"));
            upstream.writer().flush();
            List<BackendMessage> replies = untilReady(upstream);

            assertThat(replies).hasSize(4);
            RowDescription description = (RowDescription) replies.get(0);
            assertThat(description.fields()).extracting(BackendMessage.Field::name).containsExactly("one", "nothing", "greeting");
            assertThat(description.fields().get(0).typeOid()).isEqualTo(23);
            DataRow row = (DataRow) replies.get(1);
            assertThat(new String(row.values()[0], StandardCharsets.UTF_8)).isEqualTo("1");
            assertThat(row.values()[1]).isNull();
            assertThat(new String(row.values()[2], StandardCharsets.UTF_8)).isEqualTo("héllo");
            assertThat(replies.get(2)).isEqualTo(new CommandComplete("SELECT 1"));
            assertThat(replies.get(3)).isEqualTo(new ReadyForQuery(TransactionStatus.IDLE));
        }
    }

    @Test
    void md5LoginWorks() throws Exception {
        try (UpstreamConnection upstream = connect(MD5_USER, PASSWORD)) {
            upstream.writer().write(new Query("SELECT current_user"));
            upstream.writer().flush();
            DataRow row = (DataRow) untilReady(upstream).get(1);
            assertThat(new String(row.values()[0], StandardCharsets.UTF_8)).isEqualTo(MD5_USER);
        }
    }

    @Test
    void cleartextLoginWorks() throws Exception {
        try (UpstreamConnection upstream = connect(CLEARTEXT_USER, PASSWORD)) {
            assertThat(upstream.backendKey().processId()).isPositive();
        }
    }

    @Test
    void wrongPasswordIsRefusedWithTheServersMessage() {
        for (String user : List.of(SCRAM_USER, MD5_USER, CLEARTEXT_USER)) {
            assertThatThrownBy(() -> connect(user, "wrong"))
                    .isInstanceOf(UpstreamStartupException.class)
                    .hasMessageContaining("password authentication failed for user \"" + user + "\"")
                    .satisfies(e -> assertThat(((UpstreamStartupException) e).serverError())
                            .hasValueSatisfying(error -> assertThat(error.sqlState()).isEqualTo("28P01")));
        }
    }

    @Test
    void unknownDatabaseIsRefusedWith3D000() {
        assertThatThrownBy(() -> UpstreamConnection.open("localhost", postgres.getPort(), "no_such_db", SCRAM_USER,
                PASSWORD, Map.of()))
                .isInstanceOf(UpstreamStartupException.class)
                .satisfies(e -> assertThat(((UpstreamStartupException) e).serverError().orElseThrow().sqlState())
                        .isEqualTo("3D000"));
    }

    @Test
    void requiredTlsIsRefusedWhenTheServerDoesNotOfferIt() {
        assertThatThrownBy(() -> UpstreamConnection.openTls("localhost", postgres.getPort(), "postgres", SCRAM_USER,
                PASSWORD, Map.of(), SSLContext.getDefault()))
                .isInstanceOf(UpstreamStartupException.class)
                .hasMessageContaining("does not accept TLS");
    }

    @Test
    void cancelRequestStopsARunningQueryWith57014() throws Exception {
        try (UpstreamConnection upstream = connect(SCRAM_USER, PASSWORD)) {
            upstream.writer().write(new Query("SELECT pg_sleep(10)"));
            upstream.writer().flush();
            Thread.sleep(300);
            long started = System.nanoTime();
            UpstreamConnection.sendCancel("localhost", postgres.getPort(), upstream.backendKey().processId(),
                    upstream.backendKey().secretKey());
            List<BackendMessage> replies = untilReady(upstream);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            assertThat(replies).filteredOn(ErrorResponse.class::isInstance).singleElement()
                    .satisfies(e -> assertThat(((ErrorResponse) e).sqlState()).isEqualTo("57014"));
        }
    }

    @Test
    void extendedQueryProtocolRoundTripsThroughTheServer() throws Exception {
        try (UpstreamConnection upstream = connect(SCRAM_USER, PASSWORD)) {
            PgMessageWriter w = upstream.writer();
            w.write(new Parse("s1", "SELECT $1::int + 1 AS next, $2::text AS t", List.of(23, 25)));
            w.write(new Bind("", "s1", List.of(0), new byte[][] {"41".getBytes(StandardCharsets.UTF_8), null}, List.of()));
            w.write(new Describe(Target.STATEMENT, "s1"));
            w.write(new Execute("", 0));
            w.write(new Sync());
            w.flush();
            List<BackendMessage> replies = untilReady(upstream);
            assertThat(replies).hasSize(7);
            assertThat(replies.get(0)).isInstanceOf(ParseComplete.class);
            assertThat(replies.get(1)).isInstanceOf(BindComplete.class);
            assertThat(replies.get(2)).isEqualTo(new ParameterDescription(List.of(23, 25)));
            assertThat(replies.get(3)).isInstanceOf(RowDescription.class);
            DataRow row = (DataRow) replies.get(4);
            assertThat(new String(row.values()[0], StandardCharsets.UTF_8)).isEqualTo("42");
            assertThat(row.values()[1]).isNull();
            assertThat(replies.get(5)).isEqualTo(new CommandComplete("SELECT 1"));
        }
    }

    @Test
    void copyOutAndCopyInWork() throws Exception {
        try (UpstreamConnection upstream = connect(SCRAM_USER, PASSWORD)) {
            PgMessageWriter w = upstream.writer();
            w.write(new Query("COPY (SELECT generate_series(1, 3)) TO STDOUT"));
            w.flush();
            List<BackendMessage> out = untilReady(upstream);
            assertThat(out.getFirst()).isInstanceOf(CopyOutResponse.class);
            assertThat(out).filteredOn(CopyData.class::isInstance)
                    .extracting(m -> new String(((CopyData) m).data(), StandardCharsets.UTF_8))
                    .containsExactly("1\n", "2\n", "3\n");
            assertThat(out).contains(new CopyDone(), new CommandComplete("COPY 3"));

            w.write(new Query("CREATE TEMP TABLE t(x int, y text)"));
            w.flush();
            untilReady(upstream);
            w.write(new Query("COPY t FROM STDIN"));
            w.flush();
            assertThat(upstream.reader().readBackend()).isInstanceOf(CopyInResponse.class);
            w.write(new FrontendMessage.CopyData("1\tone\n2\ttwo\n".getBytes(StandardCharsets.UTF_8)));
            w.write(new FrontendMessage.CopyDone());
            w.flush();
            assertThat(untilReady(upstream)).startsWith(new CommandComplete("COPY 2"));
        }
    }

    @Test
    void aMillionDataRowsAreForwardedWithoutDecoding() throws Exception {
        try (UpstreamConnection upstream = connect(SCRAM_USER, PASSWORD)) {
            upstream.writer().write(new Query("SELECT g, 'row ' || g FROM generate_series(1, 1000000) g"));
            upstream.writer().flush();
            CountingStream sink = new CountingStream();
            PgMessageWriter client = new PgMessageWriter(sink);
            PgFrameReader reader = upstream.reader();
            long rows = 0;
            long started = System.nanoTime();
            while (true) {
                byte type = reader.readHeader();
                if (type == 'D') {
                    rows++;
                    reader.forwardPayload(client);
                } else if (type == 'Z') {
                    reader.forwardPayload(client);
                    break;
                } else {
                    reader.forwardPayload(client);
                }
            }
            client.flush();
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertThat(rows).isEqualTo(1_000_000);
            assertThat(sink.bytes).isGreaterThan(1_000_000L * 20);
            System.out.println("forwarded 1,000,000 DataRows (" + sink.bytes + " bytes) in " + took.toMillis() + " ms");
        }
    }

    static List<BackendMessage> untilReady(UpstreamConnection upstream) throws IOException {
        List<BackendMessage> replies = new ArrayList<>();
        BackendMessage message;
        do {
            message = upstream.reader().readBackend();
            replies.add(message);
        } while (!(message instanceof ReadyForQuery));
        return replies;
    }

    static final class CountingStream extends OutputStream {
        long bytes;

        @Override
        public void write(int b) {
            bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes += len;
        }
    }
}
