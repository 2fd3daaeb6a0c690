package dev.portcullis.gate;

import dev.portcullis.core.Identity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The sessions open now that a person may end: a PostgreSQL connection, a Kubernetes exec stream, each
 * registered by its protocol with how to end it in its own words (a PostgreSQL {@code FATAL}, a closed
 * stream). Ending one is recorded by the protocol, with who ended it and why.
 */
public final class LiveSessions {

    /** Ends one live session; called once, from any thread. */
    @FunctionalInterface
    public interface Terminator {
        void terminate(String by, String reason);
    }

    /** A session open now. */
    public record Live(String sessionId, String subject, String connection, String protocol, Instant since) {
    }

    private record Entry(Live live, Terminator terminator) {
    }

    private final Map<String, List<Entry>> open = new ConcurrentHashMap<>();

    /** A live session's registration; closing it forgets the session (it ended on its own). */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /** Registers a live session (or one more stream of it); closing the registration forgets it. */
    public Registration register(String sessionId, Identity identity, String connection, String protocol, Terminator terminator) {
        Entry e = new Entry(new Live(sessionId, identity.subject(), connection, protocol, Instant.now()), terminator);
        open.computeIfAbsent(sessionId, id -> new CopyOnWriteArrayList<>()).add(e);
        return () -> open.computeIfPresent(sessionId, (id, list) -> {
            list.remove(e);
            return list.isEmpty() ? null : list;
        });
    }

    /** Ends every live part of the session; false when nothing of it is open. */
    public boolean terminate(String sessionId, String by, String reason) {
        List<Entry> entries = open.remove(sessionId);
        if (entries == null || entries.isEmpty()) return false;
        for (Entry e : entries) e.terminator().terminate(by, reason);
        return true;
    }

    /** What is open now, oldest first. */
    public List<Live> list() {
        List<Live> all = new ArrayList<>();
        open.values().forEach(list -> list.forEach(e -> all.add(e.live())));
        all.sort(java.util.Comparator.comparing(Live::since));
        return all;
    }
}
