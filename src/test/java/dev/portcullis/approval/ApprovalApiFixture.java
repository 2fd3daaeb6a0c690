package dev.portcullis.approval;

import dev.portcullis.config.AdminConfig;
import dev.portcullis.config.TlsConfig;
import dev.portcullis.core.Identity;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.identity.IdentityConfig;
import dev.portcullis.identity.TokenVerifier;
import dev.portcullis.policy.Verdict.HoldForApproval;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.server.AdminServer;
import dev.portcullis.server.GatewayMetrics;
import dev.portcullis.store.EmbeddedStore;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;

/**
 * A real OIDC issuer (mock-oauth2-server), the embedded store, the approval service and an admin
 * listener on a free port serving the approvals API: what the REST and CLI tests talk to.
 */
public final class ApprovalApiFixture implements AutoCloseable {
    public static final String ISSUER_ID = "corp";
    public static final String AUDIENCE = "portcullis";
    public static final String GROUPS_CLAIM = "groups";
    public static final SqlStatement DELETE =
            SqlStatement.unparseable("DELETE FROM orders WHERE id = $1").withParameters(List.of("42"));
    public static final HoldForApproval HOLD = new HoldForApproval("prod-writes", "writes to production need a DBA",
            List.of("dba"), 1, Duration.ofMinutes(10));

    public final MockOAuth2Server issuer;
    public final EmbeddedStore store;
    public final DurableRecorder recorder;
    public final ApprovalService service;
    public final AdminServer admin;
    public final URI base;

    public ApprovalApiFixture(Path dir) throws Exception {
        this(dir, Optional.empty());
    }

    /** @param tls the admin listener's key store: it then serves https only, and {@link #base} is https */
    public ApprovalApiFixture(Path dir, Optional<TlsConfig> tls) throws Exception {
        issuer = new MockOAuth2Server();
        issuer.start(InetAddress.getByName("127.0.0.1"), 0);
        Clock clock = Clock.systemUTC();
        TokenVerifier verifier = TokenVerifier.create(new IdentityConfig(issuer.issuerUrl(ISSUER_ID).uri(), AUDIENCE,
                GROUPS_CLAIM, Set.of("RS256"), Duration.ofSeconds(30), 8192, Optional.empty(), Duration.ofMinutes(1)), clock);
        store = EmbeddedStore.open(dir.resolve("portcullis.db"));
        recorder = new DurableRecorder(store, clock);
        service = new ApprovalService(new SqlApprovalStore(store), recorder, clock);
        AdminConfig config = new AdminConfig(new InetSocketAddress("127.0.0.1", 0), tls, false);
        admin = AdminServer.start(config, List.of(), new GatewayMetrics(), new ApprovalApi(service), verifier);
        base = URI.create(config.scheme() + "://127.0.0.1:" + admin.port());
    }

    /** A token from the gateway's issuer for this subject and groups. */
    public String token(String subject, String... groups) {
        return issuer.issueToken(ISSUER_ID, "approver-cli", new DefaultOAuth2TokenCallback(ISSUER_ID, subject, "JWT",
                List.of(AUDIENCE), Map.of(GROUPS_CLAIM, List.of(groups)), 3600)).serialize();
    }

    /** A token the gateway refuses: right issuer, wrong audience. */
    public String tokenForAnotherAudience(String subject) {
        return issuer.issueToken(ISSUER_ID, "approver-cli", new DefaultOAuth2TokenCallback(ISSUER_ID, subject, "JWT",
                List.of("someone-else"), Map.of(GROUPS_CLAIM, List.of("dba")), 3600)).serialize();
    }

    /** The requester of {@link #pendingRequest()}. */
    public static final Identity AGENT = new Identity("agent-7", Set.of("agents"), "jti-agent-7", "agent", "https://idp",
            Map.of(), Instant.now().plusSeconds(24 * 3600));

    /** A pending request by {@code agent-7} for {@link #DELETE}, held by {@link #HOLD}. */
    public ApprovalRequest pendingRequest() {
        return service.request(AGENT, "orders-db", DELETE, OperationFingerprint.of(DELETE), HOLD, HOLD.holdTimeout());
    }

    @Override
    public void close() throws Exception {
        admin.close();
        recorder.close();
        store.close();
        issuer.shutdown();
    }
}
