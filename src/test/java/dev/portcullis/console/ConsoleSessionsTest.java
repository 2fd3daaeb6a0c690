package dev.portcullis.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.ConsoleConfig;
import dev.portcullis.store.EmbeddedStore;
import dev.portcullis.testing.MutableClock;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Console sessions and sign-ins under way, in the embedded store, with time moved by hand. */
class ConsoleSessionsTest {
    static final ConsoleConfig CONFIG = new ConsoleConfig("console", Optional.empty(), URI.create("http://127.0.0.1:8080/console/callback"),
            ConsoleConfig.DEFAULT_SCOPES, Duration.ofHours(8), Duration.ofHours(1));
    static final ConsoleSessions.SignedIn ALICE = new ConsoleSessions.SignedIn("alice", Set.of("dba"), Map.of("email", "alice@example.com"),
            "https://idp.example", "console");

    @TempDir
    Path dir;
    EmbeddedStore store;
    MutableClock clock = new MutableClock(Instant.parse("2026-12-04T09:00:00Z"));
    ConsoleSessions sessions;

    @BeforeEach
    void open() {
        store = EmbeddedStore.open(dir.resolve("portcullis.db"));
        sessions = new ConsoleSessions(store, CONFIG, clock);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void aSessionActsAsWhoSignedInAndNamesItselfNotTheCookie() {
        String cookie = sessions.start(ALICE).cookie();
        ConsoleSessions.Session s = sessions.find(cookie).orElseThrow();
        assertThat(s.identity().subject()).isEqualTo("alice");
        assertThat(s.identity().groups()).containsExactly("dba");
        assertThat(s.identity().tokenId()).startsWith("console:").doesNotContain(cookie);
        assertThat(s.identity().expiresAt()).isEqualTo(Instant.parse("2026-12-04T17:00:00Z"));
        assertThat(s.csrfToken()).isNotEqualTo(cookie).isEqualTo(sessions.find(cookie).orElseThrow().csrfToken());
        assertThat(sessions.find(sessions.start(ALICE).cookie()).orElseThrow().csrfToken()).as("each session its own").isNotEqualTo(s.csrfToken());
    }

    @Test
    void aSessionEndsAfterItsIdleTimeoutButUseKeepsItAlive() {
        String cookie = sessions.start(ALICE).cookie();
        for (int i = 0; i < 6; i++) {
            clock.advance(Duration.ofMinutes(50));
            assertThat(sessions.find(cookie)).as("used every 50 minutes, %d", i).isPresent();
        }
        String idle = sessions.start(ALICE).cookie();
        clock.advance(Duration.ofMinutes(61));
        assertThat(sessions.find(idle)).isEmpty();
    }

    @Test
    void aSessionEndsAtItsFixedExpiryHoweverMuchItIsUsed() {
        String cookie = sessions.start(ALICE).cookie();
        for (int i = 0; i < 16; i++) {
            clock.advance(Duration.ofMinutes(30));
            sessions.find(cookie);
        }
        assertThat(sessions.find(cookie)).as("8 hours after sign-in").isEmpty();
    }

    @Test
    void signingOutEndsItAndOnlyIt() {
        String one = sessions.start(ALICE).cookie();
        String two = sessions.start(ALICE).cookie();
        assertThat(sessions.end(one)).isTrue();
        assertThat(sessions.end(one)).isFalse();
        assertThat(sessions.find(one)).isEmpty();
        assertThat(sessions.find(two)).isPresent();
        assertThat(sessions.find(null)).isEmpty();
        assertThat(sessions.find("not-a-cookie")).isEmpty();
    }

    @Test
    void aSignInUnderWayIsTakenOnceFromTheBrowserThatStartedItWithinTenMinutes() {
        ConsoleSessions.PendingLogin login = new ConsoleSessions.PendingLogin("verifier", "nonce", "/console/live");
        sessions.savePending("state-1", "browser-1", login);
        assertThat(sessions.takePending("state-1", "browser-2")).as("another browser").isEmpty();
        assertThat(sessions.takePending("state-1", "browser-1")).as("used up by the attempt above").isEmpty();

        sessions.savePending("state-2", "browser-1", login);
        assertThat(sessions.takePending("state-2", "browser-1")).contains(login);
        assertThat(sessions.takePending("state-2", "browser-1")).as("once").isEmpty();

        sessions.savePending("state-3", "browser-1", login);
        clock.advance(Duration.ofMinutes(10).plusSeconds(1));
        assertThat(sessions.takePending("state-3", "browser-1")).as("expired").isEmpty();
        assertThat(sessions.takePending(null, "browser-1")).isEmpty();
        assertThat(sessions.takePending("state-4", null)).isEmpty();
    }

    @Test
    void signInsUnderWayAreBoundedSoAFloodCannotFillTheStore() {
        ConsoleSessions few = new ConsoleSessions(store, CONFIG, clock, 3);
        ConsoleSessions.PendingLogin login = new ConsoleSessions.PendingLogin("verifier", "nonce", "/console/live");
        for (int i = 0; i < 3; i++) few.savePending("state-" + i, "browser", login);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> few.savePending("state-3", "browser", login))
                .isInstanceOf(ConsoleSessions.TooManySignInsException.class).hasMessageContaining("expire after 10 minutes");
        assertThat(few.takePending("state-0", "browser")).contains(login);
        few.savePending("state-3", "browser", login); // one finished: room for one more
        clock.advance(Duration.ofMinutes(11));
        for (int i = 4; i < 7; i++) few.savePending("state-" + i, "browser", login); // the unfinished ones expired
    }

}
