package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code admin.console} and {@code admin.auditors} as the loader reads them: the example, and what it refuses and why. */
class ConsoleConfigTest {
    static final Map<String, String> ENV = Map.of("PORTCULLIS_OIDC_ISSUER", "https://idp.example.com", "PORTCULLIS_OIDC_AUDIENCE", "portcullis",
            "PG_DATABASE", "app", "PG_USER", "gateway", "PG_PASSWORD", "secret", "PORTCULLIS_DATA", "/var/lib/portcullis");
    static final String CONSOLE = """
              console:
                client-id: ${PORTCULLIS_CONSOLE_CLIENT_ID:-portcullis-console}
                client-secret: ${PORTCULLIS_CONSOLE_CLIENT_SECRET:-}     # empty: a public client, protected by PKCE
                redirect-url: ${PORTCULLIS_CONSOLE_URL:-http://127.0.0.1:8080}/console/callback
            """;

    @TempDir
    Path dir;

    String example() throws Exception {
        String yaml = Files.readString(Path.of("examples/postgres.yaml"));
        assertThat(yaml).contains(CONSOLE);
        return yaml;
    }

    GatewayConfig load(String yaml, Map<String, String> env) throws Exception {
        return ConfigLoader.load(Files.writeString(dir.resolve("c.yaml"), yaml), env);
    }

    @Test
    void theExampleHasAPublicClientOnLoopbackAndItsAuditors() throws Exception {
        AdminConfig admin = ConfigLoader.load(Path.of("examples/postgres.yaml"), ENV).admin();
        ConsoleConfig console = admin.console().orElseThrow();
        assertThat(console.clientId()).isEqualTo("portcullis-console");
        assertThat(console.clientSecret()).isEmpty();
        assertThat(console.redirectUri()).isEqualTo(URI.create("http://127.0.0.1:8080/console/callback"));
        assertThat(console.secure()).isFalse();
        assertThat(console.origin()).isEqualTo("http://127.0.0.1:8080");
        assertThat(console.scopes()).contains("openid", "groups");
        assertThat(console.sessionTtl()).isEqualTo(Duration.ofHours(8));
        assertThat(admin.auditors()).containsExactly("dba");
        assertThat(admin.mayAudit(java.util.Set.of("dba"))).isTrue();
        assertThat(admin.mayAudit(java.util.Set.of("agents"))).isFalse();
    }

    @Test
    void behindTlsTheSecretComesFromTheEnvironmentAndTheCookieIsSecure() throws Exception {
        Map<String, String> env = new HashMap<>(ENV);
        env.put("PORTCULLIS_CONSOLE_URL", "https://portcullis.example.com");
        env.put("PORTCULLIS_CONSOLE_CLIENT_SECRET", "s3cret-from-the-idp");
        ConsoleConfig console = load(example(), env).admin().console().orElseThrow();
        assertThat(console.clientSecret()).contains("s3cret-from-the-idp");
        assertThat(console.secure()).isTrue();
        assertThat(console.origin()).isEqualTo("https://portcullis.example.com");
    }

    @Test
    void sessionCookiesNeverCrossTheNetworkInPlaintext() throws Exception {
        Map<String, String> env = new HashMap<>(ENV);
        env.put("PORTCULLIS_CONSOLE_URL", "http://portcullis.example.com:8080");
        assertThatThrownBy(() -> load(example(), env)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("admin.console.redirect-url").hasMessageContaining("use https");
    }

    @Test
    void theRedirectUrlIsTheConsolesCallbackAndOpenidIsAlwaysAsked() throws Exception {
        String yaml = example();
        assertThatThrownBy(() -> load(yaml.replace("}/console/callback", "}/elsewhere"), ENV))
                .hasMessageContaining("admin.console.redirect-url").hasMessageContaining("/console/callback");
        assertThatThrownBy(() -> load(yaml.replace("}/console/callback", "}/console/callback?next=x"), ENV))
                .hasMessageContaining("without a query");
        assertThatThrownBy(() -> load(yaml.replace("    # scopes: [openid, profile, email, groups]", "    scopes: [profile, groups]"), ENV))
                .hasMessageContaining("admin.console.scopes").hasMessageContaining("openid");
        assertThatThrownBy(() -> load(yaml.replace("    client-id: ${PORTCULLIS_CONSOLE_CLIENT_ID:-portcullis-console}\n", ""), ENV))
                .hasMessageContaining("admin.console.client-id");
        assertThatThrownBy(() -> load(yaml.replace("    # session-ttl: 8h", "    session-ttl: forever"), ENV))
                .hasMessageContaining("admin.console.session-ttl");
        assertThatThrownBy(() -> load(yaml.replace("    # idle-timeout: 1h", "    idle-timeout: 1h\n    cookie-domain: example.com"), ENV))
                .hasMessageContaining("cookie-domain");
    }
}
