package dev.portcullis.console;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.config.ConsoleConfig;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.core.Sha256;
import dev.portcullis.store.AuditStoreException;
import dev.portcullis.store.Micros;
import dev.portcullis.store.SqlStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Console sign-ins under way and the sessions people hold, in the gateway's store so that every replica
 * knows them. The browser holds a random value (a cookie); the store holds only its SHA-256, so a copy
 * of the store opens no session. A session ends at its fixed expiry, after {@code idle-timeout} unused,
 * or at sign-out, whichever comes first.
 */
public final class ConsoleSessions {
    /** A sign-in must come back from the identity provider within this. */
    public static final Duration LOGIN_TTL = Duration.ofMinutes(10);
    /**
     * Sign-ins under way at once, at most: anyone can start one (it is the sign-in page), so their number is
     * bounded, or a flood of them would fill the store.
     */
    public static final int MAX_PENDING_LOGINS = 10_000;
    /** The last use is written at most this often (each page polls). */
    static final Duration TOUCH_EVERY = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = Json.mapper();

    private final SqlStore store;
    private final ConsoleConfig config;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final int maxPending;

    public ConsoleSessions(SqlStore store, ConsoleConfig config, Clock clock) {
        this(store, config, clock, MAX_PENDING_LOGINS);
    }

    ConsoleSessions(SqlStore store, ConsoleConfig config, Clock clock, int maxPending) {
        this.store = Objects.requireNonNull(store, "store");
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.maxPending = maxPending;
    }

    /** Who signed in, as the identity provider's ID token (and userinfo) said. */
    public record SignedIn(String subject, Set<String> groups, Map<String, String> claims, String issuer, String clientId) {
        public SignedIn {
            Objects.requireNonNull(subject, "subject");
            groups = Set.copyOf(groups);
            claims = Map.copyOf(claims);
            Objects.requireNonNull(issuer, "issuer");
            Objects.requireNonNull(clientId, "clientId");
        }
    }

    /**
     * A live console session. {@code identity} is what the API acts as: its token id names the session
     * ({@code console:} and the first 16 hex digits of the cookie's hash), never the cookie.
     */
    public record Session(String idHash, Identity identity, String csrfToken, Instant expiresAt) {
    }

    /** A sign-in started in a browser, until the provider sends it back. */
    public record PendingLogin(String codeVerifier, String nonce, String next) {
    }

    /** A session just started: the cookie's value (to be sent once, never kept) and the session it opens. */
    public record Started(String cookie, Session session) {
    }

    /** A new session. */
    public Started start(SignedIn who) {
        String cookie = randomToken();
        String hash = Sha256.hex(cookie);
        Instant now = clock.instant();
        Instant expires = now.plus(config.sessionTtl());
        String groups;
        String claims;
        try {
            groups = JSON.writeValueAsString(List.copyOf(new java.util.TreeSet<>(who.groups())));
            claims = JSON.writeValueAsString(who.claims());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        store.write("start a console session for " + who.subject(), writer -> {
            try (PreparedStatement del = writer.prepareStatement("DELETE FROM console_session WHERE expires_at < ?")) {
                del.setLong(1, Micros.of(now.minus(Duration.ofDays(1))));
                del.executeUpdate();
            }
            try (PreparedStatement ps = writer.prepareStatement("INSERT INTO console_session (id_hash, subject, groups_json, claims_json,"
                    + " issuer, client_id, created_at, last_seen_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)")) {
                ps.setString(1, hash);
                ps.setString(2, who.subject());
                ps.setString(3, groups);
                ps.setString(4, claims);
                ps.setString(5, who.issuer());
                ps.setString(6, who.clientId());
                ps.setLong(7, Micros.of(now));
                ps.setLong(8, Micros.of(now));
                ps.setLong(9, Micros.of(expires));
                ps.executeUpdate();
            }
            return null;
        });
        return new Started(cookie, session(hash, cookie, who.subject(), who.groups(), who.claims(), who.issuer(), who.clientId(), expires));
    }

    /** The session as the API sees it: its token id names the session ({@code console:} and the hash's first 16 hex digits). */
    private static Session session(String hash, String cookie, String subject, Set<String> groups, Map<String, String> claims,
                                   String issuer, String clientId, Instant expiresAt) {
        Identity identity = new Identity(subject, groups, "console:" + hash.substring(0, 16), clientId, issuer, claims, expiresAt);
        return new Session(hash, identity, csrfToken(cookie), expiresAt);
    }

    /**
     * The session a cookie opens, or empty when it opens none: unknown (tampered, from another gateway),
     * signed out, expired or idle too long. Each answer is read from the store: a sign-out through one
     * replica ends the session on all.
     */
    public Optional<Session> find(String cookie) {
        if (cookie == null || !wellFormed(cookie)) return Optional.empty();
        String hash = Sha256.hex(cookie);
        Instant now = clock.instant();
        Row row;
        try (Connection c = store.reader();
             PreparedStatement ps = c.prepareStatement("SELECT subject, groups_json, claims_json, issuer, client_id, last_seen_at,"
                     + " expires_at, ended_at FROM console_session WHERE id_hash = ?")) {
            ps.setString(1, hash);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                row = new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        Micros.toInstant(rs.getLong(6)), Micros.toInstant(rs.getLong(7)), rs.getLong(8));
            }
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read console sessions from " + store.describe() + ": " + e.getMessage(), e);
        }
        if (row.endedAt != 0 || !now.isBefore(row.expiresAt) || !now.isBefore(row.lastSeen.plus(config.idleTimeout()))) {
            return Optional.empty();
        }
        if (!now.isBefore(row.lastSeen.plus(TOUCH_EVERY))) {
            store.write("note a console session's use", writer -> {
                try (PreparedStatement ps = writer.prepareStatement("UPDATE console_session SET last_seen_at = ? WHERE id_hash = ?")) {
                    ps.setLong(1, Micros.of(now));
                    ps.setString(2, hash);
                    ps.executeUpdate();
                }
                return null;
            });
        }
        Set<String> groups;
        Map<String, String> claims;
        try {
            groups = Set.copyOf(JSON.readValue(row.groups, new TypeReference<List<String>>() { }));
            claims = JSON.readValue(row.claims, new TypeReference<Map<String, String>>() { });
        } catch (IOException e) {
            throw new AuditStoreException("console session " + hash.substring(0, 16) + " is unreadable: " + e.getMessage(), e);
        }
        return Optional.of(session(hash, cookie, row.subject, groups, claims, row.issuer, row.clientId, row.expiresAt));
    }

    private record Row(String subject, String groups, String claims, String issuer, String clientId, Instant lastSeen,
                       Instant expiresAt, long endedAt) {
    }

    /** Ends the session a cookie opens (sign-out); true when there was one. */
    public boolean end(String cookie) {
        if (cookie == null || !wellFormed(cookie)) return false;
        String hash = Sha256.hex(cookie);
        long now = Micros.of(clock.instant());
        return store.write("end a console session", writer -> {
            try (PreparedStatement ps = writer.prepareStatement("UPDATE console_session SET ended_at = ? WHERE id_hash = ? AND ended_at = 0")) {
                ps.setLong(1, now);
                ps.setString(2, hash);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /**
     * The token every state-changing request of a session must carry in {@code X-CSRF-Token}: derived from
     * the cookie (which scripts cannot read), handed to the page by {@code GET /api/v1/me}. Another site can
     * make the browser send the cookie, but cannot learn this.
     */
    static String csrfToken(String cookie) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(
                Sha256.digester().digest(("portcullis-console-csrf\0" + cookie).getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Keeps a sign-in under way: its {@code state} (returned by the provider) and {@code browser} (a cookie
     * set in the browser that started it) are stored as hashes; both must come back together.
     */
    public void savePending(String state, String browser, PendingLogin login) throws TooManySignInsException {
        Instant now = clock.instant();
        boolean saved = store.write("start a console sign-in", writer -> {
            try (PreparedStatement del = writer.prepareStatement("DELETE FROM console_login WHERE expires_at < ?")) {
                del.setLong(1, Micros.of(now));
                del.executeUpdate();
            }
            try (PreparedStatement count = writer.prepareStatement("SELECT COUNT(*) FROM console_login");
                 ResultSet rs = count.executeQuery()) {
                if (rs.next() && rs.getLong(1) >= maxPending) return false;
            }
            try (PreparedStatement ps = writer.prepareStatement("INSERT INTO console_login (state_hash, browser_hash, code_verifier, nonce,"
                    + " next_path, expires_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, Sha256.hex(state));
                ps.setString(2, Sha256.hex(browser));
                ps.setString(3, login.codeVerifier());
                ps.setString(4, login.nonce());
                ps.setString(5, login.next());
                ps.setLong(6, Micros.of(now.plus(LOGIN_TTL)));
                ps.executeUpdate();
            }
            return true;
        });
        if (!saved) throw new TooManySignInsException(maxPending);
    }

    /** More sign-ins are under way than {@link #MAX_PENDING_LOGINS}: none is started until some finish or expire. */
    public static final class TooManySignInsException extends RuntimeException {
        TooManySignInsException(int max) {
            super(max + " sign-ins are under way already (unfinished ones expire after " + LOGIN_TTL.toMinutes() + " minutes)");
        }
    }

    /**
     * Takes a sign-in under way, once: empty when the state is unknown (forged, used, another gateway's),
     * expired, or was started in another browser. A state presented from the wrong browser is used up too,
     * so it cannot be tried again.
     */
    public Optional<PendingLogin> takePending(String state, String browser) {
        if (state == null || state.isEmpty() || state.length() > 512) return Optional.empty();
        String stateHash = Sha256.hex(state);
        Instant now = clock.instant();
        return store.write("finish a console sign-in", writer -> {
            PendingLogin login = null;
            try (PreparedStatement ps = writer.prepareStatement("SELECT browser_hash, code_verifier, nonce, next_path, expires_at"
                    + " FROM console_login WHERE state_hash = ?")) {
                ps.setString(1, stateHash);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && browser != null && MessageDigest.isEqual(rs.getString(1).getBytes(StandardCharsets.US_ASCII),
                            Sha256.hex(browser).getBytes(StandardCharsets.US_ASCII)) && now.isBefore(Micros.toInstant(rs.getLong(5)))) {
                        login = new PendingLogin(rs.getString(2), rs.getString(3), rs.getString(4));
                    }
                }
            }
            try (PreparedStatement del = writer.prepareStatement("DELETE FROM console_login WHERE state_hash = ?")) {
                del.setString(1, stateHash);
                del.executeUpdate();
            }
            return Optional.ofNullable(login);
        });
    }

    /** 32 random bytes, base64url: a cookie, a state, a browser binding. */
    String randomToken() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static boolean wellFormed(String token) {
        return token.length() == 43 && token.chars().allMatch(ch -> Character.isLetterOrDigit(ch) || ch == '-' || ch == '_');
    }

}
