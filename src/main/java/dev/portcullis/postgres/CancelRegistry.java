package dev.portcullis.postgres;

import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cancel keys. Each client gets a key of the gateway's own making; a CancelRequest arrives on a new,
 * unauthenticated connection, so it is honoured only for a key the gateway issued, and mapped to the
 * upstream backend's real key, which never leaves the gateway.
 */
final class CancelRegistry {
    private final SecureRandom random = new SecureRandom();
    private final Map<Long, PgSession> sessions = new ConcurrentHashMap<>();

    /** Issues a fresh key for the session: {@code [processId, secretKey]}. */
    int[] register(PgSession session) {
        while (true) {
            int pid = random.nextInt(1, Integer.MAX_VALUE);
            int secret = random.nextInt();
            if (sessions.putIfAbsent(key(pid, secret), session) == null) return new int[] {pid, secret};
        }
    }

    void unregister(int pid, int secret) {
        sessions.remove(key(pid, secret));
    }

    /** Whether a session holds that key; if so, its running statement is cancelled upstream. */
    boolean cancel(int pid, int secret) {
        PgSession session = sessions.get(key(pid, secret));
        if (session == null) return false;
        session.cancelUpstream();
        return true;
    }

    private static long key(int pid, int secret) {
        return ((long) pid << 32) | (secret & 0xffffffffL);
    }
}
