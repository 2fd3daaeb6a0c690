package dev.portcullis.bench;

import dev.portcullis.config.ConfigLoader;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.dev.DevIssuer;
import dev.portcullis.identity.IdentityConfig;
import dev.portcullis.identity.TokenVerifier;
import dev.portcullis.masking.Detector;
import dev.portcullis.masking.JsonMasker;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.policy.Decision;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.AuditEvent;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.recording.Excerpt;
import dev.portcullis.recording.SessionRecorder;
import dev.portcullis.recording.Timings;
import dev.portcullis.recording.Upstream;
import dev.portcullis.sql.SqlParser;
import dev.portcullis.store.LoggedStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The stages every operation passes, each on its own: what one operation costs in each, so a change
 * to one of them shows here before it shows (or hides) in the end-to-end scripts. Run with
 * {@code bench/jmh.sh}; {@code -prof gc} adds allocation per operation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class HotStages {

    /** A GET of one Okta user, as the HTTP benchmark sends it: 1 KB of JSON with an email and phones. */
    static final String USER = """
            {"id":"00ub0oNGTSWTBKOLGLNR","status":"ACTIVE","created":"2013-06-24T16:39:18.000Z","activated":"2013-06-24T16:39:19.000Z",\
            "statusChanged":"2013-06-24T16:39:19.000Z","lastLogin":"2013-06-24T17:39:19.000Z","lastUpdated":"2013-07-02T21:36:25.344Z",\
            "passwordChanged":"2013-07-02T21:36:25.344Z","type":{"id":"otyfnjfba4ye7pgjB0g4"},"profile":{"firstName":"Isaac",\
            "lastName":"Brock","email":"isaac.brock@example.com","login":"isaac.brock@example.com","mobilePhone":"+1-555-415-1337",\
            "secondEmail":null,"title":"Engineer","notes":"call +44 20 7946 0958 after 5pm"},"credentials":{"password":{},\
            "provider":{"type":"OKTA","name":"OKTA"}},"_links":{"self":{"href":"https://example.okta.com/api/v1/users/00ub0oNGTSWTBKOLGLNR"}}}""";

    static final String POLICY = """
            rules:
              - id: no-deletes
                when: {http: {methods: [DELETE]}}
                action: deny
              - id: admin-roles
                when: {http: {methods: [POST], paths: ["/api/v1/users/{id}/roles"]}}
                action: require-approval
                approvers: [okta-admins]
              - id: agents-read-users
                when: {groups: [agents], http: {methods: [GET], paths: [/api/v1/users, "/api/v1/users/{id}"]}}
                action: allow
                mask: {fields: [profile.email, profile.mobilePhone], detectors: [email, phone]}
            """;

    DevIssuer issuer;
    TokenVerifier verifier;
    String token;
    Policy policy;
    Identity agent;
    HttpCall getUser;
    JsonMasker masker;
    MaskPlan plan;
    Path dir;
    LoggedStore store;
    DurableRecorder recorder;
    SessionRecorder session;
    AuditEvent event;
    final AtomicLong literal = new AtomicLong();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        issuer = DevIssuer.start(0, DevIssuer.DEFAULT_AUDIENCE);
        verifier = TokenVerifier.create(new IdentityConfig(issuer.issuer(), DevIssuer.DEFAULT_AUDIENCE, "groups",
                Set.of("RS256", "ES256"), Duration.ofSeconds(30), 8192, Optional.empty(), Duration.ofSeconds(30)), Clock.systemUTC());
        token = issuer.mint("agent-1", List.of("agents"), Duration.ofHours(2));
        agent = verifier.verify(token);
        policy = ConfigLoader.loadPolicy("bench-policy", POLICY);
        getUser = new HttpCall("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR", "", Map.of(), "", Optional.empty(), 0);
        masker = new JsonMasker();
        plan = new MaskPlan(List.of("profile.email", "profile.mobilePhone"), Set.of(Detector.EMAIL, Detector.PHONE));
        SqlParser.parse("SELECT abalance FROM pgbench_accounts WHERE aid = 1");
        dir = Files.createTempDirectory("portcullis-jmh");
        store = LoggedStore.open(dir.resolve("bench.db"));
        recorder = new DurableRecorder(store, Clock.systemUTC());
        session = recorder.sessionFor(agent, "okta", "http", "127.0.0.1");
        Decision decision = policy.decide(agent, getUser);
        event = AuditEvent.OperationRecorded.of(getUser, Excerpt.NONE, decision, new Upstream.Responded(200),
                new Excerpt(USER.substring(0, 200), true, USER.length()), new Timings(10, 100, 200));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        recorder.close();
        store.close();
        issuer.close();
    }

    /** An agent's repeated call: its token was verified before, so this is a hash and a cache lookup. */
    @Benchmark
    public Identity tokenCacheHit() throws Exception {
        return verifier.verify(token);
    }

    /** Three rules, the third matching with a mask plan. */
    @Benchmark
    public Verdict policyDecision() {
        return policy.decide(agent, getUser).verdict();
    }

    /** A statement seen before, without constants: the exact-text cache answers. */
    @Benchmark
    public Object sqlAnalysisHit() throws Exception {
        return SqlParser.parse("SELECT abalance FROM pgbench_accounts WHERE aid = $1");
    }

    /**
     * pgbench -S: the same statement with another constant each time. Its shape (the lexer's tokens with
     * the constant taken out) was analysed before: the shape cache answers after a scan of the text.
     */
    @Benchmark
    public Object sqlAnalysisNewConstant() throws Exception {
        return SqlParser.parse("SELECT abalance FROM pgbench_accounts WHERE aid = " + literal.incrementAndGet());
    }

    /** A text never seen in any shape (a new column alias each time): libpg_query parses, the tree is analysed. */
    @Benchmark
    public Object sqlAnalysisMiss() throws Exception {
        return SqlParser.parse("SELECT abalance AS a" + literal.incrementAndGet() + " FROM pgbench_accounts WHERE aid = 1");
    }

    /** The 1 KB user body through the streaming masker with field rules and detectors. */
    @Benchmark
    public String jsonMasking1KB() throws Exception {
        return masker.maskJson(USER, plan);
    }

    /** One operation's outcome recorded as for a read: linked into both chains and written to the trail (no fsync). */
    @Benchmark
    public void eventAppend() {
        session.record(event);
    }

    /** As for a change to a target: written and forced to disk (fsync) before the call returns. */
    @Benchmark
    public void eventAppendSynced() {
        session.recordSynced(event);
    }
}
