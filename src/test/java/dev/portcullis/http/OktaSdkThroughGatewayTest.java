package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.okta.sdk.authc.credentials.TokenClientCredentials;
import com.okta.sdk.cache.Caches;
import com.okta.sdk.client.Clients;
import com.okta.sdk.resource.api.RoleAssignmentAUserApi;
import com.okta.sdk.resource.api.UserApi;
import com.okta.sdk.resource.client.ApiClient;
import com.okta.sdk.resource.client.ApiException;
import com.okta.sdk.resource.model.AssignRoleToUserRequest;
import com.okta.sdk.resource.model.User;
import com.okta.sdk.resource.model.UserGetSingleton;
import com.okta.sdk.resource.user.UserBuilder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Okta's own Java SDK, unchanged: its org URL is the gateway and its "API token" is the agent's OIDC
 * token (the SDK sends it as {@code SSWS <token>}).
 */
class OktaSdkThroughGatewayTest {
    @TempDir
    static Path data;

    static OktaGatewayFixture f;
    static ApiClient sdk;

    @BeforeAll
    static void start() throws Exception {
        f = new OktaGatewayFixture(data, 40, OktaGatewayFixture.holdTimeout("2s"));
        // The SDK insists on https unless told it is testing; the gateway listens on loopback http here.
        System.setProperty("okta.testing.disableHttpsCheck", "true");
        sdk = Clients.builder()
                .setOrgUrl("http://127.0.0.1:" + f.port)
                .setClientCredentials(new TokenClientCredentials(f.token("sdk-agent", "agents")))
                .setCacheManager(Caches.newDisabledCacheManager())
                .build();
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @Test
    void theSdkListsUsersPageByPageWithContactDetailsMasked() throws Exception {
        f.okta.reset();
        List<User> page = new UserApi(sdk).listUsers(null, null, null, 15, null, null, null, null);

        assertThat(page).hasSize(15);
        assertThat(page).allSatisfy(u -> {
            assertThat(u.getProfile().getEmail()).isEqualTo("[masked]");
            assertThat(u.getProfile().getMobilePhone()).isEqualTo("[masked]");
        });
        assertThat(f.okta.received()).isNotEmpty().allSatisfy(r ->
                assertThat(r.authorization()).contains("SSWS " + OktaGatewayFixture.OKTA_API_TOKEN));
    }

    @Test
    void theSdkReadsOneUser() throws Exception {
        String id = f.okta.userIds().get(7);
        UserGetSingleton user = new UserApi(sdk).getUser(id, null, null);

        assertThat(user.getId()).isEqualTo(id);
        assertThat(user.getProfile().getEmail()).isEqualTo("[masked]");
    }

    @Test
    void theSdkCreatesAUser() throws Exception {
        User created = UserBuilder.instance()
                .setEmail("grace@example.com").setLogin("grace@example.com")
                .setFirstName("Grace").setLastName("Hopper")
                .setActive(true)
                .buildAndCreate(new UserApi(sdk));

        assertThat(created.getId()).startsWith("00u");
        assertThat(created.getProfile().getEmail()).isEqualTo("[masked]");
    }

    @Test
    void theSdkCannotDeleteAUserAndOktaNeverHearsOfIt() {
        f.okta.reset();
        String id = f.okta.userIds().get(2);

        assertThatThrownBy(() -> new UserApi(sdk).deleteUser(id, false, null))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(403);
                    assertThat(e.getResponseBody()).contains("no-user-deletion");
                });
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void theSdkCannotGrantSuperAdminWithoutApproval() {
        f.okta.reset();
        String id = f.okta.userIds().get(2);

        assertThatThrownBy(() -> new RoleAssignmentAUserApi(sdk)
                .assignRoleToUser(id, new AssignRoleToUserRequest().type("SUPER_ADMIN"), null))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(403);
                    assertThat(e.getResponseBody()).contains("admin-roles-need-approval");
                });
        assertThat(f.okta.received()).isEmpty();
    }
}
