package dev.portcullis.approval;

/**
 * Told about every new approval request, after it is durable: notifications (chat, ticket, webhook)
 * subscribe here. Called on the requesting thread; a listener that does I/O should hand off.
 * A listener that throws is logged and does not stop the request.
 */
@FunctionalInterface
public interface ApprovalListener {
    void onRequested(ApprovalRequest request);
}
