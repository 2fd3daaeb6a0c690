package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The gateway reads every statement as UTF-8 with standard conforming strings. A server reading the
 * same bytes otherwise would run something the gateway did not judge: with {@code client_encoding=SJIS}
 * the bytes {@code 0x81 0x5C} are one character, so {@code E'…\'} ends where the gateway sees an escaped
 * quote; with {@code standard_conforming_strings=off}, {@code '\'} does not end a string where the
 * gateway's parser says it does. So changing either is refused whatever the policy allows (here an
 * identity the policy allows everything), a server configured otherwise is refused at login, and a session
 * whose server starts reading otherwise mid-way (a function that changes it) is closed.
 */
class SqlReadingSettingsTest {

    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    /** Allowed anything by the policy: the refusals below are the gateway's own. */
    static String dba;
    static String agent;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data, yaml -> yaml.replace("      rules:\n", """
                      rules:
                        - id: test-dba-anything
                          when:
                            groups: [dba-agents]
                          action: allow
                """));
        dba = f.token("dba-1", "dba-agents");
        agent = f.token("agent-1", "agents");
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            st.execute("CREATE FUNCTION reads_backslashes() RETURNS text LANGUAGE sql "
                    + "AS $$ SELECT set_config('standard_conforming_strings', 'off', false) $$");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SET client_encoding = 'SJIS'",
            "SET NAMES 'GBK'",
            "set client_encoding to big5",
            "SET SESSION \"Client_Encoding\" TO 'UHC'",
            "SET standard_conforming_strings = off",
            "SET standard_conforming_strings TO 'false'",
            "SET LOCAL standard_conforming_strings = 0",
            "SELECT set_config('standard_conforming_strings', 'off', false)",
            "SELECT set_config('Client_Encoding', 'SJIS', false)",
            "SELECT set_config(lower('STANDARD_CONFORMING_STRINGS'), 'off', false)",
            "SELECT 1; SET standard_conforming_strings = off; SELECT 2"})
    void changingHowTheServerReadsSqlIsRefusedAndNothingChanges(String sql) throws Exception {
        var run = f.psql(dba, sql, "SHOW client_encoding", "SHOW standard_conforming_strings");
        assertThat(run.err()).as(sql).contains("Portcullis: this statement is refused: it would change how the server reads SQL");
        assertThat(run.out()).as(sql).contains(" UTF8\n").contains(" on\n").doesNotContain("SJIS", "GBK", "BIG5", "UHC", " off\n");
    }

    @Test
    void overTheExtendedProtocolToo() throws Exception {
        try (Connection c = f.jdbc(dba); Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.execute("SET standard_conforming_strings = off"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("0A000"));
            try (ResultSet rs = st.executeQuery("SHOW standard_conforming_strings")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("on");
            }
        }
    }

    @Test
    void settingTheValuesTheGatewayReadsWithIsFine() throws Exception {
        // what drivers and frameworks send at connect (Rails sets standard_conforming_strings = on)
        var run = f.psql(agent, "SET client_encoding = 'UTF8'", "SET NAMES 'utf8'", "SET standard_conforming_strings = on",
                "RESET client_encoding", "SET client_encoding TO DEFAULT", "SHOW client_encoding");
        assertThat(run.err()).isEmpty();
        assertThat(run.out()).contains(" UTF8\n");
    }

    @Test
    void aSessionWhoseServerStartsReadingOtherwiseIsClosed() throws Exception {
        var run = f.psql(dba, "SELECT reads_backslashes()", "SELECT 'after' AS next");
        assertThat(run.err()).contains("standard_conforming_strings = off").contains("the session is closed");
        assertThat(run.out()).doesNotContain("after");
    }

    @Test
    void aServerThatReadsOtherwiseFromTheStartIsRefusedAtLogin() throws Exception {
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            st.execute("ALTER ROLE " + PostgresGatewayFixture.DB_USER + " SET standard_conforming_strings = off");
        }
        try {
            var run = f.psql(dba, "SELECT 'logged in' AS state");
            assertThat(run.err()).contains("standard_conforming_strings = off").contains("cannot judge this session");
            assertThat(run.out()).doesNotContain("logged in");
        } finally {
            try (Connection c = f.admin(); Statement st = c.createStatement()) {
                st.execute("ALTER ROLE " + PostgresGatewayFixture.DB_USER + " RESET standard_conforming_strings");
            }
        }
        assertThat(f.psql(dba, "SELECT 'logged in' AS state").out()).contains("logged in");
    }
}
