package dev.portcullis.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.HttpCall;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.sql.SqlParser;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * An approval is bound to its operation's fingerprint, and stored approvals are matched by it: the
 * values are pinned, so a refactoring that changes how an operation is fingerprinted fails here
 * instead of silently orphaning every approval in a store.
 */
class OperationFingerprintTest {
    static final HttpCall CALL = new HttpCall("POST", "/api/v1/users/00u1/roles", "activate=true",
            HttpCall.parseQuery("activate=true"), "application/json", Optional.empty(), 22);
    static final byte[] BODY = "{\"type\":\"SUPER_ADMIN\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void anHttpCallIsFingerprintedByMethodPathQueryAndBodyAsBefore() {
        assertThat(OperationFingerprint.of(CALL, BODY)).isEqualTo("sha256:4a91ae0a511e06649ffc5f3d4bdd90a8cdf4b4d70fc8b44e20ac85555051d88f");
        assertThat(OperationFingerprint.of(CALL, new byte[0])).isEqualTo("sha256:fa4b3e81d8373a07da57e37b1db2954f65340a329cb91713b010fa6ed3b43279");
    }

    @Test
    void aStatementIsFingerprintedByTextAndParametersAsBefore() throws Exception {
        SqlStatement statement = SqlParser.parse("UPDATE accounts SET balance = $1 WHERE id = $2").getFirst()
                .withParameters(List.of("100", "7"));
        assertThat(OperationFingerprint.of(statement)).isEqualTo("sha256:154c41be93f00f5345ce5e246465a324a46df404e4f1ee0cf028d6ac606da1d2");
        assertThat(OperationFingerprint.of(statement, BODY)).as("SQL carries its parameters; a body is ignored")
                .isEqualTo(OperationFingerprint.of(statement));
    }

    @Test
    void anyDifferenceGivesAnotherFingerprint() throws Exception {
        String base = OperationFingerprint.of(CALL, BODY);
        assertThat(OperationFingerprint.of(new HttpCall("PUT", CALL.path(), CALL.rawQuery(), Map.of(), CALL.contentType(),
                Optional.empty(), 22), BODY)).isNotEqualTo(base);
        assertThat(OperationFingerprint.of(CALL, "{\"type\":\"ORG_ADMIN\"}".getBytes(StandardCharsets.UTF_8))).isNotEqualTo(base);
        // Length-prefixed fields: moving a byte from the path to the query is another operation.
        assertThat(OperationFingerprint.of(new HttpCall("POST", "/a?", "b", Map.of(), "", Optional.empty(), 0), new byte[0]))
                .isNotEqualTo(OperationFingerprint.of(new HttpCall("POST", "/a", "?b", Map.of(), "", Optional.empty(), 0), new byte[0]));
        SqlStatement one = SqlParser.parse("SELECT $1").getFirst();
        assertThat(OperationFingerprint.of(one.withParameters(List.of("1", "2"))))
                .isNotEqualTo(OperationFingerprint.of(one.withParameters(List.of("12"))));
    }
}
