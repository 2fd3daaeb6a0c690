package dev.portcullis.dev;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** DemoOkta over plain HTTP: Okta's error shapes, pagination headers, the request log. */
class DemoOktaTest {
    private static final String API_TOKEN = "00demo-api-token";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern E164 = Pattern.compile("\\+[1-9]\\d{7,14}");
    private final HttpClient http = HttpClient.newHttpClient();
    private DemoOkta okta;

    @BeforeEach
    void start() {
        TestLogging.quiet();
        okta = DemoOkta.start(0, API_TOKEN, 25);
    }

    @AfterEach
    void stop() {
        okta.close();
        http.close();
    }

    @Test
    void wrongTokenGets401InOktasErrorShapeAndIsStillLogged() throws Exception {
        HttpResponse<String> response = get("/api/v1/users", "Bearer agent.jwt.token");

        assertThat(response.statusCode()).isEqualTo(401);
        JsonNode error = JSON.readTree(response.body());
        assertThat(error.path("errorCode").asText()).isEqualTo("E0000011");
        assertThat(error.path("errorSummary").asText()).isEqualTo("Invalid token provided");
        assertThat(error.path("errorLink").asText()).isEqualTo("E0000011");
        assertThat(error.path("errorId").asText()).startsWith("oae");
        assertThat(error.path("errorCauses").isArray()).isTrue();
        assertThat(okta.received()).singleElement().satisfies(r -> {
            assertThat(r.method()).isEqualTo("GET");
            assertThat(r.path()).isEqualTo("/api/v1/users");
            assertThat(r.authorization()).contains("Bearer agent.jwt.token");
        });
    }

    @Test
    void missingTokenGets401() throws Exception {
        var response = http.send(HttpRequest.newBuilder(okta.orgUrl().resolve("/api/v1/users")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(okta.received().getFirst().authorization()).isEmpty();
    }

    @Test
    void unknownUserGets404E0000007() throws Exception {
        HttpResponse<String> response = get("/api/v1/users/00uNoSuchUser", "SSWS " + API_TOKEN);

        assertThat(response.statusCode()).isEqualTo(404);
        JsonNode error = JSON.readTree(response.body());
        assertThat(error.path("errorCode").asText()).isEqualTo("E0000007");
        assertThat(error.path("errorSummary").asText()).isEqualTo("Not found: Resource not found: 00uNoSuchUser (User)");
    }

    @Test
    void listPagesFollowTheLinkNextHeaderToTheEnd() throws Exception {
        String next = "/api/v1/users?limit=10";
        int pages = 0;
        var seen = new java.util.ArrayList<String>();
        while (next != null) {
            HttpResponse<String> response = get(next, "SSWS " + API_TOKEN);
            assertThat(response.statusCode()).isEqualTo(200);
            JSON.readTree(response.body()).forEach(u -> seen.add(u.path("id").asText()));
            pages++;
            next = response.headers().allValues("link").stream()
                    .filter(l -> l.endsWith("rel=\"next\""))
                    .map(l -> URI.create(l.substring(1, l.indexOf('>'))))
                    .map(u -> u.getRawPath() + "?" + u.getRawQuery())
                    .findFirst().orElse(null);
        }
        assertThat(pages).isEqualTo(3);
        assertThat(seen).doesNotHaveDuplicates().hasSize(25).isEqualTo(okta.userIds());
    }

    @Test
    void usersCarryOktasFieldsE164PhonesAndSomeNotesWithContactDetails() throws Exception {
        JsonNode users = JSON.readTree(get("/api/v1/users?limit=25", "SSWS " + API_TOKEN).body());

        JsonNode first = users.get(0);
        assertThat(first.path("id").asText()).startsWith("00u").hasSize(20);
        for (String field : List.of("status", "created", "activated", "statusChanged", "lastLogin", "lastUpdated",
                "passwordChanged", "type", "profile", "credentials", "_links")) {
            assertThat(first.has(field)).as(field).isTrue();
        }
        assertThat(first.path("credentials").path("provider").path("type").asText()).isEqualTo("OKTA");
        assertThat(first.path("_links").path("self").path("href").asText())
                .isEqualTo(okta.orgUrl() + "/api/v1/users/" + first.path("id").asText());
        users.forEach(u -> assertThat(u.path("profile").path("mobilePhone").asText()).matches(E164));
        assertThat(users.findValuesAsText("notes")).isNotEmpty()
                .anyMatch(n -> n.contains("@example.net") || n.contains("555-01"));
    }

    @Test
    void searchByLoginFindsOneUserAndUnsupportedSearchIs400() throws Exception {
        String login = JSON.readTree(get("/api/v1/users/" + okta.userIds().get(3), "SSWS " + API_TOKEN).body())
                .path("profile").path("login").asText();

        JsonNode found = JSON.readTree(get("/api/v1/users?search=" + java.net.URLEncoder.encode(
                "profile.login eq \"" + login + "\"", java.nio.charset.StandardCharsets.UTF_8), "SSWS " + API_TOKEN).body());

        assertThat(found).hasSize(1);
        assertThat(found.get(0).path("id").asText()).isEqualTo(okta.userIds().get(3));
        assertThat(get("/api/v1/users?search=nonsense", "SSWS " + API_TOKEN).statusCode()).isEqualTo(400);
    }

    @Test
    void requestLogKeepsMethodQueryAuthorizationAndBodyUntilReset() throws Exception {
        String body = "{\"profile\":{\"nickName\":\"Ada\"}}";
        http.send(HttpRequest.newBuilder(okta.orgUrl().resolve("/api/v1/users/" + okta.userIds().getFirst() + "?strict=true"))
                        .header("Authorization", "SSWS " + API_TOKEN)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(okta.received()).singleElement().satisfies(r -> {
            assertThat(r).isEqualTo(new ReceivedRequest("POST", "/api/v1/users/" + okta.userIds().getFirst(), "strict=true",
                    java.util.Optional.of("SSWS " + API_TOKEN), body, r.headerNames()));
            assertThat(r.headerNames()).contains("authorization", "content-type");
        });
        okta.reset();
        assertThat(okta.received()).isEmpty();
    }

    @Test
    void rateLimitHeadersAreSentLikeOktas() throws Exception {
        HttpResponse<String> response = get("/api/v1/users?limit=1", "SSWS " + API_TOKEN);

        assertThat(response.headers().firstValue("X-Rate-Limit-Limit")).contains("600");
        assertThat(response.headers().firstValue("X-Rate-Limit-Remaining")).isPresent();
        assertThat(response.headers().firstValue("X-Rate-Limit-Reset")).isPresent();
    }

    @Test
    void tenThousandUsersStreamInOneResponse() throws Exception {
        try (var big = DemoOkta.start(0, API_TOKEN, 10_000)) {
            HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(big.orgUrl().resolve("/api/v1/users?limit=10000"))
                    .header("Authorization", "SSWS " + API_TOKEN).build(), HttpResponse.BodyHandlers.ofByteArray());

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body().length).isGreaterThan(5_000_000);
            JsonNode users = JSON.readTree(response.body());
            assertThat(users).hasSize(10_000);
            assertThat(response.headers().allValues("link")).noneMatch(l -> l.contains("rel=\"next\""));
        }
    }

    private HttpResponse<String> get(String pathAndQuery, String authorization) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(okta.orgUrl() + pathAndQuery))
                .header("Authorization", authorization).build(), HttpResponse.BodyHandlers.ofString());
    }
}
