package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.portcullis.postgres.MaskedResults.Grid;
import dev.portcullis.postgres.MaskedResults.Secrets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** With {@code predicates: allow} a masked column may be searched and sorted freely; its values stay masked. */
class MaskedColumnsMayBeSearchedWhenPredicatesAllowTest {
    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static Connection direct;
    static Connection gateway;
    static Secrets secrets;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data, yaml -> MaskedColumnsRefuseEveryPredicateWhenConfiguredTest.withPredicates(yaml,
                "allow"));
        MaskedResults.createLineageTables(f);
        direct = f.admin();
        gateway = f.jdbc(f.token("agent-1", "agents"));
        secrets = Secrets.read(direct);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) gateway.close();
        if (direct != null) direct.close();
        if (f != null) f.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT id, email FROM customers WHERE email LIKE 'user1%' ORDER BY id                   | =m
            SELECT id, reverse(email) FROM customers WHERE email ~ '^user2' ORDER BY id             | =m
            SELECT id, phone FROM customers WHERE phone BETWEEN '+1 415 555 0005' AND '+1 415 555 0009' ORDER BY id | =m
            SELECT id FROM customers ORDER BY email                                                 | =
            SELECT upper(email), count(*) FROM customers GROUP BY 1 ORDER BY 2, 1                   | m=
            """)
    void patternsRangesAndSortsRunAndTheValuesStayMasked(String sql, String kinds) throws Exception {
        Grid through;
        try {
            through = MaskedResults.query(gateway, sql);
        } catch (SQLException e) {
            fail("through the gateway with predicates: allow: " + sql + "\n  expected to run; got " + e.getSQLState() + " "
                    + e.getMessage());
            return;
        }
        MaskedResults.assertMasked(sql, MaskedResults.query(direct, sql), through, kinds, secrets);
        assertThat(through.rows()).as(sql).isNotEmpty();
    }
}
