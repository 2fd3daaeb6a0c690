package dev.portcullis.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On a network agent that holds an HTTP target's credential ({@code credentials: agent} on the gateway's
 * connection): the gateway's requests arrive in plain HTTP/1.1 inside the (encrypted) tunnel; the agent
 * sets the credential header on each request (any value the gateway sent for it is dropped), speaks TLS
 * to the target itself (the name checked against its certificate), and passes the responses back as they
 * come. Only request heads are read; bodies (fixed length or chunked) pass through unchanged; after an
 * {@code Upgrade} request the connection is a byte stream both ways.
 */
public final class AgentCredentials {
    private static final Logger log = LoggerFactory.getLogger(AgentCredentials.class);
    static final int MAX_HEAD_BYTES = 64 * 1024;

    /** An HTTP target and the header the agent adds: its value from the agent's environment, never the gateway's. */
    public record Target(String host, int port, boolean tls, String header, String value) {
        public Target {
            Objects.requireNonNull(host);
            Objects.requireNonNull(header);
            Objects.requireNonNull(value);
        }

        @Override
        public String toString() {
            return "Target[" + (tls ? "https" : "http") + "://" + host + ":" + port + ", " + header + "=(redacted)]";
        }
    }

    private AgentCredentials() {
    }

    /** Serves one stream from the gateway: blocks until it ends. TLS trusts the JVM's trust store. */
    public static void serve(Socket gateway, Target target) {
        try {
            serve(gateway, target, SSLContext.getDefault());
        } catch (java.security.NoSuchAlgorithmException e) {
            log.error("no TLS in this JVM: {}", e.getMessage());
        }
    }

    /** The same, trusting what {@code tls} trusts. */
    static void serve(Socket gateway, Target target, SSLContext tls) {
        try (gateway; Socket upstream = connect(target, tls)) {
            Thread back = Thread.ofVirtual().start(() -> dev.portcullis.core.Tunnels.pipe(upstream, gateway));
            try {
                InputStream in = gateway.getInputStream();
                OutputStream out = upstream.getOutputStream();
                while (true) {
                    byte[] head = readHead(in);
                    if (head == null) break;
                    Request request = Request.parse(head, target);
                    out.write(request.head());
                    if (request.chunked()) copyChunked(in, out);
                    else copyExactly(in, out, request.contentLength());
                    out.flush();
                    if (request.upgrade()) {
                        in.transferTo(out); // a WebSocket or SPDY stream from here on
                        break;
                    }
                }
            } finally {
                // The gateway is done sending: let the target finish (TLS has no half-close: then it is closed).
                try {
                    if (upstream instanceof SSLSocket) upstream.close();
                    else upstream.shutdownOutput();
                } catch (IOException ignored) {
                    // closed already
                }
                back.join();
            }
        } catch (IOException e) {
            log.warn("agent credentials for {}:{}: {}", target.host(), target.port(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Socket connect(Target target, SSLContext context) throws IOException {
        Socket plain = new Socket();
        plain.setTcpNoDelay(true);
        plain.connect(new InetSocketAddress(target.host(), target.port()), 10_000);
        if (!target.tls()) return plain;
        try {
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, target.host(), target.port(), true);
            SSLParameters p = tls.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS"); // the target's name against its certificate
            p.setServerNames(java.util.List.of(new SNIHostName(target.host())));
            p.setApplicationProtocols(new String[] {"http/1.1"});
            tls.setSSLParameters(p);
            tls.startHandshake();
            return tls;
        } catch (IOException e) {
            plain.close();
            throw e;
        }
    }

    /** A request head as it goes to the target: the credential set, its framing known. */
    record Request(byte[] head, long contentLength, boolean chunked, boolean upgrade) {
        static Request parse(byte[] raw, Target target) throws IOException {
            String text = new String(raw, StandardCharsets.ISO_8859_1);
            String[] lines = text.split("\r\n");
            StringBuilder out = new StringBuilder(text.length() + 128).append(lines[0]).append("\r\n");
            long length = 0;
            boolean chunked = false;
            boolean upgrade = false;
            String credential = target.header().toLowerCase(Locale.ROOT);
            for (int i = 1; i < lines.length; i++) {
                String line = lines[i];
                if (line.isEmpty()) continue;
                int colon = line.indexOf(':');
                if (colon <= 0) throw new IOException("a malformed request header from the gateway");
                String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                String value = line.substring(colon + 1).strip();
                if (name.equals(credential)) continue; // the agent's own value only
                if (name.equals("content-length")) length = Long.parseLong(value);
                if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) chunked = true;
                if (name.equals("upgrade")) upgrade = true;
                out.append(line).append("\r\n");
            }
            out.append(target.header()).append(": ").append(target.value()).append("\r\n\r\n");
            return new Request(out.toString().getBytes(StandardCharsets.ISO_8859_1), length, chunked, upgrade);
        }
    }

    /** The next request head, up to and including its blank line; null at the end of the stream. */
    static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(1024);
        int last4 = 0;
        while (last4 != 0x0D0A0D0A) {
            int b = in.read();
            if (b < 0) {
                if (head.size() == 0) return null;
                throw new IOException("the gateway's stream ended inside a request head");
            }
            head.write(b);
            if (head.size() > MAX_HEAD_BYTES) throw new IOException("a request head over " + MAX_HEAD_BYTES + " bytes");
            last4 = (last4 << 8) | b;
        }
        return head.toByteArray();
    }

    private static void copyExactly(InputStream in, OutputStream out, long length) throws IOException {
        byte[] buffer = new byte[16 * 1024];
        while (length > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, length));
            if (n < 0) throw new IOException("the gateway's stream ended inside a request body");
            out.write(buffer, 0, n);
            length -= n;
        }
    }

    /** A chunked body as it is, up to its last chunk and trailers. */
    private static void copyChunked(InputStream in, OutputStream out) throws IOException {
        while (true) {
            String size = readLine(in, out);
            int semicolon = size.indexOf(';');
            long n = Long.parseLong((semicolon >= 0 ? size.substring(0, semicolon) : size).strip(), 16);
            if (n == 0) {
                while (!readLine(in, out).isEmpty()) {
                    // trailers
                }
                return;
            }
            copyExactly(in, out, n + 2); // the data and its CRLF
        }
    }

    private static String readLine(InputStream in, OutputStream out) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            out.write(b);
            if (b == '\n') return line.toString().strip();
            if (line.length() > 1024) throw new IOException("a chunk line over 1024 bytes");
            line.append((char) b);
        }
        throw new IOException("the gateway's stream ended inside a chunked body");
    }
}
