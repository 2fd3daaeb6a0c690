/**
 * Telling approvers that an operation waits for them: a Slack-compatible incoming webhook, and a
 * generic JSON webhook signed with HMAC-SHA256 that a ticketing system or bot can verify before it
 * calls back {@code /api/v1/approvals/{id}}.
 *
 * <pre>
 *  approval service          Notifier                      worker (virtual thread)        receiver
 *  ────────────────          ────────                      ───────────────────────        ────────
 *  notify(n) ──────────────▶ one Delivery per channel
 *  returns at once ◀──────── offer to bounded queue
 *                            (full: failed(…, 0, why))
 *                                                ─────────▶ take; channel.request(n) ───▶ POST
 *                                                           2xx ◀──────────────────────── delivered(…)
 *                                                           429/5xx/IO: wait 0.5 s, 1 s, 2 s, 4 s …, again
 *                                                           other 4xx, or out of attempts: failed(…)
 * </pre>
 *
 * <p>Configuration (parsed elsewhere into {@link dev.portcullis.approval.notify.NotificationChannel}s
 * and {@link dev.portcullis.approval.notify.Notifier.Settings}):
 *
 * <pre>
 * approvals:
 *   notify:
 *     - type: slack                      # SlackWebhookChannel
 *       url: ${SLACK_APPROVALS_WEBHOOK}  # the URL is the credential: keep it out of the file
 *     - type: webhook                    # SignedWebhookChannel
 *       url: https://tickets.example.com/hooks/portcullis
 *       secret: ${PORTCULLIS_WEBHOOK_SECRET}   # at least 16 bytes; 32 random bytes recommended
 * </pre>
 *
 * <p>Receivers of the signed webhook call
 * {@link dev.portcullis.approval.notify.SignedWebhookChannel#verify} on the raw body bytes, with a
 * tolerance of a few minutes. A delivery may arrive more than once (a retry after a lost response),
 * so receivers deduplicate on {@code requestId}.
 */
package dev.portcullis.approval.notify;
