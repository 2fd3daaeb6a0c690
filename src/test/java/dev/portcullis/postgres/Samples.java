package dev.portcullis.postgres;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One or more instances of every message type: the round-trip cases and the fuzz seed corpus. */
final class Samples {

    private Samples() {}

    static FrontendMessage.Startup startup() {
        LinkedHashMap<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", "agent");
        parameters.put("database", "app");
        parameters.put("application_name", "psql");
        parameters.put("options", "-c search_path=public");
        return new FrontendMessage.Startup(3, 0, parameters);
    }

    static List<FrontendMessage.StartupPacket> startupPackets() {
        return List.of(startup(),
                new FrontendMessage.Startup(3, 2, new LinkedHashMap<>(Map.of("user", "u", "_pq_.x", "1"))),
                new FrontendMessage.SslRequest(),
                new FrontendMessage.GssEncRequest(),
                new FrontendMessage.CancelRequest(4242, -123456789));
    }

    static List<FrontendMessage> typedFrontend() {
        return List.of(
                new FrontendMessage.Query("SELECT 'ünïcode', 1; DELETE FROM t"),
                new FrontendMessage.Query(""),
                new FrontendMessage.Parse("s1", "SELECT $1, $2", List.of(23, 0)),
                new FrontendMessage.Parse("", "SELECT 1", List.of()),
                new FrontendMessage.Bind("p1", "s1", List.of(0, 1), new byte[][] {"42".getBytes(UTF_8), null}, List.of(1)),
                new FrontendMessage.Bind("", "", List.of(), new byte[0][], List.of()),
                new FrontendMessage.Describe(FrontendMessage.Target.STATEMENT, "s1"),
                new FrontendMessage.Describe(FrontendMessage.Target.PORTAL, ""),
                new FrontendMessage.Execute("p1", 100),
                new FrontendMessage.Sync(),
                new FrontendMessage.Flush(),
                new FrontendMessage.Close(FrontendMessage.Target.PORTAL, "p1"),
                new FrontendMessage.CopyData("1\tone\n".getBytes(UTF_8)),
                new FrontendMessage.CopyDone(),
                new FrontendMessage.CopyFail("aborted by user"),
                FrontendMessage.PasswordMessage.password("md5370dfac54ebb2bdeedf68eab452ffd72"),
                FrontendMessage.PasswordMessage.saslInitialResponse("SCRAM-SHA-256", "n,,n=*,r=abc".getBytes(UTF_8)),
                FrontendMessage.PasswordMessage.saslResponse("c=biws,r=abc,p=xyz".getBytes(UTF_8)),
                new FrontendMessage.FunctionCall(1598, List.of(1), new byte[][] {{0, 0, 0, 7}, null}, 1),
                new FrontendMessage.Terminate());
    }

    static List<BackendMessage> backend() {
        LinkedHashMap<Character, String> notice = new LinkedHashMap<>();
        notice.put('S', "WARNING");
        notice.put('C', "01000");
        notice.put('M', "careful");
        notice.put('W', "PL/pgSQL function f()");
        return List.of(
                new BackendMessage.AuthenticationOk(),
                new BackendMessage.AuthenticationCleartextPassword(),
                new BackendMessage.AuthenticationMd5Password(new byte[] {1, 2, 3, 4}),
                new BackendMessage.AuthenticationSasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
                new BackendMessage.AuthenticationSaslContinue("r=abc,s=c2FsdA==,i=4096".getBytes(UTF_8)),
                new BackendMessage.AuthenticationSaslFinal("v=c2lnbmF0dXJl".getBytes(UTF_8)),
                new BackendMessage.AuthenticationUnsupported(7, new byte[0]),
                new BackendMessage.ParameterStatus("server_version", "18.4"),
                new BackendMessage.BackendKeyData(4242, -123456789),
                new BackendMessage.ReadyForQuery(BackendMessage.TransactionStatus.IDLE),
                new BackendMessage.ReadyForQuery(BackendMessage.TransactionStatus.IN_TRANSACTION),
                new BackendMessage.ReadyForQuery(BackendMessage.TransactionStatus.FAILED),
                new BackendMessage.RowDescription(List.of(
                        new BackendMessage.Field("id", 16384, (short) 1, 23, (short) 4, -1, (short) 0),
                        new BackendMessage.Field("email", 16384, (short) 2, 1043, (short) -1, 259, (short) 1))),
                new BackendMessage.RowDescription(List.of()),
                new BackendMessage.DataRow(new byte[][] {"1".getBytes(UTF_8), null, new byte[0]}),
                new BackendMessage.CommandComplete("INSERT 0 1"),
                new BackendMessage.EmptyQueryResponse(),
                PgErrors.error("42501", "permission denied for table customers", "rule deny-drop", "ask an admin"),
                new BackendMessage.NoticeResponse(notice),
                new BackendMessage.ParseComplete(),
                new BackendMessage.BindComplete(),
                new BackendMessage.CloseComplete(),
                new BackendMessage.NoData(),
                new BackendMessage.PortalSuspended(),
                new BackendMessage.ParameterDescription(List.of(23, 25)),
                new BackendMessage.CopyInResponse(0, List.of(0, 0)),
                new BackendMessage.CopyOutResponse(1, List.of(1)),
                new BackendMessage.CopyBothResponse(0, List.of()),
                new BackendMessage.CopyData(new byte[] {'a', 0, 'b'}),
                new BackendMessage.CopyDone(),
                new BackendMessage.NotificationResponse(99, "jobs", "{\"id\":1}"),
                new BackendMessage.NegotiateProtocolVersion(0, List.of("_pq_.unknown")),
                new BackendMessage.FunctionCallResponse(new byte[] {0, 0, 0, 8}),
                new BackendMessage.FunctionCallResponse(null));
    }

    /** A complete client byte stream: StartupMessage followed by every typed frontend message. */
    static byte[] clientStream() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(PgMessageWriter.encode(startup()));
        for (FrontendMessage m : typedFrontend()) {
            out.writeBytes(PgMessageWriter.encode(m));
        }
        return out.toByteArray();
    }

    /** A complete server byte stream with every backend message. */
    static byte[] serverStream() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (BackendMessage m : backend()) {
            out.writeBytes(PgMessageWriter.encode(m));
        }
        return out.toByteArray();
    }
}
