package dev.portcullis.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.SessionSummary;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "sessions", mixinStandardHelpOptions = true, description = "Recorded sessions.",
        subcommands = {SessionsCommand.ListSessions.class, SessionsCommand.KillSession.class})
final class SessionsCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "kill", mixinStandardHelpOptions = true,
            description = {"End a live session at once (a PostgreSQL connection, a Kubernetes exec stream); the client is told",
                    "why where its protocol allows, and the recording says who ended it. For members of admin.session-admins",
                    "(token from $" + ApprovalServer.TOKEN_ENV + ")."})
    static final class KillSession implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        ApprovalServer server;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @picocli.CommandLine.Parameters(paramLabel = "SESSION_ID", description = "A live session's id (sessions list, or GET /api/v1/sessions/live).")
        String id;

        @picocli.CommandLine.Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why; the client and the recording are told.")
        String reason;

        @Override
        public Integer call() throws Exception {
            String body = dev.portcullis.core.Json.mapper().createObjectNode().put("reason", reason).toString();
            ApprovalServer.Answer answer = server.post("/api/v1/sessions/" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8)
                    + "/terminate", body);
            if (!answer.ok()) return ApprovalsCommand.refused(spec, answer);
            System.out.println("terminated session " + id + ": " + reason);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List recorded sessions, newest first.")
    static final class ListSessions implements Callable<Integer> {
        @Mixin
        StoreOption storeOption;

        @Option(names = "--subject", description = "Only sessions of this identity (token subject).")
        String subject;

        @Option(names = "--connection", description = "Only sessions on this connection.")
        String connection;

        @Option(names = "--since", description = "Only sessions active at or after this instant (ISO-8601, e.g. 2026-11-23T10:00:00Z).")
        Instant since;

        @Option(names = "--until", description = "Only sessions started before this instant (ISO-8601).")
        Instant until;

        @Option(names = "--limit", defaultValue = "50", description = "At most this many (default: ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--json", description = "Machine-readable output.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            SessionQuery query = SessionQuery.newest().limit(limit);
            if (subject != null) query = query.subject(subject);
            if (connection != null) query = query.connection(connection);
            if (since != null || until != null) query = query.between(since, until);
            List<SessionSummary> sessions;
            try (AuditStore store = storeOption.open()) {
                sessions = store.sessions(query);
            }
            if (json) {
                ObjectMapper mapper = new ObjectMapper().registerModule(new JavaTimeModule())
                        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
                System.out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(sessions));
                return 0;
            }
            if (sessions.isEmpty()) {
                System.out.println("no sessions recorded" + (subject != null || connection != null ? " matching the filter" : ""));
                return 0;
            }
            DateTimeFormatter time = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());
            System.out.printf("%-36s  %-19s  %-19s  %-24s  %-12s  %6s  %7s%n",
                    "SESSION", "STARTED", "LAST EVENT", "IDENTITY", "CONNECTION", "EVENTS", "REFUSED");
            for (SessionSummary s : sessions) {
                System.out.printf("%-36s  %-19s  %-19s  %-24s  %-12s  %6d  %7d%n", s.id(), time.format(s.startedAt()),
                        time.format(s.lastEventAt()), s.authenticated() ? s.subject() : "(unauthenticated " + s.clientAddress() + ")",
                        s.connection(), s.eventCount(), s.refusedCount());
            }
            return 0;
        }
    }
}
