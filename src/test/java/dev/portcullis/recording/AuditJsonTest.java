package dev.portcullis.recording;

import static dev.portcullis.recording.Fixtures.allowed;
import static dev.portcullis.recording.Fixtures.identity;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AuditJsonTest {

    @Test
    void everyEventTypeRoundTripsThroughItsCanonicalJson() {
        List<AuditEvent> events = List.of(
                AuditEvent.SessionStarted.of(identity("alice", "jti-1"), "okta", "http", "10.0.0.5"),
                new AuditEvent.SessionEnded("client disconnected"),
                allowed("/x", 200),
                AuditEvent.OperationRecorded.of(new dev.portcullis.core.HttpCall("GET", "/y", "", java.util.Map.of(),
                                "", java.util.Optional.empty(), 0), Excerpt.NONE,
                        dev.portcullis.policy.Decision.of(new dev.portcullis.policy.Verdict.Allow("r")),
                        new Upstream.Failed("connect timed out"), Excerpt.NONE, new Timings(1, 2, 3)),
                AuditEvent.OperationForwarding.of(new dev.portcullis.core.HttpCall("POST", "/z", "", java.util.Map.of(),
                                "application/json", java.util.Optional.empty(), 2), new Excerpt("{}", false, 2),
                        dev.portcullis.policy.Decision.of(new dev.portcullis.policy.Verdict.Allow("r"))),
                new AuditEvent.AuthFailed("okta", "http", "10.0.0.5", "expired", "expired"));
        for (AuditEvent e : events) {
            assertThat(AuditJson.read(e.code().code(), AuditJson.write(e))).isEqualTo(e);
        }
    }

    @Test
    void theSameEventAlwaysSerializesToTheSameBytesWhateverTheGroupOrder() {
        AuditEvent a = new AuditEvent.SessionStarted("alice", List.of("ops", "admins"), "j", "", "iss", "c", "http", "ip");
        AuditEvent b = new AuditEvent.SessionStarted("alice", List.of("admins", "ops"), "j", "", "iss", "c", "http", "ip");

        assertThat(AuditJson.write(a)).isEqualTo(AuditJson.write(b)).isEqualTo(
                "{\"subject\":\"alice\",\"groups\":[\"admins\",\"ops\"],\"tokenId\":\"j\",\"clientId\":\"\","
                        + "\"issuer\":\"iss\",\"connection\":\"c\",\"protocol\":\"http\",\"clientAddress\":\"ip\"}");
    }
}
