package dev.portcullis.netagent;

import dev.portcullis.core.Sha256;
import dev.portcullis.store.Micros;
import dev.portcullis.store.SqlStore;
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
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Which network agents may connect, kept in the gateway's store so that every replica knows them: a
 * one-time join token (only its SHA-256 is stored) until the agent enrols, then the fingerprint of the
 * key its certificates are issued for. Revoking an agent clears that key: its certificate no longer logs
 * in anywhere, and a replica that holds its tunnel drops it at its next check.
 */
public final class AgentRegistry {
    private final SqlStore store;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public AgentRegistry(SqlStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** An agent as listed. Times are absent (null) where the event has not happened. */
    public record Agent(String name, Instant created, Instant joinExpires, Instant enrolled, Instant revoked, String keyFingerprint) {
        public String state() {
            if (revoked != null) return "revoked";
            if (enrolled != null && !keyFingerprint.isEmpty()) return "enrolled";
            return "awaiting-enrolment";
        }
    }

    /**
     * A new one-time join token for {@code name}, valid for {@code ttl}. For an agent that was revoked it
     * starts over (its old key stays refused); for an enrolled one it allows re-enrolment with a new key.
     */
    public String createJoinToken(String name, Duration ttl) {
        byte[] secret = new byte[24];
        random.nextBytes(secret);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        long now = Micros.of(clock.instant());
        long expires = Micros.of(clock.instant().plus(ttl));
        store.write("create a join token for agent " + name, writer -> {
            Optional<Agent> existing = find(writer, name);
            if (existing.isEmpty()) {
                try (PreparedStatement ps = writer.prepareStatement("INSERT INTO network_agent (name, join_token_hash, join_expires_at,"
                        + " join_used_at, key_fingerprint, created_at, enrolled_at, revoked_at) VALUES (?, ?, ?, 0, '', ?, 0, 0)")) {
                    ps.setString(1, name);
                    ps.setString(2, Sha256.hex(token));
                    ps.setLong(3, expires);
                    ps.setLong(4, now);
                    ps.executeUpdate();
                }
            } else {
                boolean revoked = existing.get().revoked() != null;
                try (PreparedStatement ps = writer.prepareStatement("UPDATE network_agent SET join_token_hash = ?, join_expires_at = ?,"
                        + " join_used_at = 0, revoked_at = 0" + (revoked ? ", key_fingerprint = '', enrolled_at = 0" : "") + " WHERE name = ?")) {
                    ps.setString(1, Sha256.hex(token));
                    ps.setLong(2, expires);
                    ps.setString(3, name);
                    ps.executeUpdate();
                }
            }
            return null;
        });
        return token;
    }

    /**
     * Redeems a join token for {@code name}, binding the agent to the key with {@code keyFingerprint};
     * returns why not (the token is wrong, used, expired, the agent unknown), or empty once enrolled.
     */
    public Optional<String> enrol(String name, String token, String keyFingerprint) {
        return store.write("enrol agent " + name, writer -> {
            Optional<Stored> row = stored(writer, name);
            if (row.isEmpty()) return Optional.of("no join token was created for agent " + name);
            Optional<String> refusal = joinRefusal(row.get(), name, token);
            if (refusal.isPresent()) return refusal;
            try (PreparedStatement ps = writer.prepareStatement("UPDATE network_agent SET join_used_at = ?, key_fingerprint = ?,"
                    + " enrolled_at = ?, revoked_at = 0 WHERE name = ?")) {
                long now = Micros.of(clock.instant());
                ps.setLong(1, now);
                ps.setString(2, keyFingerprint);
                ps.setLong(3, now);
                ps.setString(4, name);
                ps.executeUpdate();
            }
            return Optional.empty();
        });
    }

    /** Why {@code token} cannot enrol agent {@code name} now (checked, not redeemed), or empty. */
    public Optional<String> checkJoin(String name, String token) {
        try (Connection c = store.reader()) {
            Optional<Stored> row = stored(c, name);
            if (row.isEmpty()) return Optional.of("no join token was created for agent " + name);
            return joinRefusal(row.get(), name, token);
        } catch (SQLException e) {
            return Optional.of("the store cannot be read: " + e.getMessage()); // fail closed
        }
    }

    private Optional<String> joinRefusal(Stored s, String name, String token) {
        if (!MessageDigest.isEqual(s.tokenHash().getBytes(StandardCharsets.US_ASCII), Sha256.hex(token).getBytes(StandardCharsets.US_ASCII))) {
            return Optional.of("wrong join token for agent " + name);
        }
        if (s.usedAt() != 0) return Optional.of("this join token was used already (at " + Micros.toInstant(s.usedAt()) + ")");
        if (s.expiresAt() <= Micros.of(clock.instant())) return Optional.of("this join token expired at " + Micros.toInstant(s.expiresAt()));
        return Optional.empty();
    }

    /** Why agent {@code name} may not log in with the key {@code keyFingerprint}, or empty when it may. */
    public Optional<String> refusal(String name, String keyFingerprint) {
        try (Connection c = store.reader()) {
            Optional<Agent> a = find(c, name);
            if (a.isEmpty()) return Optional.of("agent " + name + " is not known to this gateway");
            if (a.get().revoked() != null) return Optional.of("agent " + name + " was revoked at " + a.get().revoked());
            if (!a.get().keyFingerprint().equals(keyFingerprint)) return Optional.of("agent " + name + " is enrolled with another key");
            return Optional.empty();
        } catch (SQLException e) {
            return Optional.of("the store cannot be read: " + e.getMessage()); // fail closed
        }
    }

    /** Revokes agent {@code name}: its key no longer logs in; returns false when there is no such agent. */
    public boolean revoke(String name) {
        return store.write("revoke agent " + name, writer -> {
            try (PreparedStatement ps = writer.prepareStatement("UPDATE network_agent SET revoked_at = ?, key_fingerprint = '',"
                    + " join_used_at = CASE WHEN join_used_at = 0 THEN ? ELSE join_used_at END WHERE name = ?")) {
                long now = Micros.of(clock.instant());
                ps.setLong(1, now);
                ps.setLong(2, now);
                ps.setString(3, name);
                return ps.executeUpdate() > 0;
            }
        });
    }

    public List<Agent> list() {
        try (Connection c = store.reader(); PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM network_agent ORDER BY name");
             ResultSet rs = ps.executeQuery()) {
            List<Agent> out = new ArrayList<>();
            while (rs.next()) out.add(agent(rs));
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("the store cannot be read: " + e.getMessage(), e);
        }
    }

    private static final String COLUMNS = "name, join_token_hash, join_expires_at, join_used_at, key_fingerprint, created_at, enrolled_at, revoked_at";

    private record Stored(String tokenHash, long expiresAt, long usedAt) {
    }

    private static Optional<Stored> stored(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM network_agent WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                return Optional.of(new Stored(rs.getString(2), rs.getLong(3), rs.getLong(4)));
            }
        }
    }

    private static Optional<Agent> find(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM network_agent WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(agent(rs)) : Optional.empty();
            }
        }
    }

    private static Agent agent(ResultSet rs) throws SQLException {
        return new Agent(rs.getString(1), time(rs.getLong(6)), time(rs.getLong(3)), time(rs.getLong(7)), time(rs.getLong(8)), rs.getString(5));
    }

    private static Instant time(long micros) {
        return micros == 0 ? null : Micros.toInstant(micros);
    }

}
