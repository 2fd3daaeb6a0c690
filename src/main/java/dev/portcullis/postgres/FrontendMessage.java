package dev.portcullis.postgres;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;

/**
 * A message a client sends to a server (protocol 3.0). The gateway decodes these from agents and
 * encodes them towards the upstream server.
 *
 * <p>The {@link StartupPacket} kinds have no type byte and only occur before the session starts;
 * the rest are typed messages. Byte-array components are not copied, and records holding arrays
 * compare by identity: treat them as immutable and compare the encoded bytes.
 */
public sealed interface FrontendMessage {

    /** Decodes one typed frontend message; startup packets come from {@link PgFrameReader#readStartupPacket()}. */
    static FrontendMessage decode(RawMessage message) throws PgProtocolException {
        return FrontendDecoder.decode(message);
    }

    /** Protocol version 3.0 as sent in a StartupMessage. */
    int PROTOCOL_3_0 = 196608;

    /** Whether Describe and Close address a prepared statement or a portal. */
    enum Target {
        STATEMENT('S'), PORTAL('P');

        private final char code;

        Target(char code) {
            this.code = code;
        }

        public char code() {
            return code;
        }

        static Target of(byte code, String messageName) throws PgProtocolException {
            return switch (code) {
                case 'S' -> STATEMENT;
                case 'P' -> PORTAL;
                default -> throw new PgProtocolException("malformed " + messageName + " message: invalid target '"
                        + PayloadReader.printable(code) + "' (expected 'S' or 'P')");
            };
        }
    }

    /** An untyped packet of the startup phase: length, then a 32-bit code. */
    sealed interface StartupPacket extends FrontendMessage permits Startup, SslRequest, GssEncRequest, CancelRequest {}

    /**
     * StartupMessage. Any 3.x minor version is accepted here; the session answers a newer minor with
     * NegotiateProtocolVersion. Parameters keep their wire order ({@code user}, {@code database},
     * {@code options}, {@code _pq_.*}, GUCs).
     */
    record Startup(int majorVersion, int minorVersion, SequencedMap<String, String> parameters) implements StartupPacket {
        public Startup {
            parameters = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(parameters));
        }

        /** A 3.0 StartupMessage with the given parameters. */
        public static Startup v3(Map<String, String> parameters) {
            return new Startup(3, 0, new LinkedHashMap<>(parameters));
        }

        public int protocolVersion() {
            return (majorVersion << 16) | minorVersion;
        }

        /** The role name, or null if the client sent none (the server refuses that). */
        public String user() {
            return parameters.get("user");
        }

        /** The database, which defaults to the user name as the server does. */
        public String database() {
            return parameters.getOrDefault("database", user());
        }
    }

    record SslRequest() implements StartupPacket {
        public static final int CODE = 80877103;
    }

    record GssEncRequest() implements StartupPacket {
        public static final int CODE = 80877104;
    }

    /** Protocol 3.0 cancel key: a 32-bit secret (3.2's longer keys are not supported). */
    record CancelRequest(int processId, int secretKey) implements StartupPacket {
        public static final int CODE = 80877102;
    }

    /** 'Q': one or more statements in simple query protocol. */
    record Query(String sql) implements FrontendMessage {
        public Query {
            Objects.requireNonNull(sql, "sql");
        }
    }

    /** 'P': prepare {@code sql} as {@code statement} ("" = unnamed); a type OID of 0 means unspecified. */
    record Parse(String statement, String sql, List<Integer> paramTypeOids) implements FrontendMessage {
        public Parse {
            Objects.requireNonNull(statement, "statement");
            Objects.requireNonNull(sql, "sql");
            paramTypeOids = List.copyOf(paramTypeOids);
        }
    }

    /**
     * 'B': bind {@code params} to {@code statement} into {@code portal}. A null parameter is SQL NULL.
     * Format lists follow the protocol: empty = all text, one entry = applies to all.
     */
    record Bind(String portal, String statement, List<Integer> paramFormats, byte[][] params, List<Integer> resultFormats)
            implements FrontendMessage {
        public Bind {
            Objects.requireNonNull(portal, "portal");
            Objects.requireNonNull(statement, "statement");
            paramFormats = List.copyOf(paramFormats);
            Objects.requireNonNull(params, "params");
            resultFormats = List.copyOf(resultFormats);
        }

        /** Format code (0 text, 1 binary) of parameter {@code index}, resolving the short forms. */
        public int paramFormat(int index) {
            return paramFormats.isEmpty() ? 0 : paramFormats.size() == 1 ? paramFormats.getFirst() : paramFormats.get(index);
        }

        @Override
        public String toString() {
            return "Bind[portal=" + portal + ", statement=" + statement + ", paramFormats=" + paramFormats
                    + ", params=" + params.length + ", resultFormats=" + resultFormats + "]";
        }
    }

    /** 'D': ask for the description of a statement (ParameterDescription + RowDescription) or portal. */
    record Describe(Target target, String name) implements FrontendMessage {
        public Describe {
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(name, "name");
        }
    }

    /** 'E': run {@code portal}; {@code maxRows} 0 means no limit. */
    record Execute(String portal, int maxRows) implements FrontendMessage {
        public Execute {
            Objects.requireNonNull(portal, "portal");
        }
    }

    /** 'S' */
    record Sync() implements FrontendMessage {}

    /** 'H' */
    record Flush() implements FrontendMessage {}

    /** 'C' */
    record Close(Target target, String name) implements FrontendMessage {
        public Close {
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(name, "name");
        }
    }

    /** 'X' */
    record Terminate() implements FrontendMessage {}

    /** 'd' from the client during COPY FROM STDIN. */
    record CopyData(byte[] data) implements FrontendMessage {
        public CopyData {
            Objects.requireNonNull(data, "data");
        }

        @Override
        public String toString() {
            return "CopyData[" + data.length + " bytes]";
        }
    }

    /** 'c' */
    record CopyDone() implements FrontendMessage {}

    /** 'f': the client aborts COPY FROM STDIN. */
    record CopyFail(String message) implements FrontendMessage {
        public CopyFail {
            Objects.requireNonNull(message, "message");
        }
    }

    /**
     * 'p': PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share this type byte;
     * only the authentication phase tells them apart, so the payload stays raw and the phase
     * interprets it with the accessors below.
     */
    record PasswordMessage(byte[] data) implements FrontendMessage {
        public PasswordMessage {
            Objects.requireNonNull(data, "data");
        }

        /** PasswordMessage carrying a cleartext password or an {@code md5...} hash. */
        public static PasswordMessage password(String password) {
            byte[] text = password.getBytes(StandardCharsets.UTF_8);
            if (indexOfZero(text) >= 0) {
                throw new IllegalArgumentException("password contains a NUL character");
            }
            return new PasswordMessage(Arrays.copyOf(text, text.length + 1));
        }

        /** SASLInitialResponse; a null {@code initialResponse} is sent as length -1. */
        public static PasswordMessage saslInitialResponse(String mechanism, byte[] initialResponse) {
            PgMessageWriter.Buffer buffer = new PgMessageWriter.Buffer(64);
            buffer.cstring(mechanism);
            buffer.nullableValue(initialResponse);
            return new PasswordMessage(buffer.toByteArray());
        }

        /** SASLResponse: the bytes of the mechanism's next message. */
        public static PasswordMessage saslResponse(byte[] response) {
            return new PasswordMessage(response.clone());
        }

        /** Reads the payload as a PasswordMessage (cleartext or md5 hash). */
        public String asPassword() throws PgProtocolException {
            PayloadReader reader = new PayloadReader(data, "PasswordMessage");
            String password = reader.cstring("password");
            reader.end();
            return password;
        }

        /** Reads the payload as a SASLInitialResponse. */
        public SaslInitialResponse asSaslInitialResponse() throws PgProtocolException {
            PayloadReader reader = new PayloadReader(data, "SASLInitialResponse");
            String mechanism = reader.cstring("mechanism");
            byte[] response = reader.nullableValue("initial response");
            reader.end();
            return new SaslInitialResponse(mechanism, response);
        }

        @Override
        public String toString() {
            return "PasswordMessage[" + data.length + " bytes]"; // never the secret itself
        }

        private static int indexOfZero(byte[] text) {
            for (int i = 0; i < text.length; i++) {
                if (text[i] == 0) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** The decoded form of a SASLInitialResponse; {@code initialResponse} is null when absent. */
    record SaslInitialResponse(String mechanism, byte[] initialResponse) {
        @Override
        public String toString() {
            return "SaslInitialResponse[" + mechanism + "]";
        }
    }

    /** 'F': the legacy fast-path function call. A null argument is SQL NULL. */
    record FunctionCall(int functionOid, List<Integer> argFormats, byte[][] args, int resultFormat) implements FrontendMessage {
        public FunctionCall {
            argFormats = List.copyOf(argFormats);
            Objects.requireNonNull(args, "args");
        }
    }
}
