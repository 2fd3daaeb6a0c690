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

    @Mixin
    StoreOption storeOption;

    @Override
    public Integer call() throws Exception {
        try (AuditStore store = LoggedStore.openForReading(storeOption.resolve())) {
            String id = sessionId;
            if (id.equals("latest")) {
                var newest = store.sessions(SessionQuery.newest().limit(1));
                if (newest.isEmpty()) throw new IllegalArgumentException("no sessions recorded yet");
                id = newest.getFirst().id();
            }
            Replay replay = new Replay(store, ZoneId.systemDefault());
            System.out.print(json ? replay.json(id) + "\n" : replay.text(id));
        }
        return 0;
    }
}
