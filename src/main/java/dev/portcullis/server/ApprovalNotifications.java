package dev.portcullis.server;

import dev.portcullis.approval.ApprovalRequest;
import dev.portcullis.approval.ApprovalService;
import dev.portcullis.approval.notify.DeliveryListener;
import dev.portcullis.approval.notify.Notification;
import dev.portcullis.approval.notify.NotificationChannel;
import dev.portcullis.approval.notify.Notifier;
import dev.portcullis.approval.notify.SignedWebhookChannel;
import dev.portcullis.approval.notify.SlackWebhookChannel;
import dev.portcullis.config.ApprovalsConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Connects the approval service to the configured notification channels. */
final class ApprovalNotifications {
    private static final Logger log = LoggerFactory.getLogger(ApprovalNotifications.class);

    private ApprovalNotifications() {
    }

    static Notifier start(ApprovalsConfig config, GatewayMetrics metrics, ApprovalService approvals) {
        List<NotificationChannel> channels = new ArrayList<>();
        for (ApprovalsConfig.Channel c : config.channels()) {
            channels.add(switch (c) {
                case ApprovalsConfig.Slack slack -> new SlackWebhookChannel(slack.url());
                case ApprovalsConfig.Webhook hook -> new SignedWebhookChannel(hook.url(), hook.secret().getBytes(StandardCharsets.UTF_8));
            });
        }
        return new Notifier(channels, new DeliveryListener() {
            @Override
            public void delivered(String channel, String requestId, int attempts) {
                metrics.notification(channel, "delivered");
                record(approvals, requestId, channel, true, attempts, "");
            }

            @Override
            public void failed(String channel, String requestId, int attempts, String lastError) {
                metrics.notification(channel, "failed");
                log.error("approval {}: notification through {} failed after {} attempt(s): {}", requestId, channel,
                        attempts, lastError);
                record(approvals, requestId, channel, false, attempts, lastError);
            }
        }, Notifier.Settings.DEFAULTS);
    }

    private static void record(ApprovalService approvals, String id, String channel, boolean delivered, int attempts,
                               String error) {
        try {
            approvals.recordNotification(id, channel, delivered, attempts, error);
        } catch (RuntimeException e) {
            log.error("approval {}: could not record the notification outcome: {}", id, e.getMessage());
        }
    }

    static Notification of(ApprovalRequest r, String adminBase) {
        return new Notification(r.id(), r.connection(), r.requester().subject(), r.summary(), r.detail(), r.ruleId(), r.reason(),
                r.approverGroups(), r.approvalsRequired(), r.grant().map(ApprovalRequest.Grant::duration),
                r.createdAt(), r.expiresAt(),
                URI.create(adminBase + "/console/approvals/" + r.id()), URI.create(adminBase + "/api/v1/approvals/" + r.id()));
    }
}
