package dev.portcullis.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The body of a response being masked on a virtual thread, fed by the event loop. Holds at most
 * about {@link #HIGH_WATER} bytes: above it the upstream connection stops being read until the
 * masker has taken the queue below {@link #LOW_WATER}.
 */
final class UpstreamBodyPipe extends InputStream {
    private static final int HIGH_WATER = 1024 * 1024;
    private static final int LOW_WATER = 256 * 1024;
    private final Channel upstream;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private long queued;
    private boolean ended;
    private IOException failure;
    private boolean paused;

    UpstreamBodyPipe(Channel upstream) {
        this.upstream = upstream;
    }

    /** On the loop: takes ownership of {@code bytes}. */
    void offer(ByteBuf bytes) {
        lock.lock();
        try {
            if (failure != null) {
                bytes.release();
                return;
            }
            queue.add(bytes);
            queued += bytes.readableBytes();
            if (queued > HIGH_WATER && !paused) {
                paused = true;
                upstream.config().setAutoRead(false);
            }
            readable.signal();
        } finally {
            lock.unlock();
        }
    }

    void end() {
        lock.lock();
        try {
            ended = true;
            readable.signal();
        } finally {
            lock.unlock();
        }
    }

    void fail(IOException e) {
        lock.lock();
        try {
            if (failure == null) failure = e;
            readable.signal();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        lock.lock();
        try {
            while (true) {
                if (failure != null) throw failure;
                ByteBuf head = queue.peek();
                if (head != null) {
                    int n = Math.min(len, head.readableBytes());
                    head.readBytes(b, off, n);
                    queued -= n;
                    if (!head.isReadable()) queue.poll().release();
                    if (paused && queued < LOW_WATER) {
                        paused = false;
                        upstream.eventLoop().execute(() -> {
                            upstream.config().setAutoRead(true);
                            upstream.read();
                        });
                    }
                    return n;
                }
                if (ended) return -1;
                readable.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            ByteBuf b;
            while ((b = queue.poll()) != null) b.release();
            if (failure == null) failure = new IOException("closed");
        } finally {
            lock.unlock();
        }
    }
}
