package dev.portcullis.dev;

import com.okta.sdk.authc.credentials.TokenClientCredentials;
import com.okta.sdk.cache.Caches;
import com.okta.sdk.client.Clients;
import com.okta.sdk.resource.api.RoleAssignmentAUserApi;
import com.okta.sdk.resource.api.UserApi;
import com.okta.sdk.resource.api.UserLifecycleApi;
import com.okta.sdk.resource.client.ApiClient;
import com.okta.sdk.resource.client.ApiException;
import com.okta.sdk.resource.common.PagedList;
import com.okta.sdk.resource.model.AssignRoleToUser201Response;
import com.okta.sdk.resource.model.AssignRoleToUserRequest;
import com.okta.sdk.resource.model.RoleAssignmentType;
import com.okta.sdk.resource.model.RoleType;
import com.okta.sdk.resource.model.UpdateUserRequest;
import com.okta.sdk.resource.model.User;
import com.okta.sdk.resource.model.UserGetSingleton;
import com.okta.sdk.resource.model.UserProfile;
import com.okta.sdk.resource.model.UserStatus;
import com.okta.sdk.resource.user.UserBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Okta's own Java SDK (v24), unchanged, against DemoOkta: proof that the stand-in speaks Okta's wire format. */
class DemoOktaSpeaksOktaSdkTest {
    private static final String API_TOKEN = "00demo-api-token";
    private DemoOkta okta;

    @BeforeEach
    void start() {
        TestLogging.quiet();
        okta = DemoOkta.start(0, API_TOKEN, 30);
    }

    @AfterEach
    void stop() {
        okta.close();
    }

    /** The recipe the gateway's tests reuse, with the gateway's URL and the agent's token instead. */
    static ApiClient oktaClient(String orgUrl, String token) {
        // read when the builder is created; the SDK refuses http:// org URLs otherwise
        System.setProperty("okta.testing.disableHttpsCheck", "true");
        return Clients.builder()
                .setOrgUrl(orgUrl)
                .setClientCredentials(new TokenClientCredentials(token))
                .setCacheManager(Caches.newDisabledCacheManager())
                .build();
    }

    @Test
    void sdkListsUsersPageByPageFollowingTheAfterCursor() throws Exception {
        var users = new UserApi(oktaClient(okta.orgUrl().toString(), API_TOKEN));

        List<User> first = users.listUsers(null, null, null, 20, null, null, null, null);

        assertThat(first).hasSize(20);
        assertThat(first).isInstanceOf(PagedList.class);
        var page = (PagedList<User>) first;
        assertThat(page.hasMoreItems()).isTrue();
        assertThat(page.getAfter()).isEqualTo(first.getLast().getId());
        List<User> second = users.listUsers(null, null, page.getAfter(), 20, null, null, null, null);
        assertThat(second).hasSize(10);
        assertThat(((PagedList<User>) second).hasMoreItems()).isFalse();
        assertThat(first.getFirst().getProfile().getMobilePhone()).startsWith("+");
        assertThat(first.getFirst().getCreated()).isNotNull();
        assertThat(okta.received()).allSatisfy(r -> assertThat(r.authorization()).contains("SSWS " + API_TOKEN));
    }

    @Test
    void sdkGetsAUserByIdAndByLogin() throws Exception {
        var users = new UserApi(oktaClient(okta.orgUrl().toString(), API_TOKEN));
        String id = okta.userIds().get(5);

        UserGetSingleton byId = users.getUser(id, null, null);
        UserGetSingleton byLogin = users.getUser(byId.getProfile().getLogin(), null, null);

        assertThat(byLogin.getId()).isEqualTo(id);
        assertThat(byId.getProfile().getEmail()).endsWith("@example.com");
        assertThat(byId.getLinks().getSelf().getHref()).isEqualTo(okta.orgUrl() + "/api/v1/users/" + id);
    }

    @Test
    void sdkCreatesUpdatesAssignsSuperAdminThenDeactivatesAndDeletes() throws Exception {
        ApiClient client = oktaClient(okta.orgUrl().toString(), API_TOKEN);
        var users = new UserApi(client);

        User created = UserBuilder.instance()
                .setEmail("new.hire@example.com")
                .setLogin("new.hire@example.com")
                .setFirstName("New")
                .setLastName("Hire")
                .setMobilePhone("+14155550123")
                .setPassword("Correct-Horse-9".toCharArray())
                .setActive(true)
                .buildAndCreate(users);
        assertThat(created.getId()).startsWith("00u");
        assertThat(created.getStatus()).isEqualTo(UserStatus.ACTIVE);
        assertThat(okta.received().getLast().query()).contains("activate=true");
        assertThat(okta.received().getLast().body()).contains("\"login\"");

        User updated = users.updateUser(created.getId(),
                new UpdateUserRequest().profile(new UserProfile().nickName("Newbie")), null);
        assertThat(updated.getProfile().getNickName()).isEqualTo("Newbie");
        assertThat(updated.getProfile().getLastName()).isEqualTo("Hire");

        var roles = new RoleAssignmentAUserApi(client);
        AssignRoleToUser201Response role =
                roles.assignRoleToUser(created.getId(), new AssignRoleToUserRequest().type("SUPER_ADMIN"), null);
        assertThat(role.getType()).isEqualTo(RoleType.SUPER_ADMIN);
        assertThat(role.getAssignmentType()).isEqualTo(RoleAssignmentType.USER);
        assertThat(role.getLabel()).isEqualTo("Super Administrator");
        assertThat(roles.listAssignedRolesForUser(created.getId(), null)).hasSize(1);

        new UserLifecycleApi(client).deactivateUser(created.getId(), false, null);
        assertThat(users.getUser(created.getId(), null, null).getStatus()).isEqualTo(UserStatus.DEPROVISIONED);
        users.deleteUser(created.getId(), false, null);
        assertThatThrownBy(() -> users.getUser(created.getId(), null, null))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getCode()).isEqualTo(404));
    }

    @Test
    void sdkWithTheWrongTokenGets401() {
        var users = new UserApi(oktaClient(okta.orgUrl().toString(), "not-the-api-token"));

        assertThatThrownBy(() -> users.listUsers(null, null, null, 5, null, null, null, null))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(401);
                    assertThat(e.getResponseBody()).contains("E0000011");
                });
    }

    @Test
    void sdkParsesTenThousandUsersFromOneResponse() throws Exception {
        try (var big = DemoOkta.start(0, API_TOKEN, 10_000)) {
            var users = new UserApi(oktaClient(big.orgUrl().toString(), API_TOKEN));

            List<User> all = users.listUsers(null, null, null, 10_000, null, null, null, null);

            assertThat(all).hasSize(10_000);
            assertThat(all).extracting(User::getId).doesNotHaveDuplicates();
        }
    }
}
