package dev.portcullis.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.portcullis.core.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
    }

    /** Encodes a batch at the end of {@code out}, sessions first (an event never precedes its session). */
    static void encode(List<NewSession> sessions, List<LinkedEvent> events, ByteArrayOutputStream out) {
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
            for (LinkedEvent linked : events) {
                NewEvent e = linked.event();
                ChainLink l = linked.link();
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
                    g.writeStringField("payload", e.payload());
                    g.writeEndObject();
                }
                out.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
    }

    /**
     * Decodes one line (without its newline).
     *
     * @throws IOException the line is not a record of this format
     */
    static Line decode(byte[] buf, int offset, int length) throws IOException {
        String t = null, id = null, subject = null, tokenId = null, connection = null, protocol = null, client = null;
        String session = null, code = null, prev = null, hash = null, gprev = null, ghash = null, payload = null;
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
                    case "payload" -> payload = p.getText();
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
