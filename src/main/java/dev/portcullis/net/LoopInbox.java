package dev.portcullis.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bytes an event loop received from a channel, read as a stream by a virtual thread, which waits here rather than
 * in the kernel. Holds about {@link #HIGH_WATER} bytes at most: above it the loop stops reading the channel until
 * the reader has taken the queue below {@link #LOW_WATER}. The loop offers and ends; one thread reads.
 */
public final class LoopInbox extends InputStream {
    public static final int HIGH_WATER = 1024 * 1024;
    public static final int LOW_WATER = 256 * 1024;

    private final Channel channel;
    private final String what;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private int queued;
    private boolean ended;
    private IOException failure;
    private boolean paused;

    /** @param what the peer, for errors ("the server") */
    public LoopInbox(Channel channel, String what) {
        this.channel = channel;
        this.what = what;
    }

    /** On the loop: takes ownership of {@code bytes}. */
    public void offer(ByteBuf bytes) {
        lock.lock();
        try {
            if (failure != null || ended || !bytes.isReadable()) {
                bytes.release();
                return;
            }
            queue.add(bytes);
            queued += bytes.readableBytes();
            if (queued > HIGH_WATER && !paused) {
                paused = true;
                channel.config().setAutoRead(false);
            }
            readable.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Nothing more comes: what was received can still be read, then the stream ends. */
    public void end() {
        lock.lock();
        try {
            ended = true;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The channel failed: the reader gets {@code e} once it has read what came before. */
    public void fail(IOException e) {
        lock.lock();
        try {
            if (failure == null) failure = e;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the stream ended and everything received was read (the peer closed, and nothing of it is left). */
    public boolean drained() {
        lock.lock();
        try {
            return (ended || failure != null) && queue.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** The bytes received and not read yet: a read of that many will not wait. */
    @Override
    public int available() {
        lock.lock();
        try {
            return queued;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    /** Waits for bytes; an interrupt ends the wait with an {@link InterruptedIOException}. */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        lock.lock();
        try {
            while (true) {
                ByteBuf head = queue.peek();
                if (head != null) {
                    int n = Math.min(len, head.readableBytes());
                    head.readBytes(b, off, n);
                    queued -= n;
                    if (!head.isReadable()) queue.poll().release();
                    if (paused && queued < LOW_WATER) {
                        paused = false;
                        channel.eventLoop().execute(() -> {
                            channel.config().setAutoRead(true);
                            channel.read();
                        });
                    }
                    return n;
                }
                if (failure != null) throw failure;
                if (ended) return -1;
                readable.await();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for " + what);
        } finally {
            lock.unlock();
        }
    }

    /** The reader is done: what is queued is dropped, and later reads fail. */
    @Override
    public void close() {
        lock.lock();
        try {
            ByteBuf b;
            while ((b = queue.poll()) != null) b.release();
            queued = 0;
            if (failure == null) failure = new IOException("closed");
            readable.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
