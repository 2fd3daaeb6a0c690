package dev.portcullis.masking;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntConsumer;

/**
 * An Okta {@code GET /api/v1/users} body generated lazily, one user at a time, so that a test can
 * stream tens of megabytes without ever holding them. {@code beforeUser} runs before each user is
 * produced (tests sample the heap there).
 */
final class OktaUsersBody extends InputStream {
    private final int users;
    private final IntConsumer beforeUser;
    private int next = -1;
    private byte[] chunk = new byte[0];
    private int pos;
    private long bytesRead;

    OktaUsersBody(int users, IntConsumer beforeUser) {
        this.users = users;
        this.beforeUser = beforeUser;
    }

    static String user(int i) {
        int four = i % 10000;
        return ("{\"id\":\"00u%07dabcdEFGH\",\"status\":\"ACTIVE\",\"created\":\"2026-11-23T10:00:00.000Z\","
                + "\"activated\":null,\"lastLogin\":\"2026-11-23T10:%02d:00.000Z\",\"loginCount\":%d,"
                + "\"profile\":{\"firstName\":\"Ann\",\"lastName\":\"Lee %d\",\"email\":\"ann.lee%d@example.com\","
                + "\"login\":\"ann.lee%d@example.com\",\"secondEmail\":\"ann%d+alt@mail.example.org\","
                + "\"mobilePhone\":\"+1 415 555 %04d\",\"primaryPhone\":\"(415) 555-%04d\",\"department\":\"Engineering\","
                + "\"notes\":\"Backup contact ann.backup%d@example.net, desk 415.555.%04d\"},"
                + "\"credentials\":{\"provider\":{\"type\":\"OKTA\",\"name\":\"OKTA\"}},"
                + "\"_links\":{\"self\":{\"href\":\"https://example.okta.com/api/v1/users/00u%07dabcdEFGH\"}}}")
                .formatted(i, i % 60, i, i, i, i, i, four, four, i, four, i);
    }

    long bytesRead() {
        return bytesRead;
    }

    private boolean refill() {
        if (next > users) return false;
        String s;
        if (next == -1) {
            s = "[";
        } else if (next < users) {
            beforeUser.accept(next);
            s = (next > 0 ? "," : "") + user(next);
        } else {
            s = "]";
        }
        next++;
        chunk = s.getBytes(StandardCharsets.UTF_8);
        pos = 0;
        return true;
    }

    @Override
    public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (len == 0) return 0;
        int n = 0;
        while (n < len) {
            if (pos == chunk.length && !refill()) break;
            int take = Math.min(len - n, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off + n, take);
            pos += take;
            n += take;
        }
        bytesRead += n;
        return n == 0 ? -1 : n;
    }
}
