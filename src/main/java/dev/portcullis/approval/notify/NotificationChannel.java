package dev.portcullis.approval.notify;

import java.net.http.HttpRequest;

/**
 * One place approvers are told about a held operation. A channel only shapes the HTTP request;
 * {@link Notifier} sends it, times it out and retries it.
 */
public interface NotificationChannel {

    /** A label for logs and delivery events. Never the URL: a Slack webhook URL is itself the credential. */
    String name();

    /**
     * The request for one delivery attempt. Called again for every retry, so time-bound parts (a
     * signature timestamp) are fresh on each attempt.
     */
    HttpRequest request(Notification notification);
}
