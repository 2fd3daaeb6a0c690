package dev.portcullis.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import java.util.List;

/**
 * In front of a TLS listener's {@link SslHandler}: a client that speaks plaintext (an {@code http://}
 * URL pointed at an {@code https} port) gets one fatal TLS alert, {@code unexpected_message}, and the
 * connection closes: what a TLS server's engine answers, and no HTTP answer at all, so nothing in it was
 * read as a request. Netty's handler would close without a word.
 */
final class PlaintextOnTlsPort extends ByteToMessageDecoder {
    /** TLS 1.2 record, content type alert, 2 bytes: fatal, unexpected_message. */
    private static final byte[] ALERT = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a};

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 5) return; // a TLS record header is five bytes
        if (SslHandler.isEncrypted(in, false)) {
            ctx.pipeline().remove(this); // the buffered bytes go on to the TLS handler
            return;
        }
        in.skipBytes(in.readableBytes());
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(ALERT)).addListener(ChannelFutureListener.CLOSE);
    }
}
