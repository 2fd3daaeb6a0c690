package dev.portcullis.approval.notify;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

final class Notifications {
    private Notifications() {
    }

    static Notification sample(String requestId) {
        return sample(requestId, Optional.empty());
    }

    /** As {@link #sample(String)}, for a rule that grants {@code grant} of access once approved. */
    static Notification grant(String requestId, Duration grant) {
        return sample(requestId, Optional.of(grant));
    }

    private static Notification sample(String requestId, Optional<Duration> grant) {
        Instant created = Instant.parse("2030-01-02T03:04:05Z");
        return new Notification(requestId, "okta", "agent-7", "DELETE /api/v1/users/00u1 <@channel> & ```x```",
                "", "okta-user-delete", "deleting a user needs a human", List.of("sre", "iam-admins"), 2, grant, created,
                created.plusSeconds(900), URI.create("https://gw.example.com/approvals/" + requestId),
                URI.create("https://gw.example.com/api/v1/approvals/" + requestId));
    }
}
