package dev.portcullis.approval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.approval.ApprovalRequest.Approval;
import dev.portcullis.approval.ApprovalRequest.Denial;
import dev.portcullis.approval.ApprovalRequest.Grant;
import dev.portcullis.approval.ApprovalRequest.Requester;
import dev.portcullis.store.AuditStoreException;
import dev.portcullis.store.SqlStore;
import dev.portcullis.store.Micros;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/**
 * Approval requests in the {@code approval_request} table of a SQL store: the embedded SQLite file
 * (its migrations 2 and 3) or PostgreSQL shared by replicas (its Flyway migrations), in SQL both run.
 * Here, not in {@code store}: the store keeps bytes and knows nothing of approvals. Every change tells
 * the store, which tells the other gateways sharing it.
 */
public final class SqlApprovalStore implements ApprovalStore {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS = "id, state, version, connection_name, requester_subject, requester_groups,"
            + " requester_token_id, protocol, summary, fingerprint, rule_id, reason, approver_groups,"
            + " approvals_required, approvals, denial, created_at, expires_at, grant_seconds, grant_until, detail";

    private final SqlStore store;

    public SqlApprovalStore(SqlStore store) {
        this.store = store;
    }

    @Override
    public void insert(ApprovalRequest r) {
        store.write("store approval request " + r.id(), writer -> {
            try (PreparedStatement ps = writer.prepareStatement("INSERT INTO approval_request (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, r.id());
                ps.setString(2, r.state().label());
                ps.setLong(3, r.version());
                ps.setString(4, r.connection());
                ps.setString(5, r.requester().subject());
                ps.setString(6, strings(r.requester().groups().stream().sorted().toList()));
                ps.setString(7, r.requester().tokenId());
                ps.setString(8, r.protocol());
                ps.setString(9, r.summary());
                ps.setString(10, r.fingerprint());
                ps.setString(11, r.ruleId());
                ps.setString(12, r.reason());
                ps.setString(13, strings(r.approverGroups()));
                ps.setInt(14, r.approvalsRequired());
                ps.setString(15, approvals(r.approvals()));
                ps.setString(16, denial(r.denial()));
                ps.setLong(17, Micros.of(r.createdAt()));
                ps.setLong(18, Micros.of(r.expiresAt()));
                ps.setLong(19, r.grant().map(g -> g.duration().toSeconds()).orElse(0L));
                ps.setLong(20, grantUntil(r));
                ps.setString(21, r.detail());
                int rows = ps.executeUpdate();
                store.approvalChanged(writer, r.id());
                return rows;
            }
        });
    }

    @Override
    public boolean update(ApprovalRequest next) {
        return store.write("update approval request " + next.id(), writer -> {
            // Only what a decision changes; the rest is fixed at creation.
            try (PreparedStatement ps = writer.prepareStatement("UPDATE approval_request SET state = ?, version = ?,"
                    + " approvals = ?, denial = ?, grant_until = ? WHERE id = ? AND version = ?")) {
                ps.setString(1, next.state().label());
                ps.setLong(2, next.version());
                ps.setString(3, approvals(next.approvals()));
                ps.setString(4, denial(next.denial()));
                ps.setLong(5, grantUntil(next));
                ps.setString(6, next.id());
                ps.setLong(7, next.version() - 1);
                boolean updated = ps.executeUpdate() == 1;
                if (updated) store.approvalChanged(writer, next.id());
                return updated;
            }
        });
    }

    @Override
    public Optional<ApprovalRequest> get(String id) {
        try (Connection c = store.reader(); PreparedStatement ps = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM approval_request WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(request(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new AuditStoreException("cannot read approval request " + id + " from " + store.describe() + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public List<ApprovalRequest> list(Optional<ApprovalState> state, int limit) {
        try (Connection c = store.reader(); PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                + " FROM approval_request WHERE (? = '' OR state = ?) ORDER BY created_at, id LIMIT ?")) {
            String s = state.map(ApprovalState::label).orElse("");
            ps.setString(1, s);
            ps.setString(2, s);
            ps.setInt(3, limit);
            List<ApprovalRequest> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(request(rs));
            }
            return out;
        } catch (SQLException e) {
            throw new AuditStoreException("cannot list approval requests in " + store.describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<ApprovalRequest> grants(String subject, String connection, String ruleId) {
        try (Connection c = store.reader(); PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                + " FROM approval_request WHERE requester_subject = ? AND connection_name = ? AND rule_id = ?"
                + " AND grant_seconds > 0 AND state IN ('pending', 'approved') ORDER BY created_at, id")) {
            ps.setString(1, subject);
            ps.setString(2, connection);
            ps.setString(3, ruleId);
            List<ApprovalRequest> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(request(rs));
            }
            return out;
        } catch (SQLException e) {
            throw new AuditStoreException("cannot look up grants in " + store.describe() + ": " + e.getMessage(), e);
        }
    }

    private static ApprovalRequest request(ResultSet rs) throws SQLException {
        long grantSeconds = rs.getLong(19);
        long grantUntil = rs.getLong(20);
        Optional<Grant> grant = grantSeconds <= 0 ? Optional.empty() : Optional.of(new Grant(
                Duration.ofSeconds(grantSeconds), grantUntil == 0 ? Optional.empty() : Optional.of(Micros.toInstant(grantUntil))));
        return new ApprovalRequest(rs.getString(1), rs.getString(4),
                new Requester(rs.getString(5), new LinkedHashSet<>(strings(rs.getString(6))), rs.getString(7)),
                rs.getString(8), rs.getString(9), rs.getString(21), rs.getString(10), rs.getString(11), rs.getString(12),
                strings(rs.getString(13)), rs.getInt(14), approvals(rs.getString(15)),
                ApprovalState.fromLabel(rs.getString(2)), denial(rs.getString(16)),
                Micros.toInstant(rs.getLong(17)), Micros.toInstant(rs.getLong(18)), rs.getLong(3), grant);
    }

    private static long grantUntil(ApprovalRequest r) {
        return r.grant().flatMap(Grant::until).map(Micros::of).orElse(0L);
    }

    private static String strings(List<String> values) {
        ArrayNode a = JSON.createArrayNode();
        values.forEach(a::add);
        return a.toString();
    }

    private static List<String> strings(String json) {
        List<String> out = new ArrayList<>();
        parse(json).forEach(v -> out.add(v.asText()));
        return out;
    }

    private static String approvals(List<Approval> approvals) {
        ArrayNode a = JSON.createArrayNode();
        for (Approval ap : approvals) a.addObject().put("subject", ap.subject()).put("at", Micros.of(ap.at()));
        return a.toString();
    }

    private static List<Approval> approvals(String json) {
        List<Approval> out = new ArrayList<>();
        parse(json).forEach(v -> out.add(new Approval(v.path("subject").asText(), Micros.toInstant(v.path("at").asLong()))));
        return out;
    }

    private static String denial(Optional<Denial> denial) {
        if (denial.isEmpty()) return "{}";
        Denial d = denial.get();
        ObjectNode o = JSON.createObjectNode();
        o.put("subject", d.subject()).put("reason", d.reason()).put("at", Micros.of(d.at()));
        return o.toString();
    }

    private static Optional<Denial> denial(String json) {
        JsonNode o = parse(json);
        if (!o.has("subject")) return Optional.empty();
        return Optional.of(new Denial(o.path("subject").asText(), o.path("reason").asText(),
                Micros.toInstant(o.path("at").asLong())));
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new AuditStoreException("an approval request row holds malformed JSON: " + e.getOriginalMessage(), e);
        }
    }
}
