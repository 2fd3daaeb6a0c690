package dev.portcullis.recording;

import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.policy.Decision;
import dev.portcullis.policy.Verdict;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

final class Fixtures {

    static final Instant T0 = Instant.parse("2026-11-23T09:00:00Z");

    private Fixtures() {
    }

    static Identity identity(String subject, String tokenId) {
        return new Identity(subject, Set.of("ops", "admins"), tokenId, "agent-x", "https://idp.example",
                Map.of(), T0.plus(Duration.ofHours(1)));
    }

    static AuditEvent.OperationRecorded allowed(String path, int status) {
        return AuditEvent.OperationRecorded.of(
                new HttpCall("GET", path, "", Map.of(), "", Optional.empty(), 0), Excerpt.NONE,
                new Decision(new Verdict.Allow("okta-read"), List.of(new Verdict.Deny("strict", "dry run only"))),
                new Upstream.Responded(status), new Excerpt("{\"email\":\"***\"}", true, 5120),
                new Timings(120, 35_000, 36_000));
    }

    static AuditEvent.OperationRecorded refused(String path) {
        return AuditEvent.OperationRecorded.of(
                new HttpCall("DELETE", path, "", Map.of(), "", Optional.empty(), 0), Excerpt.NONE,
                Decision.of(new Verdict.Deny("no-deletes", "deleting users is not allowed")),
                Upstream.NOT_FORWARDED, Excerpt.NONE, new Timings(80, 0, 90));
    }
}
