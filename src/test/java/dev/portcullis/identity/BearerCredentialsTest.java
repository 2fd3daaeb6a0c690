package dev.portcullis.identity;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class BearerCredentialsTest {

    @ParameterizedTest
    @ValueSource(strings = {"Bearer abc.def.ghi", "bearer abc.def.ghi", "BEARER abc.def.ghi", "SSWS abc.def.ghi",
            "ssws abc.def.ghi", "  Bearer   abc.def.ghi  "})
    void bearerAndSswsSchemesYieldTheToken(String header) {
        assertThat(BearerCredentials.fromAuthorizationHeader(header)).hasValue("abc.def.ghi");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Basic dXNlcjpwYXNz", "Token abc", "Bearerabc.def.ghi", "abc.def.ghi", "Digest x=y",
            "Bearer", "Bearer ", "SSWS    ", "", "   ", " Bearer"})
    void otherSchemesAndEmptyHeadersYieldNothing(String header) {
        assertThat(BearerCredentials.fromAuthorizationHeader(header)).isEmpty();
    }

    @ParameterizedTest
    @NullSource
    void absentHeaderYieldsNothing(String header) {
        assertThat(BearerCredentials.fromAuthorizationHeader(header)).isEmpty();
    }
}
