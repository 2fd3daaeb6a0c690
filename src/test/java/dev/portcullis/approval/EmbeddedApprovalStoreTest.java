package dev.portcullis.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.approval.ApprovalRequest.Approval;
import dev.portcullis.approval.ApprovalRequest.Denial;
import dev.portcullis.approval.ApprovalRequest.Requester;
import dev.portcullis.store.EmbeddedStore;
import dev.portcullis.store.Migrations;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqlApprovalStoreTest {
    static final Instant T0 = Instant.parse("2026-11-23T09:00:00.123456Z");

    @TempDir
    Path dir;

    static ApprovalRequest pending(String id, Instant created) {
        return new ApprovalRequest(id, "orders-db", new Requester("agent-7", Set.of("agents", "ci"), "jti-7"), "sql",
                "DELETE FROM orders WHERE id = $1", "DELETE FROM orders WHERE id = $1\nparameters: [42]", "sha256:" + "ab".repeat(32), "prod-writes", "needs a DBA",
                List.of("dba", "sre"), 2, List.of(), ApprovalState.PENDING, Optional.empty(), created,
                created.plusSeconds(600), 1, Optional.empty());
    }

    @Test
    void aRequestRoundTripsWithEveryFieldAndSurvivesReopening() {
        ApprovalRequest r = pending("apr_aaaaaaaaaaaaaaaaaaaa", T0);
        ApprovalRequest decided = new ApprovalRequest(r.id(), r.connection(), r.requester(), r.protocol(), r.summary(),
                r.detail(), r.fingerprint(), r.ruleId(), r.reason(), r.approverGroups(), r.approvalsRequired(),
                List.of(new Approval("alice", T0.plusSeconds(5))), ApprovalState.DENIED,
                Optional.of(new Denial("bob", "not now", T0.plusSeconds(9))), r.createdAt(), r.expiresAt(), 2, Optional.empty());
        Path file = dir.resolve("p.db");
        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            new SqlApprovalStore(store).insert(r);
            assertThat(new SqlApprovalStore(store).get(r.id())).contains(r);
            assertThat(new SqlApprovalStore(store).update(decided)).isTrue();
        }
        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            assertThat(new SqlApprovalStore(store).get(r.id())).contains(decided);
            assertThat(new SqlApprovalStore(store).get("apr_missing")).isEmpty();
        }
    }

    @Test
    void anUpdateFromAStaleVersionChangesNothing() {
        try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("p.db"))) {
            ApprovalStore approvals = new SqlApprovalStore(store);
            ApprovalRequest r = pending("apr_bbbbbbbbbbbbbbbbbbbb", T0);
            approvals.insert(r);
            ApprovalRequest first = withState(r, ApprovalState.APPROVED, 2);
            ApprovalRequest racing = withState(r, ApprovalState.DENIED, 2);

            assertThat(approvals.update(first)).isTrue();
            assertThat(approvals.update(racing)).isFalse();
            assertThat(approvals.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.APPROVED);
        }
    }

    @Test
    void listingFiltersByStateOldestFirst() {
        try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("p.db"))) {
            ApprovalStore approvals = new SqlApprovalStore(store);
            ApprovalRequest later = pending("apr_cccccccccccccccccccc", T0.plusSeconds(60));
            ApprovalRequest earlier = pending("apr_dddddddddddddddddddd", T0);
            ApprovalRequest released = pending("apr_eeeeeeeeeeeeeeeeeeee", T0.plusSeconds(1));
            approvals.insert(later);
            approvals.insert(earlier);
            approvals.insert(released);
            approvals.update(withState(released, ApprovalState.RELEASED, 2));

            assertThat(approvals.list(Optional.of(ApprovalState.PENDING), 100)).extracting(ApprovalRequest::id)
                    .containsExactly(earlier.id(), later.id());
            assertThat(approvals.list(Optional.empty(), 100)).extracting(ApprovalRequest::id)
                    .containsExactly(earlier.id(), released.id(), later.id());
            assertThat(approvals.list(Optional.empty(), 1)).hasSize(1);
        }
    }

    @Test
    void aStoreCreatedBeforeApprovalsIsMigratedAndKeepsItsAuditTrail() throws Exception {
        Path file = dir.resolve("old.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.execute("BEGIN");
            // exactly what a version-1 build did
            for (String sql : Migrations.ALL.getFirst().statements()) st.execute(sql);
            st.execute("CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
            st.execute("INSERT INTO schema_version VALUES (1, 'audit', 0)");
            st.execute("COMMIT");
        }

        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            new SqlApprovalStore(store).insert(pending("apr_ffffffffffffffffffff", T0));
            assertThat(new SqlApprovalStore(store).list(Optional.empty(), 10)).hasSize(1);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version FROM schema_version ORDER BY version")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(1);
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(2);
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(3);
        }
    }

    private static ApprovalRequest withState(ApprovalRequest r, ApprovalState state, long version) {
        return new ApprovalRequest(r.id(), r.connection(), r.requester(), r.protocol(), r.summary(), r.detail(), r.fingerprint(),
                r.ruleId(), r.reason(), r.approverGroups(), r.approvalsRequired(), r.approvals(), state, r.denial(),
                r.createdAt(), r.expiresAt(), version, r.grant());
    }
}
