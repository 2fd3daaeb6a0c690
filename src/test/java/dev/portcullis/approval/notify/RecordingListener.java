package dev.portcullis.approval.notify;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

final class RecordingListener implements DeliveryListener {
    record Outcome(boolean delivered, String channel, String requestId, int attempts, String lastError) {
    }

    final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();

    @Override
    public void delivered(String channel, String requestId, int attempts) {
        outcomes.add(new Outcome(true, channel, requestId, attempts, null));
    }

    @Override
    public void failed(String channel, String requestId, int attempts, String lastError) {
        outcomes.add(new Outcome(false, channel, requestId, attempts, lastError));
    }

    Outcome next() throws InterruptedException {
        Outcome o = outcomes.poll(20, TimeUnit.SECONDS);
        if (o == null) {
            throw new AssertionError("no delivery outcome within 20 s");
        }
        return o;
    }
}
