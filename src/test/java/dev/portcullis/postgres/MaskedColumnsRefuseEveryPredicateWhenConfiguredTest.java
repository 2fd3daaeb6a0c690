package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.postgres.MaskedResults.Secrets;
import java.nio.file.Path;
import java.sql.Connection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** With {@code predicates: refuse} on the mask, even equality on a masked column is refused; reading it is not. */
class MaskedColumnsRefuseEveryPredicateWhenConfiguredTest {
    @TempDir
    static Path data;

    static PostgresGatewayFixture f;
    static Connection direct;
    static Connection gateway;

    @BeforeAll
    static void start() throws Exception {
        f = new PostgresGatewayFixture(data, yaml -> withPredicates(yaml, "refuse"));
        MaskedResults.createLineageTables(f);
        direct = f.admin();
        gateway = f.jdbc(f.token("agent-1", "agents"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) gateway.close();
        if (direct != null) direct.close();
        if (f != null) f.close();
    }

    /** examples/postgres.yaml with {@code predicates: <mode>} in the shared {@code &masking} block. */
    static String withPredicates(String yaml, String mode) {
        String detectors = "          mask: &masking\n            fields: [email, phone]\n"
                + "            detectors: [email, phone, card, ssn]\n";
        if (!yaml.contains(detectors)) throw new IllegalStateException("examples/postgres.yaml has no &masking block as expected");
        return yaml.replace(detectors, detectors + "            predicates: " + mode + "\n");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT id FROM customers WHERE email = 'user1@example.com'",
            "SELECT id FROM customers WHERE email IN ('user1@example.com', 'user2@example.com')",
            "SELECT id FROM customers WHERE email IS NULL",
            "SELECT id FROM customers WHERE email = ANY(ARRAY['user3@example.com'])",
            "SELECT a.id FROM customers a JOIN contacts b ON a.email = b.email",
            "SELECT customers.id FROM customers JOIN contacts USING (email)",
            "SELECT id FROM customers WHERE email IN (SELECT email FROM contacts)",
            "SELECT id FROM customers WHERE email LIKE 'user1%'",
    })
    void everyPredicateOnEmailIsRefused(String sql) {
        MaskedResults.assertRefused(sql, () -> MaskedResults.query(gateway, sql), "agents-read-only", "email");
    }

    @Test
    void readingTheColumnStillRunsMasked() throws Exception {
        String sql = "SELECT id, email, phone FROM customers ORDER BY id";
        MaskedResults.assertMasked(sql, MaskedResults.query(direct, sql), MaskedResults.query(gateway, sql), "=mm",
                Secrets.read(direct));
    }

    @Test
    void aRefusedLookupOnPhoneLeavesTheSessionUsable() throws Exception {
        String sql = "SELECT id FROM customers WHERE phone = '+1 415 555 0001'";
        MaskedResults.assertRefused(sql, () -> MaskedResults.query(gateway, sql), "agents-read-only", "phone");
        assertThat(MaskedResults.query(gateway, "SELECT count(*) FROM orders").cell(0, 0)).isEqualTo("20");
    }
}
