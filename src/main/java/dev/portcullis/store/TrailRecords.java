package dev.portcullis.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.portcullis.core.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The trail's line format: one JSON object per line, a session ({@code "s"}) or an event ({@code "e"}),
 * with exactly the values the index stores and the chains hash (times in microseconds). A line is
 * complete only with its newline; recovery drops a torn last line.
 */
final class TrailRecords {
    private static final JsonFactory JSON = Json.factory();

    /** A decoded line: exactly one of the two is set. */
    record Line(NewSession session, LinkedEvent event) {
    }

    private TrailRecords() {
    }

    /** A reusable output buffer whose bytes can be written without a copy. */
    static final class Buffer extends ByteArrayOutputStream {
        Buffer(int size) {
            super(size);
        }

        byte[] array() {
            return buf;
        }

        /** Appends ASCII text, unsynchronized (the stream's own {@code write(int)} locks once per byte). */
        void ascii(String s) {
            int n = s.length();
            if (count + n > buf.length) buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, count + n));
            for (int i = 0; i < n; i++) buf[count + i] = (byte) s.charAt(i);
            count += n;
        }

        void ascii(long number) {
            ascii(Long.toString(number));
        }

        /** Appends {@code s} if it is letters, digits and dashes only (written between quotes as it is); false if not. */
        boolean plain(String s) {
            int n = s.length();
            if (count + n > buf.length) buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, count + n));
            for (int i = 0; i < n; i++) {
                char c = s.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c >= 'A' && c <= 'Z'))) return false;
                buf[count + i] = (byte) c;
            }
            count += n;
            return true;
        }

        void truncate(int size) {
            count = size;
        }
    }

    /** Encodes a batch at the end of {@code out}, sessions first (an event never precedes its session). */
    static void encode(List<NewSession> sessions, List<LinkedEvent> events, Buffer out) {
        try {
            for (NewSession s : sessions) {
                try (JsonGenerator g = JSON.createGenerator(out)) {
                    g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
                    g.writeStartObject();
                    g.writeStringField("t", "s");
                    g.writeStringField("id", s.id());
                    g.writeStringField("subject", s.subject());
                    g.writeStringField("tokenId", s.tokenId());
                    g.writeStringField("connection", s.connection());
                    g.writeStringField("protocol", s.protocol());
                    g.writeStringField("client", s.clientAddress());
                    g.writeNumberField("startedAt", Micros.of(s.startedAt()));
                    g.writeEndObject();
                }
                out.write('\n');
            }
            for (LinkedEvent linked : events) encodeEvent(linked, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
    }

    /**
     * One event's line. Its fields are ASCII the gateway made (a UUID, an event code, hex digests, numbers),
     * so they are written as they are; the payload is already canonical compact JSON, one line (a newline
     * in it is always escaped), so it is embedded as a JSON value rather than escaped again as a string.
     * Anything else (a field that is not plain, a payload that is not such an object) is cut and written in
     * the generic form instead, which {@link #decode} reads as well.
     */
    private static void encodeEvent(LinkedEvent linked, Buffer out) throws IOException {
        NewEvent e = linked.event();
        ChainLink l = linked.link();
        byte[] utf8 = e.payloadUtf8();
        int start = out.size();
        if (embeddable(utf8)) {
            out.ascii("{\"t\":\"e\",\"g\":");
            out.ascii(l.globalSeq());
            out.ascii(",\"session\":\"");
            boolean plain = out.plain(e.sessionId());
            out.ascii("\",\"seq\":");
            out.ascii(l.seq());
            out.ascii(",\"at\":");
            out.ascii(Micros.of(e.recordedAt()));
            out.ascii(",\"code\":\"");
            plain &= out.plain(e.code());
            out.ascii(e.refused() ? "\",\"refused\":true,\"prev\":\"" : "\",\"refused\":false,\"prev\":\"");
            plain &= out.plain(l.prevHash());
            out.ascii("\",\"hash\":\"");
            plain &= out.plain(l.hash());
            out.ascii("\",\"gprev\":\"");
            plain &= out.plain(l.globalPrevHash());
            out.ascii("\",\"ghash\":\"");
            plain &= out.plain(l.globalHash());
            out.ascii("\",\"payload\":");
            if (plain) {
                out.writeBytes(utf8);
                out.ascii("}\n");
                return;
            }
            out.truncate(start);
        }
        encodeEventGeneric(e, l, out);
    }

    private static void encodeEventGeneric(NewEvent e, ChainLink l, ByteArrayOutputStream out) throws IOException {
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            g.writeStartObject();
            g.writeStringField("t", "e");
            g.writeNumberField("g", l.globalSeq());
            g.writeStringField("session", e.sessionId());
            g.writeNumberField("seq", l.seq());
            g.writeNumberField("at", Micros.of(e.recordedAt()));
            g.writeStringField("code", e.code());
            g.writeBooleanField("refused", e.refused());
            g.writeStringField("prev", l.prevHash());
            g.writeStringField("hash", l.hash());
            g.writeStringField("gprev", l.globalPrevHash());
            g.writeStringField("ghash", l.globalHash());
            g.writeFieldName("payload");
            g.writeUTF8String(e.payloadUtf8(), 0, e.payloadUtf8().length);
            g.writeEndObject();
        }
        out.write('\n');
    }

    /**
     * A JSON object on one line: what the recorder's canonical JSON always is (checked cheaply, not parsed; a newline
     * inside it is escaped). Its bytes go into the line as they are and come back as they are ({@link #decode}).
     */
    private static boolean embeddable(byte[] utf8) {
        int n = utf8.length;
        if (n < 2 || utf8[0] != '{' || utf8[n - 1] != '}') return false;
        for (byte b : utf8) {
            if (b == '\n' || b == '\r') return false;
        }
        return true;
    }

    /**
     * Decodes one line (without its newline).
     *
     * @throws IOException the line is not a record of this format
     */
    static Line decode(byte[] buf, int offset, int length) throws IOException {
        String t = null, id = null, subject = null, tokenId = null, connection = null, protocol = null, client = null;
        String session = null, code = null, prev = null, hash = null, gprev = null, ghash = null;
        byte[] payload = null;
        long startedAt = -1, g = -1, seq = -1, at = -1;
        boolean refused = false;
        try (JsonParser p = JSON.createParser(buf, offset, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken v = p.nextToken();
                switch (field) {
                    case "t" -> t = p.getText();
                    case "id" -> id = p.getText();
                    case "subject" -> subject = p.getText();
                    case "tokenId" -> tokenId = p.getText();
                    case "connection" -> connection = p.getText();
                    case "protocol" -> protocol = p.getText();
                    case "client" -> client = p.getText();
                    case "startedAt" -> startedAt = p.getLongValue();
                    case "g" -> g = p.getLongValue();
                    case "session" -> session = p.getText();
                    case "seq" -> seq = p.getLongValue();
                    case "at" -> at = p.getLongValue();
                    case "code" -> code = p.getText();
                    case "refused" -> refused = v == JsonToken.VALUE_TRUE;
                    case "prev" -> prev = p.getText();
                    case "hash" -> hash = p.getText();
                    case "gprev" -> gprev = p.getText();
                    case "ghash" -> ghash = p.getText();
                    case "payload" -> {
                        if (v == JsonToken.START_OBJECT) {
                            // embedded JSON: the payload is exactly its bytes in the line
                            long start = p.currentTokenLocation().getByteOffset();
                            p.skipChildren();
                            long end = p.currentLocation().getByteOffset();
                            payload = java.util.Arrays.copyOfRange(buf, offset + (int) start, offset + (int) end);
                        } else {
                            payload = p.getText().getBytes(StandardCharsets.UTF_8);
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) throw new IOException("trailing data");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException("not a trail record: " + e.getOriginalMessage(), e);
        }
        try {
            if ("s".equals(t)) {
                return new Line(new NewSession(id, subject, tokenId, connection, protocol, client,
                        Micros.toInstant(startedAt)), null);
            }
            if ("e".equals(t) && g > 0 && seq > 0) {
                return new Line(null, new LinkedEvent(new NewEvent(session, Micros.toInstant(at), code, payload, refused),
                        new ChainLink(seq, prev, hash, g, gprev, ghash)));
            }
        } catch (NullPointerException e) {
            throw new IOException("trail record lacks " + e.getMessage(), e);
        }
        throw new IOException("not a trail record (type " + t + ")");
    }
}
