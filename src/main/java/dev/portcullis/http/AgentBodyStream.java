package dev.portcullis.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import java.io.IOException;
import java.io.OutputStream;

/** The agent's side of a body masked on a virtual thread: writes wait while the agent is slow to read. */
final class AgentBodyStream extends OutputStream {
    private final AgentExchange exchange;

    AgentBodyStream(AgentExchange exchange) {
        this.exchange = exchange;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (len == 0) return;
        if (exchange.ended()) throw new IOException("the agent's connection is closed");
        var written = exchange.write(new DefaultHttpContent(Unpooled.copiedBuffer(b, off, len)));
        if (!exchange.agentWritable()) {
            written.awaitUninterruptibly();
            if (!written.isSuccess()) throw new IOException("the agent's connection failed: " + HttpUpstream.describe(written.cause()));
        }
    }
}
