package dev.portcullis.postgres;

import dev.portcullis.postgres.BackendMessage.AuthenticationCleartextPassword;
import dev.portcullis.postgres.BackendMessage.AuthenticationMd5Password;
import dev.portcullis.postgres.BackendMessage.AuthenticationOk;
import dev.portcullis.postgres.BackendMessage.AuthenticationSasl;
import dev.portcullis.postgres.BackendMessage.AuthenticationSaslContinue;
import dev.portcullis.postgres.BackendMessage.AuthenticationSaslFinal;
import dev.portcullis.postgres.BackendMessage.AuthenticationUnsupported;
import dev.portcullis.postgres.BackendMessage.BackendKeyData;
import dev.portcullis.postgres.BackendMessage.BindComplete;
import dev.portcullis.postgres.BackendMessage.CloseComplete;
import dev.portcullis.postgres.BackendMessage.CommandComplete;
import dev.portcullis.postgres.BackendMessage.CopyBothResponse;
import dev.portcullis.postgres.BackendMessage.CopyData;
import dev.portcullis.postgres.BackendMessage.CopyDone;
import dev.portcullis.postgres.BackendMessage.CopyInResponse;
import dev.portcullis.postgres.BackendMessage.CopyOutResponse;
import dev.portcullis.postgres.BackendMessage.DataRow;
import dev.portcullis.postgres.BackendMessage.EmptyQueryResponse;
import dev.portcullis.postgres.BackendMessage.ErrorResponse;
import dev.portcullis.postgres.BackendMessage.Field;
import dev.portcullis.postgres.BackendMessage.FunctionCallResponse;
import dev.portcullis.postgres.BackendMessage.NegotiateProtocolVersion;
import dev.portcullis.postgres.BackendMessage.NoData;
import dev.portcullis.postgres.BackendMessage.NoticeResponse;
import dev.portcullis.postgres.BackendMessage.NotificationResponse;
import dev.portcullis.postgres.BackendMessage.ParameterDescription;
import dev.portcullis.postgres.BackendMessage.ParameterStatus;
import dev.portcullis.postgres.BackendMessage.ParseComplete;
import dev.portcullis.postgres.BackendMessage.PortalSuspended;
import dev.portcullis.postgres.BackendMessage.ReadyForQuery;
import dev.portcullis.postgres.BackendMessage.RowDescription;
import dev.portcullis.postgres.BackendMessage.TransactionStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/** Payload → record for messages from servers. Strict: every byte must be accounted for. */
final class BackendDecoder {

    private static final ParseComplete PARSE_COMPLETE = new ParseComplete();
    private static final BindComplete BIND_COMPLETE = new BindComplete();
    private static final CloseComplete CLOSE_COMPLETE = new CloseComplete();
    private static final NoData NO_DATA = new NoData();
    private static final PortalSuspended PORTAL_SUSPENDED = new PortalSuspended();
    private static final EmptyQueryResponse EMPTY_QUERY = new EmptyQueryResponse();
    private static final CopyDone COPY_DONE = new CopyDone();

    private BackendDecoder() {}

    static BackendMessage decode(RawMessage raw) throws PgProtocolException {
        byte[] p = raw.payload();
        return switch (raw.type()) {
            case 'R' -> authentication(new PayloadReader(p, "Authentication"));
            case 'S' -> {
                PayloadReader r = new PayloadReader(p, "ParameterStatus");
                String name = r.cstring("name");
                String value = r.cstring("value");
                r.end();
                yield new ParameterStatus(name, value);
            }
            case 'K' -> {
                PayloadReader r = new PayloadReader(p, "BackendKeyData");
                int pid = r.int32("process id");
                int secret = r.int32("secret key");
                r.end();
                yield new BackendKeyData(pid, secret);
            }
            case 'Z' -> {
                PayloadReader r = new PayloadReader(p, "ReadyForQuery");
                TransactionStatus status = TransactionStatus.of(r.int8("status"));
                r.end();
                yield new ReadyForQuery(status);
            }
            case 'T' -> rowDescription(new PayloadReader(p, "RowDescription"));
            case 'D' -> dataRow(new PayloadReader(p, "DataRow"));
            case 'C' -> {
                PayloadReader r = new PayloadReader(p, "CommandComplete");
                String tag = r.cstring("tag");
                r.end();
                yield new CommandComplete(tag);
            }
            case 'I' -> empty(p, "EmptyQueryResponse", EMPTY_QUERY);
            case 'E' -> new ErrorResponse(diagnosticFields(new PayloadReader(p, "ErrorResponse")));
            case 'N' -> new NoticeResponse(diagnosticFields(new PayloadReader(p, "NoticeResponse")));
            case '1' -> empty(p, "ParseComplete", PARSE_COMPLETE);
            case '2' -> empty(p, "BindComplete", BIND_COMPLETE);
            case '3' -> empty(p, "CloseComplete", CLOSE_COMPLETE);
            case 'n' -> empty(p, "NoData", NO_DATA);
            case 's' -> empty(p, "PortalSuspended", PORTAL_SUSPENDED);
            case 't' -> {
                PayloadReader r = new PayloadReader(p, "ParameterDescription");
                int count = r.count16("parameter count", 4);
                List<Integer> oids = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    oids.add(r.int32("parameter type"));
                }
                r.end();
                yield new ParameterDescription(oids);
            }
            case 'G' -> {
                PayloadReader r = new PayloadReader(p, "CopyInResponse");
                yield new CopyInResponse(copyFormat(r), copyColumnFormats(r));
            }
            case 'H' -> {
                PayloadReader r = new PayloadReader(p, "CopyOutResponse");
                yield new CopyOutResponse(copyFormat(r), copyColumnFormats(r));
            }
            case 'W' -> {
                PayloadReader r = new PayloadReader(p, "CopyBothResponse");
                yield new CopyBothResponse(copyFormat(r), copyColumnFormats(r));
            }
            case 'd' -> new CopyData(p);
            case 'c' -> empty(p, "CopyDone", COPY_DONE);
            case 'A' -> {
                PayloadReader r = new PayloadReader(p, "NotificationResponse");
                int pid = r.int32("process id");
                String channel = r.cstring("channel");
                String payload = r.cstring("payload");
                r.end();
                yield new NotificationResponse(pid, channel, payload);
            }
            case 'v' -> {
                PayloadReader r = new PayloadReader(p, "NegotiateProtocolVersion");
                int minor = r.int32("newest minor version");
                int count = r.checkCount(r.int32("option count"), "option count", 1);
                List<String> options = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    options.add(r.cstring("option"));
                }
                r.end();
                yield new NegotiateProtocolVersion(minor, options);
            }
            case 'V' -> {
                PayloadReader r = new PayloadReader(p, "FunctionCallResponse");
                byte[] result = r.nullableValue("result");
                r.end();
                yield new FunctionCallResponse(result);
            }
            default -> throw new PgProtocolException("invalid backend message type '" + PayloadReader.printable(raw.type()) + "'");
        };
    }

    private static BackendMessage authentication(PayloadReader r) throws PgProtocolException {
        int code = r.int32("authentication code");
        BackendMessage message = switch (code) {
            case 0 -> new AuthenticationOk();
            case 3 -> new AuthenticationCleartextPassword();
            case 5 -> new AuthenticationMd5Password(r.bytes(4, "salt"));
            case 10 -> {
                List<String> mechanisms = new ArrayList<>();
                while (!r.atListEnd("mechanism list terminator")) {
                    mechanisms.add(r.cstring("mechanism"));
                }
                yield new AuthenticationSasl(mechanisms);
            }
            case 11 -> new AuthenticationSaslContinue(r.rest());
            case 12 -> new AuthenticationSaslFinal(r.rest());
            default -> new AuthenticationUnsupported(code, r.rest());
        };
        r.end();
        return message;
    }

    private static RowDescription rowDescription(PayloadReader r) throws PgProtocolException {
        int count = r.count16("field count", 19);
        List<Field> fields = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            fields.add(new Field(r.cstring("field name"), r.int32("table oid"), r.int16("column attribute"),
                    r.int32("type oid"), r.int16("type length"), r.int32("type modifier"), r.int16("format")));
        }
        r.end();
        return new RowDescription(fields);
    }

    private static DataRow dataRow(PayloadReader r) throws PgProtocolException {
        int count = r.count16("column count", 4);
        byte[][] values = new byte[count][];
        for (int i = 0; i < count; i++) {
            values[i] = r.nullableValue("column " + (i + 1));
        }
        r.end();
        return new DataRow(values);
    }

    private static LinkedHashMap<Character, String> diagnosticFields(PayloadReader r) throws PgProtocolException {
        LinkedHashMap<Character, String> fields = new LinkedHashMap<>();
        while (!r.atListEnd("field list terminator")) {
            char code = (char) (r.int8("field code") & 0xff);
            fields.put(code, r.cstring("field " + code));
        }
        r.end();
        return fields;
    }

    private static int copyFormat(PayloadReader r) throws PgProtocolException {
        int format = r.int8("overall format");
        if (format != 0 && format != 1) {
            throw r.fail("invalid overall format " + format);
        }
        return format;
    }

    private static List<Integer> copyColumnFormats(PayloadReader r) throws PgProtocolException {
        List<Integer> formats = FrontendDecoder.formats(r, "column format");
        r.end();
        return formats;
    }

    private static <M extends BackendMessage> M empty(byte[] payload, String name, M message) throws PgProtocolException {
        if (payload.length != 0) {
            throw new PgProtocolException("malformed " + name + " message: expected no payload, got " + payload.length + " bytes");
        }
        return message;
    }
}
