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
                new AuditEvent.AuthFailed("okta", "http", "10.0.0.5", "expired", "expired"),
                new AuditEvent.ApprovalRequested("apr_x", "orders-db", "agent-7", "jti-7", "sql", "DELETE FROM t",
                        "DELETE FROM t\nparameters: [42]", "sha256:00", "prod-writes", "needs a DBA", List.of("sre", "dba"), 2,
                        java.time.Instant.parse("2026-11-23T09:10:00.000001Z"), java.util.Optional.empty()),
                new AuditEvent.ApprovalRequested("apr_y", "orders-db", "agent-7", "jti-7", "sql", "DELETE FROM t",
                        "", "sha256:00", "jit-writes", "needs a DBA", List.of("dba"), 1,
                        java.time.Instant.parse("2026-11-23T09:10:00Z"), java.util.Optional.of(java.time.Duration.ofMinutes(30))),
                new AuditEvent.ApprovalApproved("apr_x", "alice", List.of("dba"), "jti-a", 1, 2),
                new AuditEvent.ApprovalApproved("apr_y", "alice", List.of("dba"), "jti-a", 1, 1,
                        java.util.Optional.of(java.time.Instant.parse("2026-11-23T09:40:00Z"))),
                new AuditEvent.ApprovalRevoked("apr_y", "bob", List.of("dba", "admins"), "jti-b", "done early"),
                new AuditEvent.GrantEnded("apr_y", java.time.Instant.parse("2026-11-23T09:40:00Z")),
                AuditEvent.OperationRecorded.of(new dev.portcullis.core.HttpCall("POST", "/z", "", java.util.Map.of(),
                                "application/json", java.util.Optional.empty(), 2), new Excerpt("{}", false, 2),
                        dev.portcullis.policy.Decision.of(new dev.portcullis.policy.Verdict.Granted("jit-writes", "apr_y",
                                java.time.Instant.parse("2026-11-23T09:40:00Z"))),
                        new Upstream.Responded(201), Excerpt.NONE, new Timings(1, 2, 3)),
                new AuditEvent.ApprovalDenied("apr_x", "bob", List.of("dba", "admins"), "jti-b", "not now"),
                new AuditEvent.ApprovalExpired("apr_x", java.time.Instant.parse("2026-11-23T09:10:00Z")),
                new AuditEvent.ApprovalReleased("apr_x", "sha256:00"),
                new AuditEvent.ApprovalNotified("apr_x", "webhook:tickets.example.com", false, 5, "HTTP 503: busy"),
                new AuditEvent.ApprovalNotified("apr_x", "slack:hooks.slack.com", true, 1, ""));
        for (AuditEvent e : events) {
            assertThat(AuditJson.read(e.code().code(), AuditJson.write(e))).isEqualTo(e);
        }
    }

    @Test
    void textBeyondAsciiIsWrittenAsItIsAndALoneSurrogateAsAnEscapeThatReadsBackTheSame() {
        // Written as UTF-8 bytes and read back: the string the character generator wrote, emoji included.
        AuditEvent text = new AuditEvent.SessionEnded("caf\u00e9 \u6f22\u5b57 \uD83D\uDE00 \u2028 end");
        assertThat(AuditJson.write(text)).isEqualTo("{\"reason\":\"caf\u00e9 \u6f22\u5b57 \uD83D\uDE00 \u2028 end\"}");
        assertThat(AuditJson.read(text.code().code(), AuditJson.write(text))).isEqualTo(text);
        // A lone surrogate (JSON from an agent can carry one) has no UTF-8 form: escaped, it reads back as it was.
        AuditEvent lone = new AuditEvent.SessionEnded("half \uD800 a pair");
        assertThat(AuditJson.write(lone)).isEqualTo("{\"reason\":\"half \\uD800 a pair\"}");
        assertThat(AuditJson.read(lone.code().code(), AuditJson.write(lone))).isEqualTo(lone);
    }

    @Test
    void theSameEventAlwaysSerializesToTheSameBytesWhateverTheGroupOrder() {
        AuditEvent a = new AuditEvent.SessionStarted("alice", List.of("ops", "admins"), "j", "", "iss", "c", "http", "ip");
        AuditEvent b = new AuditEvent.SessionStarted("alice", List.of("admins", "ops"), "j", "", "iss", "c", "http", "ip");

        assertThat(AuditJson.write(a)).isEqualTo(AuditJson.write(b)).isEqualTo(
                "{\"subject\":\"alice\",\"groups\":[\"admins\",\"ops\"],\"tokenId\":\"j\",\"clientId\":\"\","
                        + "\"issuer\":\"iss\",\"connection\":\"c\",\"protocol\":\"http\",\"clientAddress\":\"ip\"}");
    }

    @Test
    void approvalEventsHaveStableCodesAndDenialsAndExpiriesCountAsRefusals() {
        assertThat(new AuditEvent.ApprovalApproved("a", "s", List.of(), "j", 1, 1).code().code()).isEqualTo("PC4001");
        assertThat(EventCode.fromCode("PC4000")).isEqualTo(EventCode.APPROVAL_REQUESTED);
        assertThat(EventCode.fromCode("PC4004").eventName()).isEqualTo("approval.released");
        assertThat(new AuditEvent.ApprovalDenied("a", "s", List.of(), "j", "r").refused()).isTrue();
        assertThat(new AuditEvent.ApprovalExpired("a", java.time.Instant.EPOCH).refused()).isTrue();
        assertThat(new AuditEvent.ApprovalReleased("a", "f").refused()).isFalse();
        assertThat(AuditJson.write(new AuditEvent.ApprovalApproved("apr_x", "alice", List.of("ops", "dba"), "j", 1, 2)))
                .isEqualTo("{\"approvalId\":\"apr_x\",\"approverSubject\":\"alice\",\"approverGroups\":[\"dba\",\"ops\"],"
                        + "\"approverTokenId\":\"j\",\"approvals\":1,\"approvalsRequired\":2}");
    }
}
