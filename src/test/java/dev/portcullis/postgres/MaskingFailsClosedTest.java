package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.portcullis.postgres.MaskedResults.Grid;
import dev.portcullis.postgres.MaskedResults.Secrets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.util.PSQLException;

/**
 * Where the gateway cannot follow a value from a masked column to the client, it refuses (42501) rather
 * than guess: planner statistics (sample values of every column), cursors read with FETCH, functions
 * that run SQL given as a string, values parked in a session setting, unknown functions. A server error
 * quoting a masked value must not carry it to the agent either.
 */
class MaskingFailsClosedTest {
    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static String agent;
    static Connection direct;
    static Connection gateway;
    static Secrets secrets;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data);
        MaskedResults.createLineageTables(f);
        direct = f.admin();
        try (Statement st = direct.createStatement()) {
            // pg_stats_ext shows only the statistics of tables the gateway role owns
            st.execute("""
                    CREATE TABLE leads (id int, email text, phone text);
                    INSERT INTO leads SELECT id, email, phone FROM customers;
                    INSERT INTO leads SELECT id, email, phone FROM customers WHERE id <= 5;
                    ALTER TABLE leads OWNER TO gateway;
                    CREATE STATISTICS leads_contact (mcv) ON email, phone FROM leads;
                    CREATE STATISTICS leads_lower (mcv) ON lower(email), phone FROM leads;
                    ALTER STATISTICS leads_contact OWNER TO gateway;
                    ALTER STATISTICS leads_lower OWNER TO gateway;
                    ANALYZE customers; ANALYZE leads; ANALYZE contacts;
                    CREATE FUNCTION echo_text(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT t';
                    GRANT EXECUTE ON FUNCTION echo_text(text) TO gateway;
                    """);
        }
        Grid stats = MaskedResults.query(direct, "SELECT histogram_bounds::text FROM pg_stats "
                + "WHERE tablename = 'customers' AND attname = 'email'");
        if (stats.rows().isEmpty() || !stats.cell(0, 0).contains("@example.com")) {
            throw new IllegalStateException("pg_stats holds no sample emails, the statistics cases would prove nothing: " + stats);
        }
        agent = f.token("agent-1", "agents");
        gateway = f.jdbc(agent);
        secrets = Secrets.read(direct);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) gateway.close();
        if (direct != null) direct.close();
        if (f != null) f.close();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT * FROM pg_stats WHERE tablename = 'customers'",
            "SELECT attname, histogram_bounds::text FROM pg_stats WHERE tablename = 'customers'",
            "SELECT most_common_vals::text FROM pg_catalog.pg_stats WHERE attname = 'phone'",
            "SELECT s.histogram_bounds FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename",
            "SELECT * FROM pg_stats_ext",
            "SELECT most_common_vals::text FROM pg_stats_ext WHERE tablename = 'leads'",
            "SELECT * FROM pg_stats_ext_exprs",
    })
    void planStatisticsHoldSampleValuesAndAreRefused(String sql) {
        MaskedResults.assertRefused(sql, () -> MaskedResults.query(gateway, sql), "Portcullis");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT query_to_xml('SELECT email FROM customers', true, false, '')",
            "SELECT table_to_xml('customers', true, false, '')",
            "SELECT xpath('//email/text()', query_to_xml('SELECT reverse(email) AS email FROM customers', true, false, ''))",
            "SELECT * FROM ts_stat('SELECT to_tsvector(''simple'', email) FROM customers')",
    })
    void functionsRunningSqlGivenAsAStringAreRefused(String sql) {
        MaskedResults.assertRefused(sql, () -> MaskedResults.query(gateway, sql), "Portcullis");
    }

    @Test
    void anUnknownFunctionOfAMaskedColumnIsRefused() {
        String sql = "SELECT echo_text(email) FROM customers";
        MaskedResults.assertRefused(sql, () -> MaskedResults.query(gateway, sql), "Portcullis");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT id, email FROM customers ORDER BY id",
            "SELECT id, reverse(email) FROM customers ORDER BY id",
    })
    void fetchingFromACursorIsRefused(String query) throws Exception {
        try (Connection c = f.jdbc(agent)) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                String declare = "DECLARE cur CURSOR FOR " + query;
                try {
                    st.execute(declare);
                } catch (SQLException e) {
                    assertThat(e.getSQLState()).as("refusal of %s: %s", declare, e.getMessage()).isEqualTo("42501");
                    return; // refused already at DECLARE: closed too
                }
                String fetch = "FETCH 5 FROM cur";
                MaskedResults.assertRefused(declare + "; " + fetch, () -> MaskedResults.query(c, fetch), "Portcullis");
            } finally {
                c.rollback();
            }
        }
    }

    @Test
    void aValueParkedInASessionSettingDoesNotComeBackUnmasked() throws Exception {
        String park = "SELECT set_config('portcullis.parked', (SELECT email FROM customers WHERE id = 1), false)";
        String read = "SELECT current_setting('portcullis.parked')";
        try (Connection c = f.jdbc(agent)) {
            Grid parked;
            try {
                parked = MaskedResults.query(c, park);
            } catch (SQLException e) {
                assertThat(e.getSQLState()).as("refusal of %s: %s", park, e.getMessage()).isEqualTo("42501");
                return;
            }
            assertThat(secrets.leakIn(parked.cell(0, 0))).as("through the gateway: %s", park).isNull();
            Grid back;
            try {
                back = MaskedResults.query(c, read);
            } catch (SQLException e) {
                assertThat(e.getSQLState()).as("refusal of %s: %s", read, e.getMessage()).isEqualTo("42501");
                return;
            }
            fail("through the gateway: " + park + "; then " + read + "\n  expected one of them refused with 42501 "
                    + "(the lineage of current_setting cannot be proven); the second returned " + back.rows());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT email::int FROM customers",
            "SELECT phone::numeric FROM customers",
            "SELECT email::regclass FROM customers",
            "SELECT to_date(email, 'YYYY-MM-DD') FROM customers",
    })
    void serverErrorsDoNotCarryMaskedValues(String sql) {
        try {
            Grid g = MaskedResults.query(gateway, sql);
            fail("through the gateway: " + sql + "\n  expected an error (directly it fails), got " + g.rows().size() + " rows");
        } catch (SQLException e) {
            StringBuilder everything = new StringBuilder(e.getMessage());
            if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
                var m = p.getServerErrorMessage();
                everything.append('\n').append(m.getMessage()).append('\n').append(m.getDetail()).append('\n')
                        .append(m.getHint()).append('\n').append(m.getWhere()).append('\n').append(m.getInternalQuery());
            }
            assertThat(secrets.leakIn(everything.toString()))
                    .as("a real email or phone in the error the gateway relayed for %s:\n%s", sql, everything).isNull();
        }
    }
}
