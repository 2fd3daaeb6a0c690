package dev.portcullis.cli;

import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import java.time.ZoneId;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Print a recorded session in order: who, what, the verdict and rule, what came back (masked).")
final class ReplayCommand implements Callable<Integer> {
    @Parameters(paramLabel = "SESSION_ID", description = "A session id from 'sessions list', or 'latest'.")
    String sessionId;

    @Option(names = "--json", description = "Machine-readable output: every event with all its fields and hashes.")
    boolean json;

    @Option(names = "--cast", paramLabel = "FILE", description = {"Also write the session's terminal sessions (kubectl exec, attach)",
            "as asciicast v2 files for 'asciinema play': FILE when there is one, FILE-<event>.cast for each when there are more."})
    java.nio.file.Path cast;

    @Mixin
    StoreOption storeOption;

    @Override
    public Integer call() throws Exception {
        try (AuditStore store = storeOption.open()) {
            String id = sessionId;
            if (id.equals("latest")) {
                var newest = store.sessions(SessionQuery.newest().limit(1));
                if (newest.isEmpty()) throw new IllegalArgumentException("no sessions recorded yet");
                id = newest.getFirst().id();
            }
            Replay replay = new Replay(store, ZoneId.systemDefault());
            System.out.print(json ? replay.json(id) + "\n" : replay.text(id));
            if (cast != null) writeCasts(replay.casts(id));
        }
        return 0;
    }

    private void writeCasts(java.util.List<Replay.Cast> casts) throws java.io.IOException {
        if (casts.isEmpty()) {
            System.err.println("no terminal session in this session: nothing written to " + cast);
            return;
        }
        for (Replay.Cast c : casts) {
            String name = cast.getFileName().toString();
            java.nio.file.Path file = casts.size() == 1 ? cast
                    : cast.resolveSibling((name.endsWith(".cast") ? name.substring(0, name.length() - 5) : name) + "-" + c.seq() + ".cast");
            java.nio.file.Files.writeString(file, c.asciicast());
            System.err.println("wrote " + file + " (event #" + c.seq() + ": " + c.summary() + (c.truncated() ? "; cut at the recording limit" : "")
                    + "); play it with: asciinema play " + file);
        }
    }
}
