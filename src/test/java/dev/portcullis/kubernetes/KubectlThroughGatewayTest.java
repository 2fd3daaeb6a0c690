package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.dev.KubeApiStandIn;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real kubectl (1.27 and 1.33) through the gateway started from {@code examples/kubernetes.yaml},
 * against the Kubernetes API stand-in: what the example allows works as against a cluster, every refusal
 * is a {@code Status} kubectl prints as {@code Error from server (Forbidden)}, and nothing refused
 * reaches the cluster; Secret values never come back; the cluster only ever sees the gateway's token.
 */
class KubectlThroughGatewayTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static KubeGatewayFixture f;
    static String agentToken;
    static Path agent;

    @BeforeAll
    static void start() throws Exception {
        f = new KubeGatewayFixture(dir);
        agentToken = f.token("agent-1", "agents");
        agent = f.kubeconfig("agent", agentToken);
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @BeforeEach
    void forget() {
        f.api.reset();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void anAllowedListWorksAndTheClusterSeesOnlyTheGatewaysToken(String version) throws Exception {
        KubeGatewayFixture.Run run = f.kubectl(version, agent, "get", "pods", "-n", "dev");
        assertThat(run.exit()).as(run.out()).isZero();
        assertThat(run.out()).contains("web-1").contains("NAME");
        assertThat(f.reached("/api/v1/namespaces/dev/pods")).isNotEmpty();
        assertThat(f.api.received()).isNotEmpty().allSatisfy(r ->
                assertThat(r.authorization()).isEqualTo("Bearer " + KubeGatewayFixture.CLUSTER_TOKEN));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void aNamespaceOutsideThePolicyIsForbiddenAndNeverReachesTheCluster(String version) throws Exception {
        KubeGatewayFixture.Run run = f.kubectl(version, agent, "get", "pods", "-n", "kube-system");
        assertThat(run.exit()).isNotZero();
        assertThat(run.out()).contains("Error from server (Forbidden)").contains("list pods in kube-system is forbidden")
                .contains("Portcullis rule default-deny");
        assertThat(f.reached("/api/v1/namespaces/kube-system/pods")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void clusterScopedResourcesAreForbidden(String version) throws Exception {
        for (String[] args : new String[][] {{"get", "namespaces"}, {"get", "--raw", "/apis/rbac.authorization.k8s.io/v1/clusterroles"}, {"get", "--raw", "/api/v1/nodes"},
                {"get", "pods", "--all-namespaces"}}) {
            KubeGatewayFixture.Run run = f.kubectl(version, agent, args);
            assertThat(run.exit()).as(String.join(" ", args)).isNotZero();
            assertThat(run.out()).as(String.join(" ", args)).contains("Error from server (Forbidden)");
        }
        assertThat(f.reached("/api/v1/pods")).isEmpty();
        assertThat(f.reached("/api/v1/namespaces")).isEmpty();
        assertThat(f.api.received()).noneSatisfy(r -> assertThat(r.path()).contains("clusterroles"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void aSecretsValuesAreMaskedInEveryFormKubectlAsksFor(String version) throws Exception {
        KubeGatewayFixture.Run got = f.kubectl(version, agent, "get", "secret", "db", "-n", "staging", "-o", "json");
        assertThat(got.exit()).as(got.out()).isZero();
        JsonNode secret = JSON.readTree(got.out());
        assertThat(secret.path("data").path("password").asText()).isEqualTo(SecretMasking.MASKED_BASE64);
        assertThat(secret.path("stringData").path("plain").asText()).isEqualTo(SecretMasking.MASKED);
        assertThat(got.out()).doesNotContain(KubeGatewayFixture.SECRET_VALUE).doesNotContain("aHVudGVy");

        KubeGatewayFixture.Run listed = f.kubectl(version, agent, "get", "secrets", "-n", "staging", "-o", "json");
        assertThat(listed.exit()).as(listed.out()).isZero();
        JsonNode item = JSON.readTree(listed.out()).path("items").get(0);
        assertThat(item.path("metadata").path("name").asText()).isEqualTo("db");
        assertThat(item.has("data")).as("a list shows names only").isFalse();
        assertThat(listed.out()).doesNotContain(KubeGatewayFixture.SECRET_VALUE).doesNotContain("aHVudGVy");

        KubeGatewayFixture.Run table = f.kubectl(version, agent, "get", "secrets", "-n", "staging");
        assertThat(table.exit()).as(table.out()).isZero();
        assertThat(table.out()).contains("db").doesNotContain(KubeGatewayFixture.SECRET_VALUE);

        KubeGatewayFixture.Run yaml = f.kubectl(version, agent, "get", "secret", "db", "-n", "staging", "-o", "yaml");
        assertThat(yaml.out()).contains("last-applied-configuration").doesNotContain(KubeGatewayFixture.SECRET_VALUE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void impersonationIsRefusedAndNeverReachesTheCluster(String version) throws Exception {
        KubeGatewayFixture.Run run = f.kubectl(version, agent, "get", "pods", "-n", "dev", "--as", "system:admin");
        assertThat(run.exit()).isNotZero();
        assertThat(run.out()).contains("Error from server (Forbidden)").contains("Impersonate-User");
        assertThat(f.reached("/api/v1/namespaces/dev/pods")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void anExecTheRulesDoNotAllowIsForbiddenAndNeverReachesThePod(String version) throws Exception {
        KubeGatewayFixture.Run staging = f.kubectl(version, agent, "exec", "web-1", "-n", "staging", "--", "ls");
        assertThat(staging.out()).contains("Forbidden");
        KubeGatewayFixture.Run rm = f.kubectl(version, agent, "exec", "web-1", "-n", "dev", "--", "rm", "-rf", "/");
        assertThat(rm.exit()).isNotZero();
        assertThat(rm.out()).contains("Forbidden");
        assertThat(f.api.received()).noneSatisfy(r -> assertThat(r.path()).endsWith("/exec"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void anAgentWithoutAValidTokenIsUnauthorizedAndNothingReachesTheCluster(String version) throws Exception {
        Path stranger = f.kubeconfig("stranger-" + version, "not-a-token");
        KubeGatewayFixture.Run run = f.kubectl(version, stranger, "get", "pods", "-n", "dev");
        assertThat(run.exit()).isNotZero();
        assertThat(run.out()).containsAnyOf("Unauthorized", "must be logged in");
        assertThat(f.api.received()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void aConfigMapIsCreatedAndDeletedInDev(String version) throws Exception {
        Path manifest = Files.writeString(dir.resolve("cm-" + version + ".json"),
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"settings-" + version.replace(".", "")
                        + "\",\"namespace\":\"dev\"},\"data\":{\"mode\":\"fast\"}}");
        KubeGatewayFixture.Run created = f.kubectl(version, agent, "create", "-f", manifest.toString(), "--validate=false");
        assertThat(created.exit()).as(created.out()).isZero();
        assertThat(created.out()).contains("created");
        KubeGatewayFixture.Run deleted = f.kubectl(version, agent, "delete", "configmap", "settings-" + version.replace(".", ""), "-n", "dev");
        assertThat(deleted.exit()).as(deleted.out()).isZero();
        KubeGatewayFixture.Run elsewhere = f.kubectl(version, agent, "create", "-f", manifest.toString(), "--validate=false",
                "--namespace", "dev", "-o", "name", "--dry-run=server");
        assertThat(elsewhere.exit()).as(elsewhere.out()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void kubectlAuthCanIIsAnsweredFromTheGatewaysPolicyNotTheClusters(String version) throws Exception {
        KubeGatewayFixture.Run yes = f.kubectl(version, agent, "auth", "can-i", "list", "pods", "-n", "dev");
        assertThat(yes.exit()).as(yes.out()).isZero();
        assertThat(yes.out().strip()).isEqualTo("yes");
        KubeGatewayFixture.Run no = f.kubectl(version, agent, "auth", "can-i", "list", "pods", "-n", "kube-system");
        assertThat(no.exit()).isEqualTo(1);
        assertThat(no.out()).startsWith("no").contains("Portcullis rule default-deny");
        KubeGatewayFixture.Run held = f.kubectl(version, agent, "auth", "can-i", "delete", "deployments", "-n", "staging");
        assertThat(held.out()).startsWith("no").contains("staging-delete-or-scale-needs-approval").contains("sre");
        KubeGatewayFixture.Run shell = f.kubectl(version, agent, "auth", "can-i", "create", "pods", "--subresource=exec", "-n", "dev");
        assertThat(shell.out()).startsWith("no").contains("agents-shell-needs-approval");
        assertThat(f.api.received()).noneSatisfy(r -> assertThat(r.path()).contains("selfsubjectaccessreviews"));
    }

    @Test
    void aBodyOverTheLimitIsRefusedWith413AndNeverForwarded() throws Exception {
        String big = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"big\"},\"data\":{\"x\":\""
                + "a".repeat(4 * 1024 * 1024) + "\"}}";
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:" + f.port
                        + "/api/v1/namespaces/dev/configmaps"))
                .header("Authorization", "Bearer " + agentToken).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(big)).build();
        HttpResponse<String> r = f.http.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(JSON.readTree(r.body()).path("reason").asText()).isEqualTo("RequestEntityTooLarge");
        assertThat(f.reached("/api/v1/namespaces/dev/configmaps")).isEmpty();
    }

    @Test
    void malformedJsonGetsTheClustersOwnBadRequest() throws Exception {
        Path manifest = Files.writeString(dir.resolve("broken.json"), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":");
        KubeGatewayFixture.Run run = f.kubectl("1.33", agent, "create", "-f", manifest.toString(), "--validate=false", "-n", "dev");
        assertThat(run.exit()).isNotZero();
        assertThat(run.out()).containsAnyOf("error parsing", "unexpected end of JSON", "Error");
    }

    @Test
    void deletingAStagingDeploymentWaitsForAnSreAndGoesThroughOnceApproved() throws Exception {
        String sre = f.token("oncall-1", "sre");
        CompletableFuture<KubeGatewayFixture.Run> delete = CompletableFuture.supplyAsync(() -> {
            try {
                return f.kubectl("1.33", agent, "delete", "deployment", "web", "-n", "staging", "--wait=false");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        String id = f.awaitPending(sre, "delete deployments.apps/web in staging");
        assertThat(f.reached("/apis/apps/v1/namespaces/staging/deployments/web")).as("nothing before the approval")
                .noneSatisfy(r -> assertThat(r.method()).isEqualTo("DELETE"));
        assertThat(f.approvals("POST", "/" + id + "/approve", sre).statusCode()).isEqualTo(200);
        KubeGatewayFixture.Run run = delete.get(60, TimeUnit.SECONDS);
        assertThat(run.exit()).as(run.out()).isZero();
        assertThat(run.out()).contains("deleted");
        assertThat(f.reached("/apis/apps/v1/namespaces/staging/deployments/web")).anySatisfy(r -> assertThat(r.method()).isEqualTo("DELETE"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    void kubectlApplyCreatesThenPatchesAConfigMap(String version) throws Exception {
        String name = "applied-" + version.replace(".", "");
        Path manifest = dir.resolve(name + ".yaml");
        for (String mode : new String[] {"slow", "fast"}) {
            Files.writeString(manifest, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: dev\ndata:\n  mode: " + mode + "\n");
            // the stand-in serves no OpenAPI document for kubectl to validate with (a cluster does)
            KubeGatewayFixture.Run applied = f.kubectl(version, agent, "apply", "--validate=false", "-f", manifest.toString());
            assertThat(applied.exit()).as(applied.out()).isZero();
        }
        KubeGatewayFixture.Run got = f.kubectl(version, agent, "get", "configmap", name, "-n", "dev", "-o", "jsonpath={.data.mode}");
        assertThat(got.out()).isEqualTo("fast");
        assertThat(f.reached("/api/v1/namespaces/dev/configmaps/" + name)).anySatisfy(r -> assertThat(r.method()).isEqualTo("PATCH"));
    }

    @Test
    void hostilePathsAreRefusedAsBadRequestsAndNeverForwarded() throws Exception {
        for (String path : new String[] {"/api/v1/namespaces/dev/pods/../../kube-system/pods", "/api/v1/namespaces/dev/pods/%2e%2e/secrets",
                "/api/v1/namespaces/dev//pods", "/api/v1/namespaces/dev/pods%2Fweb-1", "/api/v1/namespaces/./dev/pods",
                "/api/v1/namespaces/dev/pods/web-1/..%2fexec"}) {
            String[] r = f.rawGet(path, agentToken);
            assertThat(r[0]).as(path).isEqualTo("400");
        }
        assertThat(f.api.received()).isEmpty();
    }

    @Test
    void discoveryIsOpenToEveryAuthenticatedAgentButNotToStrangers() throws Exception {
        String nobody = f.token("agent-2");
        assertThat(f.send("GET", "/version", nobody, Map.of()).statusCode()).isEqualTo(200);
        assertThat(f.send("GET", "/apis", nobody, Map.of()).statusCode()).isEqualTo(200);
        assertThat(f.send("GET", "/api/v1/namespaces/dev/pods", nobody, Map.of()).statusCode()).isEqualTo(403);
        f.api.reset();
        HttpResponse<String> stranger = f.send("GET", "/version", null, Map.of());
        assertThat(stranger.statusCode()).isEqualTo(401);
        JsonNode status = JSON.readTree(stranger.body());
        assertThat(status.path("kind").asText()).isEqualTo("Status");
        assertThat(status.path("reason").asText()).isEqualTo("Unauthorized");
        assertThat(f.api.received()).isEmpty();
    }

    @Test
    void theClusterIsAskedForJsonEvenWhenTheAgentPrefersProtobuf() throws Exception {
        HttpResponse<String> r = f.send("GET", "/api/v1/namespaces/dev/pods", agentToken,
                Map.of("Accept", "application/vnd.kubernetes.protobuf,application/json"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        assertThat(JSON.readTree(r.body()).path("items").get(0).path("metadata").path("name").asText()).isEqualTo("web-1");
    }

    static KubeApiStandIn api() {
        return f.api;
    }
}
