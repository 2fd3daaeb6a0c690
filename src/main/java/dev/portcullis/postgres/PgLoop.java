package dev.portcullis.postgres;

import dev.portcullis.net.LoopInbox;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A logged-in PostgreSQL session's two connections on a Netty event loop, and its two virtual threads (the
 * session's, which reads and judges the client's messages, and the relay's, which masks and records the server's
 * answers) scheduled on that same loop. The loop's thread moves bytes: it reads each side into a {@link LoopInbox}
 * and wakes the thread that reads it, which then runs on the loop's thread in its turn, with no other thread
 * woken. What the session forwards goes straight to the server's socket; what the relay sends goes out through
 * the loop. Per statement that is one read and one write on each side, where a virtual thread on the JDK's
 * scheduler also makes a read that finds nothing, re-arms the poller and is woken by it (12 system calls per
 * {@code pgbench} statement against 7.5, measured with {@code PERF_SYSCALLS=1 bench/postgres.sh}).
 *
 * <p>A virtual thread gives the loop back whenever it waits (for bytes, an approval, a lock, the network), and the
 * loop's thread never waits for a lock these threads take, so one session's wait holds up no other. A native call
 * that blocks would hold the loop: the trail's {@code msync} is made on a thread of its own for that reason
 * ({@code TrailLog.force}).
 *
 * <p>Used for plain TCP on both sides. A session whose client negotiated TLS, or whose server is reached through a
 * network agent, keeps its sockets and its two virtual threads on the JDK's scheduler.
 */
final class PgLoop {
    private static final Logger log = LoggerFactory.getLogger(PgLoop.class);

    /** What waits to go to a slow client, above which the relay waits for it (the server's answers wait in its socket). */
    private static final WriteBufferWaterMark TO_CLIENT = new WriteBufferWaterMark(256 * 1024, 1 << 20);

    /** Whether sessions go on event loops: {@code -Dportcullis.postgres.event-loop=false} keeps their sockets and threads as before. */
    static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("portcullis.postgres.event-loop", "true"));

    private static final class Loops {
        static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(),
                new DefaultThreadFactory("pg-loop", true), NioIoHandler.newFactory()) {
            @Override
            protected IoEventLoop newChild(Executor executor, IoHandlerFactory handlers, Object... args) {
                return new Loop(this, executor, handlers);
            }
        };
    }

    /**
     * An event loop that counts the virtual threads it runs as its own: a channel operation one of them makes (a
     * write, a flush, a change of interest) is made there and then, as the loop's thread would make it, instead of
     * being queued as a task with the loop's selector woken to run it (an {@code eventfd} write and read, and a
     * return from {@code epoll_wait}, for most statements: measured with {@code strace}). Safe because such a
     * thread runs on the loop's thread, between two of the loop's own steps, and a channel operation never waits.
     * What it must not do there is wait on a Netty future of its loop (Netty would refuse, to spare the loop's
     * thread a deadlock): the session's threads wait on their own conditions instead ({@link ToServer}).
     */
    private static final class Loop extends SingleThreadIoEventLoop {
        Loop(IoEventLoopGroup group, Executor executor, IoHandlerFactory handlers) {
            super(group, executor, handlers);
        }

        @Override
        public boolean inEventLoop(Thread thread) {
            return super.inEventLoop(thread)
                    || (CARRIER != null && thread.isVirtual() && thread == Thread.currentThread() && super.inEventLoop(carrier()));
        }
    }

    /** {@code Thread.currentCarrierThread()}: the platform thread a virtual thread runs on (not public API either). */
    private static final MethodHandle CARRIER = carrierHandle();

    private static MethodHandle carrierHandle() {
        try {
            return MethodHandles.privateLookupIn(Thread.class, MethodHandles.lookup())
                    .findStatic(Thread.class, "currentCarrierThread", MethodType.methodType(Thread.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // then the session's threads are not on the loops either (ON_EXECUTOR)
        }
    }

    private static Thread carrier() {
        try {
            return (Thread) CARRIER.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException("cannot tell a virtual thread's carrier", e);
        }
    }

    /**
     * Makes virtual threads whose scheduler is a given executor: the JDK's own builder, whose constructor for that
     * is not public API. Reached only when the JVM opens
     * {@code java.lang} to the gateway ({@code --add-opens java.base/java.lang=ALL-UNNAMED}, as {@code bin/portcullis}
     * and the image start it); otherwise null, and the session's thread runs on the JDK's scheduler.
     */
    private static final java.lang.reflect.Constructor<?> ON_EXECUTOR = threadsOnExecutor();

    private static java.lang.reflect.Constructor<?> threadsOnExecutor() {
        try {
            var c = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder").getDeclaredConstructor(java.util.concurrent.Executor.class);
            c.setAccessible(true);
            return c;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.info("PostgreSQL sessions' threads run on the JDK's virtual-thread scheduler, not on their event loop ({}); "
                    + "start the JVM with --add-opens java.base/java.lang=ALL-UNNAMED to run them there", e.toString());
            return null;
        }
    }

    private final PgSession session;
    private final NioSocketChannel client;
    private final NioSocketChannel server;
    private final SocketChannel serverSocket;
    private final LoopInbox fromClient;
    private final LoopInbox fromServer;
    private EventLoop eventLoop;

    private PgLoop(PgSession session, SocketChannel clientSocket, SocketChannel serverSocket) {
        this.session = session;
        this.serverSocket = serverSocket;
        // Both sockets turn non-blocking here: what the session wrote before is out already.
        this.client = new NioSocketChannel(null, clientSocket);
        this.server = new NioSocketChannel(null, serverSocket);
        this.fromClient = new LoopInbox(client, "the client");
        this.fromServer = new LoopInbox(server, "the server");
    }

    /**
     * Moves the session's connections onto a loop and sets {@code session.loop}, or leaves them where they are when
     * they cannot go (TLS, an agent's tunnel, or bytes of the server's already read ahead). Called once logged in, before the client's first message is read.
     */
    static void attach(PgSession session) throws IOException {
        if (!ENABLED || session.clientTls) return;
        SocketChannel clientSocket = session.socket.getChannel();
        SocketChannel serverSocket = session.upstream.socket().getChannel();
        if (clientSocket == null || serverSocket == null || session.upstream.reader().hasBufferedInput()) return;
        // Under the lock a session admin's terminate takes too: it finds the session before the move or after it.
        synchronized (session.clientWriteLock) {
            session.clientOut.flush();
            session.upstream.writer().flush();
            PgLoop loop = new PgLoop(session, clientSocket, serverSocket);
            loop.start();
            session.loop = loop;
        }
    }

    private void start() throws IOException {
        // What the session reads and writes from now on; bytes the client sent ahead stay in its reader.
        session.clientIn.continueFrom(fromClient);
        session.upstream.reader().continueFrom(fromServer);
        session.clientOut.continueTo(new ToClient(client));
        session.upstream.writer().continueTo(new ToServer(server, serverSocket));
        client.config().setWriteBufferWaterMark(TO_CLIENT);
        client.pipeline().addLast(new ToInbox(fromClient, "client"));
        server.pipeline().addLast(new ToInbox(fromServer, "server"));
        EventLoop loop = Loops.GROUP.next(); // both on one loop, with the session's two threads
        eventLoop = loop;
        await(loop.register(server), "server");
        await(loop.register(client), "client");
    }

    private static void await(io.netty.channel.ChannelFuture registered, String which) throws IOException {
        registered.awaitUninterruptibly();
        if (!registered.isSuccess()) throw new IOException("cannot move the " + which + " connection onto an event loop: "
                + registered.cause(), registered.cause());
    }

    /**
     * Virtual threads for the session's work (judging the client's messages; relaying the server's answers) whose
     * scheduler is the session's event loop: woken by the loop when bytes arrive, they run there, with no other
     * thread to wake, and give the loop back whenever they wait (for bytes, an approval, a lock, the disk). The
     * loop's own thread only moves bytes and never waits for a lock these threads hold. Without {@link #ON_EXECUTOR}
     * they are ordinary virtual threads.
     */
    Thread.Builder.OfVirtual threads() {
        if (ON_EXECUTOR != null) {
            try {
                return (Thread.Builder.OfVirtual) ON_EXECUTOR.newInstance(eventLoop);
            } catch (ReflectiveOperationException e) {
                log.debug("virtual threads on the event loop unavailable: {}", e.toString());
            }
        }
        return Thread.ofVirtual();
    }

    /** The session's work: reading and judging the client's messages until the session ends. */
    interface SessionWork {
        void run() throws IOException;
    }

    /**
     * Runs {@code work} on a virtual thread of the loop ({@link #threads}); the calling thread, made before the
     * session was logged in, waits for it, and what it throws is thrown here.
     */
    void runSessionThread(SessionWork work) throws IOException, InterruptedException {
        Throwable[] failed = new Throwable[1];
        Thread thread = threads().name(Thread.currentThread().getName() + "-on-loop").start(() -> {
            try {
                work.run();
            } catch (IOException | RuntimeException e) {
                failed[0] = e;
            }
        });
        try {
            thread.join();
        } catch (InterruptedException e) {
            thread.interrupt(); // the gateway is stopping
            throw e;
        }
        switch (failed[0]) {
            case null -> { }
            case IOException e -> throw e;
            case RuntimeException e -> throw e;
            default -> throw new IllegalStateException(failed[0]);
        }
    }

    /** Whether the client has closed its side (the session waits for an approval meanwhile). */
    boolean clientLeft() {
        return fromClient.drained();
    }

    /** Closes the client's side, after what was written to it: the session's reads of it end. */
    void closeClient() {
        fromClient.end();
        client.flush(); // what the relay queued a flush for (ToClient) goes before the close
        client.close();
    }

    /** Closes the server's side: the relay's reads of it end. */
    void closeServer() {
        fromServer.end();
        server.close();
    }

    // ---------------------------------------------------------------------------------------------

    /** Feeds one side's bytes, its end or its failure to that side's inbox; on the client's side, also its writability. */
    private final class ToInbox extends ChannelInboundHandlerAdapter {
        private final LoopInbox inbox;
        private final String side;

        ToInbox(LoopInbox inbox, String side) {
            this.inbox = inbox;
            this.side = side;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            inbox.offer((ByteBuf) msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            inbox.end();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel() == client) writable.signalIfWritable(client); // the relay waits only for the client's side
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("{} connection of {} failed: {}", side, session.config.name(), cause.toString());
            inbox.fail(cause instanceof IOException e ? e : new IOException(cause.toString(), cause));
            ctx.close();
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** Signals writers waiting for a slow client to take what is queued for it. */
    private final Writable writable = new Writable();

    private static final class Writable {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition again = lock.newCondition();

        void signalIfWritable(Channel channel) {
            if (!channel.isWritable() && channel.isActive()) return;
            lock.lock();
            try {
                again.signalAll();
            } finally {
                lock.unlock();
            }
        }

        void await(Channel channel) throws IOException {
            lock.lock();
            try {
                while (!channel.isWritable() && channel.isActive()) again.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while the client was slow to read");
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * To the client through the loop. A flush that leaves more than {@link #TO_CLIENT}'s high mark queued waits
     * until the client has taken it down to the low mark: a slow client slows the relay, which leaves the server's
     * answers in the server's socket.
     */
    private final class ToClient extends OutputStream {
        private final Channel channel;
        /** A flush is queued on the loop; read and written on the loop's thread only (by it or its virtual threads). */
        private boolean flushQueued;
        private final Runnable queuedFlush;

        ToClient(Channel channel) {
            this.channel = channel;
            this.queuedFlush = () -> {
                flushQueued = false;
                channel.flush();
            };
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            if (length == 0) return;
            if (!channel.isRegistered()) throw new IOException("the client's connection is closed");
            // A copy: the writer reuses its array. On the heap: pooled buffers would keep a cache per session thread.
            channel.write(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, offset, offset + length)), channel.voidPromise());
        }

        @Override
        public void flush() throws IOException {
            if (!channel.isRegistered()) throw new IOException("the client's connection is closed");
            boolean virtual = Thread.currentThread().isVirtual();
            boolean onLoop = channel.eventLoop().inEventLoop(); // the loop's own thread, or one of its virtual threads
            if (virtual && onLoop) {
                // The relay on its loop: flushed once it gives the loop back, with all it wrote until then. Flushed
                // at once, a large result went out in a write per read of the server's socket (0.73x direct's rows/s
                // against 0.90x with the flush queued, two runs each).
                if (!flushQueued) {
                    flushQueued = true;
                    channel.eventLoop().execute(queuedFlush);
                }
            } else {
                channel.flush();
            }
            // Any thread may wait for a slow client but the loop's own, which must go on to drain it.
            if (!channel.isWritable() && (virtual || !onLoop)) {
                writable.await(channel);
            }
        }
    }

    /**
     * To the server from the session's thread: straight to its socket, which the loop only reads. When the socket
     * takes less than all (the server is not reading), the rest goes through the loop, and the thread waits for it,
     * so nothing written later can pass it.
     */
    private static final class ToServer extends OutputStream {
        private final Channel channel;
        private final SocketChannel socket;

        ToServer(Channel channel, SocketChannel socket) {
            this.channel = channel;
            this.socket = socket;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            ByteBuffer out = ByteBuffer.wrap(bytes, offset, length);
            while (out.hasRemaining()) {
                if (!channel.isOpen() || !channel.isRegistered()) throw new IOException("the connection to the server is closed");
                if (socket.write(out) == 0) {
                    // Not Netty's own wait: refused on a thread of the loop, which the session's thread counts as.
                    CompletableFuture<Void> sent = new CompletableFuture<>();
                    channel.writeAndFlush(Unpooled.copiedBuffer(out)).addListener(f -> {
                        if (f.isSuccess()) sent.complete(null);
                        else sent.completeExceptionally(f.cause());
                    });
                    try {
                        sent.get();
                    } catch (ExecutionException e) {
                        throw new IOException("cannot write to the server: " + e.getCause(), e.getCause());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while the server was slow to read");
                    }
                    return;
                }
            }
        }
    }
}
