package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.postgres.MaskedResults.Grid;
import dev.portcullis.postgres.MaskedResults.Secrets;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * The same derived columns are masked whichever way the result travels: simple query (psql, pgjdbc in
 * simple mode, several statements in one query), extended protocol, binary format, a portal fetched in
 * pieces, server-side PREPARE/EXECUTE, and COPY ... TO STDOUT in text and CSV (psql, \copy, CopyManager).
 */
class EveryResultPathMasksDerivedValuesTest {
    /** reverse(email) text, length(email) int, email::bytea, upper(phone): one text, one int, one bytea, one more text. */
    static final String DERIVED = "SELECT id, reverse(email) AS r, length(email) AS n, email::bytea AS b, upper(phone) AS p "
            + "FROM customers";
    static final String DERIVED_KINDS = "=mmmm";

    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static String agent;
    static Connection direct;
    static Secrets secrets;
    /** Every derived value a direct connection computes for the statements here: none may reach an agent. */
    static List<String> derivedValues;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data);
        MaskedResults.createLineageTables(f);
        agent = f.token("agent-1", "agents");
        direct = f.admin();
        secrets = Secrets.read(direct);
        derivedValues = new ArrayList<>();
        Grid g = MaskedResults.query(direct, DERIVED + " ORDER BY id");
        for (List<String> row : g.rows()) {
            derivedValues.add(row.get(1));
            derivedValues.add(row.get(3));
            derivedValues.add(row.get(4));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (direct != null) direct.close();
        if (f != null) f.close();
    }

    @Test
    void psqlSimpleQuery() throws Exception {
        var r = f.psql(agent, "\\pset format unaligned", "SELECT id, reverse(email) AS r, length(phone) AS n FROM customers "
                + "ORDER BY id");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertPsqlLines(r, IntStream.rangeClosed(1, 20).mapToObj(i -> i + "|[masked]|").toList());
    }

    @Test
    void psqlSeveralStatementsInOneQuery() throws Exception {
        var r = f.psql(agent, "\\pset format unaligned",
                "SELECT 1 AS one; SELECT id, upper(phone) AS p FROM customers ORDER BY id; SELECT 2 AS two");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).as("every result of the query is shown").contains("one\n1\n", "two\n2\n");
        assertPsqlLines(r, IntStream.rangeClosed(1, 20).mapToObj(i -> i + "|[masked]").toList());
    }

    @Test
    void pgjdbcSimpleQueryMode() throws Exception {
        Properties p = new Properties();
        p.setProperty("preferQueryMode", "simple");
        try (Connection c = f.jdbc(agent, p)) {
            String sql = DERIVED + " ORDER BY id";
            MaskedResults.assertMasked("[simple] " + sql, MaskedResults.query(direct, sql), MaskedResults.query(c, sql),
                    DERIVED_KINDS, secrets);
        }
    }

    @Test
    void extendedProtocolWithAParameter() throws Exception {
        String sql = DERIVED + " WHERE id > ? ORDER BY id";
        try (Connection c = f.jdbc(agent)) {
            MaskedResults.assertMasked("[extended] " + sql, prepared(direct, sql, 3), prepared(c, sql, 3), DERIVED_KINDS,
                    secrets);
        }
    }

    @Test
    void binaryFormatOnceTheStatementIsServerPrepared() throws Exception {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        p.setProperty("binaryTransfer", "true");
        p.setProperty("binaryTransferEnable", "25,1043"); // text and varchar in binary too
        String sql = DERIVED + " WHERE id > ? ORDER BY id";
        try (Connection c = f.jdbc(agent, p); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int run = 1; run <= 5; run++) { // from the second run: a named statement, results in binary
                ps.setInt(1, run);
                Grid through;
                try (ResultSet rs = ps.executeQuery()) {
                    through = MaskedResults.read(rs);
                }
                MaskedResults.assertMasked("[binary, run " + run + "] " + sql, prepared(direct, sql, run), through,
                        DERIVED_KINDS, secrets);
            }
        }
    }

    @Test
    void aPortalFetchedThreeRowsAtATime() throws Exception {
        String sql = DERIVED + " ORDER BY id";
        try (Connection c = f.jdbc(agent)) {
            c.setAutoCommit(false);
            Grid through;
            try (Statement st = c.createStatement()) {
                st.setFetchSize(3);
                try (ResultSet rs = st.executeQuery(sql)) {
                    through = MaskedResults.read(rs);
                }
            }
            c.commit();
            MaskedResults.assertMasked("[fetch size 3] " + sql, MaskedResults.query(direct, sql), through, DERIVED_KINDS,
                    secrets);
        }
    }

    @Test
    void serverSidePrepareAndExecuteInPsql() throws Exception {
        var r = f.psql(agent, "\\pset format unaligned",
                "PREPARE p AS SELECT id, reverse(email) AS r FROM customers ORDER BY id", "EXECUTE p");

        assertThat(r.err()).isEmpty();
        assertPsqlLines(r, IntStream.rangeClosed(1, 20).mapToObj(i -> i + "|[masked]").toList());
    }

    @Test
    void serverSidePrepareAndExecuteInPgjdbc() throws Exception {
        String prepare = "PREPARE q AS " + DERIVED + " WHERE id > 4 ORDER BY id";
        try (Connection c = f.jdbc(agent); Statement st = c.createStatement()) {
            st.execute(prepare);
            Grid through = MaskedResults.query(c, "EXECUTE q");
            MaskedResults.assertMasked(prepare + "; EXECUTE q", MaskedResults.query(direct, DERIVED + " WHERE id > 4 ORDER BY id"),
                    through, DERIVED_KINDS, secrets);
        }
    }

    @Test
    void copyQueryToStdoutInPsql() throws Exception {
        var r = f.psql(agent, "COPY (SELECT reverse(email), id FROM customers ORDER BY id) TO STDOUT");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertPsqlLines(r, IntStream.rangeClosed(1, 20).mapToObj(i -> "[masked]\t" + i).toList());
    }

    @Test
    void backslashCopyToStdoutInPsql() throws Exception {
        var r = f.psql(agent, "\\copy (SELECT reverse(email), id FROM customers ORDER BY id) to stdout");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertPsqlLines(r, IntStream.rangeClosed(1, 20).mapToObj(i -> "[masked]\t" + i).toList());
    }

    @Test
    void copyQueryToStdoutAsCsv() throws Exception {
        var r = f.psql(agent, "COPY (SELECT reverse(email), length(phone), id FROM customers ORDER BY id) TO STDOUT "
                + "WITH (FORMAT csv)");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertPsqlLines(r, IntStream.rangeClosed(1, 20).mapToObj(i -> "[masked],," + i).toList());
    }

    @Test
    void copyOutWithPgjdbcCopyManager() throws Exception {
        StringWriter out = new StringWriter();
        String sql = "COPY (SELECT id, upper(phone), md5(email), email::bytea FROM customers ORDER BY id) TO STDOUT";
        try (Connection c = f.jdbc(agent)) {
            c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
        }
        List<String> lines = out.toString().lines().toList();
        assertThat(lines).as("through the gateway: %s", sql)
                .containsExactlyElementsOf(IntStream.rangeClosed(1, 20).mapToObj(i -> i + "\t[masked]\t[masked]\t\\N").toList());
    }

    @Test
    void copyOfTheWholeTableStillMasksEmailAndPhone() throws Exception {
        var r = f.psql(agent, "COPY customers TO STDOUT");

        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = r.out().lines().filter(l -> l.contains("\t")).toList();
        assertThat(lines).hasSize(20);
        for (String line : lines) {
            String[] cells = line.split("\t", -1);
            assertThat(cells[2]).as("email in %s", line).isEqualTo("[masked]");
            assertThat(cells[3]).as("phone in %s", line).isEqualTo("[masked]");
            assertThat(secrets.leakIn(line)).as("a real email or phone in %s", line).isNull();
        }
    }

    private static Grid prepared(Connection c, String sql, int parameter) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setInt(1, parameter);
            try (ResultSet rs = ps.executeQuery()) {
                return MaskedResults.read(rs);
            }
        }
    }

    /** psql printed each expected line, and no real email or phone, nor any value derived from one. */
    private static void assertPsqlLines(PostgresGatewayFixture.PsqlRun r, List<String> expected) {
        List<String> lines = r.out().lines().toList();
        assertThat(lines).as("psql output (stderr: %s)", r.err()).containsSubsequence(expected);
        assertThat(secrets.leakIn(r.out())).as("a real email or phone in psql output:\n%s", r.out()).isNull();
        for (String v : derivedValues) {
            if (v != null && v.length() >= 5) {
                assertThat(r.out()).as("a derived value in psql output").doesNotContain(v);
            }
        }
    }
}
