package dev.portcullis.config;

import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where people approve held operations and who is told about them.
 *
 * @param publicUrl the gateway's admin address as approvers reach it (links in refusals, notices and
 *                  notifications); empty: the admin listen address, https with {@code admin.tls}
 * @param channels  channels told of every new approval request (`notify:` in the file)
 */
public record ApprovalsConfig(Optional<URI> publicUrl, List<Channel> channels) {
    public ApprovalsConfig {
        Objects.requireNonNull(publicUrl);
        channels = List.copyOf(channels);
    }

    public static final ApprovalsConfig NONE = new ApprovalsConfig(Optional.empty(), List.of());

    /** A notification channel. */
    public sealed interface Channel {
        URI url();
    }

    /** A Slack-compatible incoming webhook (the URL is the credential: never logged). */
    public record Slack(URI url) implements Channel {
        @Override
        public String toString() {
            return "Slack[url=(redacted)]";
        }
    }

    /** A generic JSON webhook signed with HMAC-SHA256 ({@code Portcullis-Signature}). */
    public record Webhook(URI url, String secret) implements Channel {
        @Override
        public String toString() {
            return "Webhook[url=" + url + ", secret=(redacted)]";
        }
    }
}
