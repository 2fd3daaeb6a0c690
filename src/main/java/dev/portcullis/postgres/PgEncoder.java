package dev.portcullis.postgres;

import dev.portcullis.postgres.PgMessageWriter.Buffer;
import java.util.List;
import java.util.Map;

/** Record → wire bytes, both directions. The switches are exhaustive over the sealed hierarchies. */
final class PgEncoder {

    private PgEncoder() {}

    static void encode(FrontendMessage message, Buffer b) {
        switch (message) {
            case FrontendMessage.StartupPacket packet -> startup(packet, b);
            case FrontendMessage.Query m -> {
                int at = begin(b, 'Q');
                b.cstring(m.sql());
                b.endLength(at);
            }
            case FrontendMessage.Parse m -> {
                int at = begin(b, 'P');
                b.cstring(m.statement());
                b.cstring(m.sql());
                b.count16(m.paramTypeOids().size(), "parameter types");
                for (int oid : m.paramTypeOids()) {
                    b.int32(oid);
                }
                b.endLength(at);
            }
            case FrontendMessage.Bind m -> {
                int at = begin(b, 'B');
                b.cstring(m.portal());
                b.cstring(m.statement());
                formats(b, m.paramFormats());
                b.count16(m.params().length, "parameters");
                for (byte[] param : m.params()) {
                    b.nullableValue(param);
                }
                formats(b, m.resultFormats());
                b.endLength(at);
            }
            case FrontendMessage.Describe m -> {
                int at = begin(b, 'D');
                b.int8(m.target().code());
                b.cstring(m.name());
                b.endLength(at);
            }
            case FrontendMessage.Execute m -> {
                int at = begin(b, 'E');
                b.cstring(m.portal());
                b.int32(m.maxRows());
                b.endLength(at);
            }
            case FrontendMessage.Sync _ -> empty(b, 'S');
            case FrontendMessage.Flush _ -> empty(b, 'H');
            case FrontendMessage.Close m -> {
                int at = begin(b, 'C');
                b.int8(m.target().code());
                b.cstring(m.name());
                b.endLength(at);
            }
            case FrontendMessage.Terminate _ -> empty(b, 'X');
            case FrontendMessage.CopyData m -> bytes(b, 'd', m.data());
            case FrontendMessage.CopyDone _ -> empty(b, 'c');
            case FrontendMessage.CopyFail m -> {
                int at = begin(b, 'f');
                b.cstring(m.message());
                b.endLength(at);
            }
            case FrontendMessage.PasswordMessage m -> bytes(b, 'p', m.data());
            case FrontendMessage.FunctionCall m -> {
                int at = begin(b, 'F');
                b.int32(m.functionOid());
                formats(b, m.argFormats());
                b.count16(m.args().length, "arguments");
                for (byte[] arg : m.args()) {
                    b.nullableValue(arg);
                }
                b.int16(m.resultFormat());
                b.endLength(at);
            }
        }
    }

    static void encode(BackendMessage message, Buffer b) {
        switch (message) {
            case BackendMessage.AuthenticationOk _ -> authentication(b, 0, null);
            case BackendMessage.AuthenticationCleartextPassword _ -> authentication(b, 3, null);
            case BackendMessage.AuthenticationMd5Password m -> authentication(b, 5, m.salt());
            case BackendMessage.AuthenticationSasl m -> {
                int at = begin(b, 'R');
                b.int32(10);
                for (String mechanism : m.mechanisms()) {
                    b.cstring(mechanism);
                }
                b.int8(0);
                b.endLength(at);
            }
            case BackendMessage.AuthenticationSaslContinue m -> authentication(b, 11, m.data());
            case BackendMessage.AuthenticationSaslFinal m -> authentication(b, 12, m.data());
            case BackendMessage.AuthenticationUnsupported m -> authentication(b, m.code(), m.data());
            case BackendMessage.ParameterStatus m -> {
                int at = begin(b, 'S');
                b.cstring(m.name());
                b.cstring(m.value());
                b.endLength(at);
            }
            case BackendMessage.BackendKeyData m -> {
                int at = begin(b, 'K');
                b.int32(m.processId());
                b.int32(m.secretKey());
                b.endLength(at);
            }
            case BackendMessage.ReadyForQuery m -> {
                int at = begin(b, 'Z');
                b.int8(m.status().code());
                b.endLength(at);
            }
            case BackendMessage.RowDescription m -> {
                int at = begin(b, 'T');
                b.count16(m.fields().size(), "fields");
                for (BackendMessage.Field f : m.fields()) {
                    b.cstring(f.name());
                    b.int32(f.tableOid());
                    b.int16(f.columnAttr());
                    b.int32(f.typeOid());
                    b.int16(f.typeLen());
                    b.int32(f.typeMod());
                    b.int16(f.format());
                }
                b.endLength(at);
            }
            case BackendMessage.DataRow m -> {
                int at = begin(b, 'D');
                b.count16(m.values().length, "columns");
                for (byte[] value : m.values()) {
                    b.nullableValue(value);
                }
                b.endLength(at);
            }
            case BackendMessage.CommandComplete m -> {
                int at = begin(b, 'C');
                b.cstring(m.tag());
                b.endLength(at);
            }
            case BackendMessage.EmptyQueryResponse _ -> empty(b, 'I');
            case BackendMessage.ErrorResponse m -> diagnostic(b, 'E', m.fields());
            case BackendMessage.NoticeResponse m -> diagnostic(b, 'N', m.fields());
            case BackendMessage.ParseComplete _ -> empty(b, '1');
            case BackendMessage.BindComplete _ -> empty(b, '2');
            case BackendMessage.CloseComplete _ -> empty(b, '3');
            case BackendMessage.NoData _ -> empty(b, 'n');
            case BackendMessage.PortalSuspended _ -> empty(b, 's');
            case BackendMessage.ParameterDescription m -> {
                int at = begin(b, 't');
                b.count16(m.typeOids().size(), "parameter types");
                for (int oid : m.typeOids()) {
                    b.int32(oid);
                }
                b.endLength(at);
            }
            case BackendMessage.CopyInResponse m -> copyResponse(b, 'G', m);
            case BackendMessage.CopyOutResponse m -> copyResponse(b, 'H', m);
            case BackendMessage.CopyBothResponse m -> copyResponse(b, 'W', m);
            case BackendMessage.CopyData m -> bytes(b, 'd', m.data());
            case BackendMessage.CopyDone _ -> empty(b, 'c');
            case BackendMessage.NotificationResponse m -> {
                int at = begin(b, 'A');
                b.int32(m.processId());
                b.cstring(m.channel());
                b.cstring(m.payload());
                b.endLength(at);
            }
            case BackendMessage.NegotiateProtocolVersion m -> {
                int at = begin(b, 'v');
                b.int32(m.newestMinorVersion());
                b.int32(m.unrecognizedOptions().size());
                for (String option : m.unrecognizedOptions()) {
                    b.cstring(option);
                }
                b.endLength(at);
            }
            case BackendMessage.FunctionCallResponse m -> {
                int at = begin(b, 'V');
                b.nullableValue(m.result());
                b.endLength(at);
            }
        }
    }

    private static void startup(FrontendMessage.StartupPacket packet, Buffer b) {
        int at = b.beginLength();
        switch (packet) {
            case FrontendMessage.Startup m -> {
                b.int32(m.protocolVersion());
                for (Map.Entry<String, String> parameter : m.parameters().entrySet()) {
                    b.cstring(parameter.getKey());
                    b.cstring(parameter.getValue());
                }
                b.int8(0);
            }
            case FrontendMessage.SslRequest _ -> b.int32(FrontendMessage.SslRequest.CODE);
            case FrontendMessage.GssEncRequest _ -> b.int32(FrontendMessage.GssEncRequest.CODE);
            case FrontendMessage.CancelRequest m -> {
                b.int32(FrontendMessage.CancelRequest.CODE);
                b.int32(m.processId());
                b.int32(m.secretKey());
            }
        }
        b.endLength(at);
    }

    private static int begin(Buffer b, char type) {
        b.int8(type);
        return b.beginLength();
    }

    private static void empty(Buffer b, char type) {
        b.int8(type);
        b.int32(4);
    }

    private static void bytes(Buffer b, char type, byte[] data) {
        int at = begin(b, type);
        b.bytes(data);
        b.endLength(at);
    }

    private static void authentication(Buffer b, int code, byte[] data) {
        int at = begin(b, 'R');
        b.int32(code);
        if (data != null) {
            b.bytes(data);
        }
        b.endLength(at);
    }

    private static void formats(Buffer b, List<Integer> formats) {
        b.count16(formats.size(), "format codes");
        for (int format : formats) {
            b.int16(format);
        }
    }

    private static void diagnostic(Buffer b, char type, Map<Character, String> fields) {
        int at = begin(b, type);
        for (Map.Entry<Character, String> field : fields.entrySet()) {
            char code = field.getKey();
            if (code == 0 || code > 0xff) {
                throw new IllegalArgumentException("invalid diagnostic field code " + (int) code);
            }
            b.int8(code);
            b.cstring(field.getValue());
        }
        b.int8(0);
        b.endLength(at);
    }

    private static void copyResponse(Buffer b, char type, BackendMessage.CopyResponse m) {
        int at = begin(b, type);
        b.int8(m.format());
        formats(b, m.columnFormats());
        b.endLength(at);
    }
}
