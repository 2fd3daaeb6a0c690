package dev.portcullis.postgres;

import dev.portcullis.postgres.FrontendMessage.Bind;
import dev.portcullis.postgres.FrontendMessage.CancelRequest;
import dev.portcullis.postgres.FrontendMessage.Close;
import dev.portcullis.postgres.FrontendMessage.CopyData;
import dev.portcullis.postgres.FrontendMessage.CopyDone;
import dev.portcullis.postgres.FrontendMessage.CopyFail;
import dev.portcullis.postgres.FrontendMessage.Describe;
import dev.portcullis.postgres.FrontendMessage.Execute;
import dev.portcullis.postgres.FrontendMessage.Flush;
import dev.portcullis.postgres.FrontendMessage.FunctionCall;
import dev.portcullis.postgres.FrontendMessage.GssEncRequest;
import dev.portcullis.postgres.FrontendMessage.Parse;
import dev.portcullis.postgres.FrontendMessage.PasswordMessage;
import dev.portcullis.postgres.FrontendMessage.Query;
import dev.portcullis.postgres.FrontendMessage.SslRequest;
import dev.portcullis.postgres.FrontendMessage.Startup;
import dev.portcullis.postgres.FrontendMessage.StartupPacket;
import dev.portcullis.postgres.FrontendMessage.Sync;
import dev.portcullis.postgres.FrontendMessage.Target;
import dev.portcullis.postgres.FrontendMessage.Terminate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/** Payload → record for messages from clients. Strict: every byte must be accounted for. */
final class FrontendDecoder {

    private static final Sync SYNC = new Sync();
    private static final Flush FLUSH = new Flush();
    private static final Terminate TERMINATE = new Terminate();
    private static final CopyDone COPY_DONE = new CopyDone();

    private FrontendDecoder() {}

    static FrontendMessage decode(RawMessage raw) throws PgProtocolException {
        byte[] p = raw.payload();
        return switch (raw.type()) {
            case 'Q' -> {
                PayloadReader r = reader(p, "Query");
                String sql = r.cstring("query string");
                r.end();
                yield new Query(sql);
            }
            case 'P' -> parse(reader(p, "Parse"));
            case 'B' -> bind(reader(p, "Bind"));
            case 'D' -> {
                PayloadReader r = reader(p, "Describe");
                Target target = Target.of(r.int8("target"), "Describe");
                String name = r.cstring("name");
                r.end();
                yield new Describe(target, name);
            }
            case 'E' -> {
                PayloadReader r = reader(p, "Execute");
                String portal = r.cstring("portal");
                int maxRows = r.int32("max rows");
                r.end();
                yield new Execute(portal, maxRows);
            }
            case 'S' -> empty(p, "Sync", SYNC);
            case 'H' -> empty(p, "Flush", FLUSH);
            case 'C' -> {
                PayloadReader r = reader(p, "Close");
                Target target = Target.of(r.int8("target"), "Close");
                String name = r.cstring("name");
                r.end();
                yield new Close(target, name);
            }
            case 'X' -> empty(p, "Terminate", TERMINATE);
            case 'd' -> new CopyData(p);
            case 'c' -> empty(p, "CopyDone", COPY_DONE);
            case 'f' -> {
                PayloadReader r = reader(p, "CopyFail");
                String message = r.cstring("message");
                r.end();
                yield new CopyFail(message);
            }
            case 'p' -> new PasswordMessage(p);
            case 'F' -> functionCall(reader(p, "FunctionCall"));
            default -> throw new PgProtocolException("invalid frontend message type '" + PayloadReader.printable(raw.type()) + "'");
        };
    }

    /** The body of a startup-phase packet after its length word (the 32-bit code comes first). */
    static StartupPacket decodeStartup(byte[] body) throws PgProtocolException {
        PayloadReader r = new PayloadReader(body, "startup packet");
        int code = r.int32("code");
        switch (code) {
            case SslRequest.CODE -> {
                r.end();
                return new SslRequest();
            }
            case GssEncRequest.CODE -> {
                r.end();
                return new GssEncRequest();
            }
            case CancelRequest.CODE -> {
                PayloadReader c = new PayloadReader(body, "CancelRequest");
                c.int32("code");
                int pid = c.int32("process id");
                int secret = c.int32("secret key");
                c.end();
                return new CancelRequest(pid, secret);
            }
            default -> {
                int major = code >>> 16;
                int minor = code & 0xffff;
                if (major != 3) {
                    throw new PgProtocolException("unsupported frontend protocol " + major + "." + minor
                            + " (code " + code + "): only protocol 3 is supported");
                }
                PayloadReader s = new PayloadReader(body, "StartupMessage");
                s.int32("protocol version");
                LinkedHashMap<String, String> parameters = new LinkedHashMap<>();
                while (!s.atListEnd("parameter list terminator")) {
                    String name = s.cstring("parameter name");
                    String value = s.cstring("value of parameter " + name);
                    if (parameters.putIfAbsent(name, value) != null) {
                        throw s.fail("duplicate parameter " + name);
                    }
                }
                s.end();
                return new Startup(major, minor, parameters);
            }
        }
    }

    private static Parse parse(PayloadReader r) throws PgProtocolException {
        String statement = r.cstring("statement name");
        String sql = r.cstring("query string");
        int count = r.count16("parameter type count", 4);
        List<Integer> oids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            oids.add(r.int32("parameter type"));
        }
        r.end();
        return new Parse(statement, sql, oids);
    }

    private static Bind bind(PayloadReader r) throws PgProtocolException {
        String portal = r.cstring("portal name");
        String statement = r.cstring("statement name");
        List<Integer> paramFormats = formats(r, "parameter format");
        int count = r.count16("parameter count", 4);
        if (paramFormats.size() > 1 && paramFormats.size() != count) {
            throw r.fail(paramFormats.size() + " parameter formats for " + count + " parameters");
        }
        byte[][] params = new byte[count][];
        for (int i = 0; i < count; i++) {
            params[i] = r.nullableValue("parameter " + (i + 1));
        }
        List<Integer> resultFormats = formats(r, "result format");
        r.end();
        return new Bind(portal, statement, paramFormats, params, resultFormats);
    }

    private static FunctionCall functionCall(PayloadReader r) throws PgProtocolException {
        int oid = r.int32("function oid");
        List<Integer> argFormats = formats(r, "argument format");
        int count = r.count16("argument count", 4);
        byte[][] args = new byte[count][];
        for (int i = 0; i < count; i++) {
            args[i] = r.nullableValue("argument " + (i + 1));
        }
        int resultFormat = format(r, "result format");
        r.end();
        return new FunctionCall(oid, argFormats, args, resultFormat);
    }

    static List<Integer> formats(PayloadReader r, String field) throws PgProtocolException {
        int count = r.count16(field + " count", 2);
        List<Integer> formats = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            formats.add(format(r, field));
        }
        return formats;
    }

    static int format(PayloadReader r, String field) throws PgProtocolException {
        short code = r.int16(field);
        if (code != 0 && code != 1) {
            throw r.fail("unsupported " + field + " code " + code);
        }
        return code;
    }

    private static PayloadReader reader(byte[] payload, String name) {
        return new PayloadReader(payload, name);
    }

    private static <M extends FrontendMessage> M empty(byte[] payload, String name, M message) throws PgProtocolException {
        if (payload.length != 0) {
            throw new PgProtocolException("malformed " + name + " message: expected no payload, got " + payload.length + " bytes");
        }
        return message;
    }
}
