package dev.portcullis.store;

import java.time.Instant;

/**
 * One row of a session listing.
 *
 * @param subject      empty for the per-client session of failed authentications
 * @param eventCount   events recorded (also the session's last sequence number)
 * @param refusedCount refused operations and failed authentications
 * @param headHash     hash of the session's last event; kept so that deleting the tail is detected
 */
public record SessionSummary(String id, String subject, String tokenId, String connection, String protocol,
                             String clientAddress, Instant startedAt, Instant lastEventAt, long eventCount,
                             long refusedCount, String headHash) {

    public boolean authenticated() {
        return !subject.isEmpty();
    }
}
