package dev.portcullis.approval.notify;

/**
 * Told how each delivery ended, so the gateway can record failed notifications as audit events.
 * Called on a delivery thread, or on the caller's thread of {@link Notifier#notify(Notification)} when
 * the queue is full (then {@code attempts} is 0). Must not block for long; exceptions are logged and ignored.
 */
public interface DeliveryListener {

    void delivered(String channel, String requestId, int attempts);

    void failed(String channel, String requestId, int attempts, String lastError);
}
