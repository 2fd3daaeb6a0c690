package dev.portcullis.postgres;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.SequencedMap;

/**
 * A message a server sends to a client (protocol 3.0). The gateway decodes these from the upstream
 * server and encodes them towards agents, including the ones it makes up itself (refusals).
 *
 * <p>Byte-array components are not copied, and records holding arrays compare by identity: treat
 * them as immutable and compare the encoded bytes.
 */
public sealed interface BackendMessage {

    /** Decodes one typed backend message. */
    static BackendMessage decode(RawMessage message) throws PgProtocolException {
        return BackendDecoder.decode(message);
    }

    /** 'R': the authentication exchange; the int32 code after the length picks the kind. */
    sealed interface Authentication extends BackendMessage permits AuthenticationOk, AuthenticationCleartextPassword,
            AuthenticationMd5Password, AuthenticationSasl, AuthenticationSaslContinue, AuthenticationSaslFinal,
            AuthenticationUnsupported {}

    record AuthenticationOk() implements Authentication {}

    record AuthenticationCleartextPassword() implements Authentication {}

    /** The server wants {@code "md5" + md5hex(md5hex(password + user) + salt)}. */
    record AuthenticationMd5Password(byte[] salt) implements Authentication {
        public AuthenticationMd5Password {
            if (salt.length != 4) {
                throw new IllegalArgumentException("MD5 salt must be 4 bytes, got " + salt.length);
            }
        }
    }

    /** Start of SASL; the server lists the mechanisms it accepts, e.g. SCRAM-SHA-256. */
    record AuthenticationSasl(List<String> mechanisms) implements Authentication {
        public AuthenticationSasl {
            mechanisms = List.copyOf(mechanisms);
        }
    }

    record AuthenticationSaslContinue(byte[] data) implements Authentication {
        public AuthenticationSaslContinue {
            Objects.requireNonNull(data, "data");
        }
    }

    record AuthenticationSaslFinal(byte[] data) implements Authentication {
        public AuthenticationSaslFinal {
            Objects.requireNonNull(data, "data");
        }
    }

    /** Kerberos, SCM, GSS, SSPI and anything newer: kept so the caller can say which method it refused. */
    record AuthenticationUnsupported(int code, byte[] data) implements Authentication {
        public AuthenticationUnsupported {
            Objects.requireNonNull(data, "data");
        }
    }

    /** 'S': a run-time parameter the client should know about (server_version, client_encoding, ...). */
    record ParameterStatus(String name, String value) implements BackendMessage {
        public ParameterStatus {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    /** 'K': protocol 3.0 cancel key of this backend. */
    record BackendKeyData(int processId, int secretKey) implements BackendMessage {
        @Override
        public String toString() {
            return "BackendKeyData[processId=" + processId + "]"; // the secret cancels queries: keep it out of logs
        }
    }

    enum TransactionStatus {
        IDLE('I'), IN_TRANSACTION('T'), FAILED('E');

        private final char code;

        TransactionStatus(char code) {
            this.code = code;
        }

        public char code() {
            return code;
        }

        static TransactionStatus of(byte code) throws PgProtocolException {
            return switch (code) {
                case 'I' -> IDLE;
                case 'T' -> IN_TRANSACTION;
                case 'E' -> FAILED;
                default -> throw new PgProtocolException("malformed ReadyForQuery message: invalid transaction status '"
                        + PayloadReader.printable(code) + "'");
            };
        }
    }

    /** 'Z' */
    record ReadyForQuery(TransactionStatus status) implements BackendMessage {
        public ReadyForQuery {
            Objects.requireNonNull(status, "status");
        }
    }

    /** One column of a RowDescription; {@code format} 0 is text, 1 binary. */
    record Field(String name, int tableOid, short columnAttr, int typeOid, short typeLen, int typeMod, short format) {
        public Field {
            Objects.requireNonNull(name, "name");
        }
    }

    /** 'T' */
    record RowDescription(List<Field> fields) implements BackendMessage {
        public RowDescription {
            fields = List.copyOf(fields);
        }
    }

    /** 'D': one row; a null value is SQL NULL. */
    record DataRow(byte[][] values) implements BackendMessage {
        public DataRow {
            Objects.requireNonNull(values, "values");
        }

        @Override
        public String toString() {
            return "DataRow[" + values.length + " values]";
        }
    }

    /** 'C': e.g. {@code SELECT 3}, {@code INSERT 0 1}. */
    record CommandComplete(String tag) implements BackendMessage {
        public CommandComplete {
            Objects.requireNonNull(tag, "tag");
        }
    }

    /** 'I' */
    record EmptyQueryResponse() implements BackendMessage {}

    /**
     * The field list shared by ErrorResponse and NoticeResponse, keyed by the one-byte field code
     * (S severity, V severity unlocalized, C SQLSTATE, M message, D detail, H hint, P position, ...),
     * in wire order. Unknown codes are kept.
     */
    sealed interface Diagnostic extends BackendMessage permits ErrorResponse, NoticeResponse {
        SequencedMap<Character, String> fields();

        /** Unlocalized severity (V) where the server sent it, else the localized one (S). */
        default String severity() {
            return fields().getOrDefault('V', fields().get('S'));
        }

        default String sqlState() {
            return fields().get('C');
        }

        default String message() {
            return fields().get('M');
        }

        default String detail() {
            return fields().get('D');
        }

        default String hint() {
            return fields().get('H');
        }

        /** {@code SEVERITY SQLSTATE: message}, the way psql prints it. */
        default String describe() {
            return severity() + " " + sqlState() + ": " + message();
        }
    }

    /** 'E' */
    record ErrorResponse(SequencedMap<Character, String> fields) implements Diagnostic {
        public ErrorResponse {
            fields = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(fields));
        }
    }

    /** 'N' */
    record NoticeResponse(SequencedMap<Character, String> fields) implements Diagnostic {
        public NoticeResponse {
            fields = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(fields));
        }
    }

    /** '1' */
    record ParseComplete() implements BackendMessage {}

    /** '2' */
    record BindComplete() implements BackendMessage {}

    /** '3' */
    record CloseComplete() implements BackendMessage {}

    /** 'n' */
    record NoData() implements BackendMessage {}

    /** 's' */
    record PortalSuspended() implements BackendMessage {}

    /** 't' */
    record ParameterDescription(List<Integer> typeOids) implements BackendMessage {
        public ParameterDescription {
            typeOids = List.copyOf(typeOids);
        }
    }

    /** 'G', 'H', 'W': {@code format} 0 text, 1 binary; one format code per column. */
    sealed interface CopyResponse extends BackendMessage permits CopyInResponse, CopyOutResponse, CopyBothResponse {
        int format();

        List<Integer> columnFormats();
    }

    record CopyInResponse(int format, List<Integer> columnFormats) implements CopyResponse {
        public CopyInResponse {
            columnFormats = List.copyOf(columnFormats);
        }
    }

    record CopyOutResponse(int format, List<Integer> columnFormats) implements CopyResponse {
        public CopyOutResponse {
            columnFormats = List.copyOf(columnFormats);
        }
    }

    record CopyBothResponse(int format, List<Integer> columnFormats) implements CopyResponse {
        public CopyBothResponse {
            columnFormats = List.copyOf(columnFormats);
        }
    }

    /** 'd' from the server during COPY TO STDOUT. */
    record CopyData(byte[] data) implements BackendMessage {
        public CopyData {
            Objects.requireNonNull(data, "data");
        }

        @Override
        public String toString() {
            return "CopyData[" + data.length + " bytes]";
        }
    }

    /** 'c' */
    record CopyDone() implements BackendMessage {}

    /** 'A': LISTEN/NOTIFY. */
    record NotificationResponse(int processId, String channel, String payload) implements BackendMessage {
        public NotificationResponse {
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(payload, "payload");
        }
    }

    /** 'v': the newest minor version the server supports and the {@code _pq_.} options it did not recognise. */
    record NegotiateProtocolVersion(int newestMinorVersion, List<String> unrecognizedOptions) implements BackendMessage {
        public NegotiateProtocolVersion {
            unrecognizedOptions = List.copyOf(unrecognizedOptions);
        }
    }

    /** 'V': result of a FunctionCall; null is SQL NULL. */
    record FunctionCallResponse(byte[] result) implements BackendMessage {}
}
