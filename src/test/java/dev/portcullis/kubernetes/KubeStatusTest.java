package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.KubeRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Refusals shaped as the API server's Status, and the headers the gateway changes on the way up. */
class KubeStatusTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aRefusalIsAForbiddenStatusNamingTheObjectTheRuleAndTheAgent() throws Exception {
        KubeRequest delete = KubeRequest.parse("DELETE", "/apis/apps/v1/namespaces/prod/deployments/web", "");
        JsonNode status = JSON.readTree(KubeStatus.forbidden(delete, "agent-1", "default-deny", "not in the policy").json());

        assertThat(status.path("kind").asText()).isEqualTo("Status");
        assertThat(status.path("apiVersion").asText()).isEqualTo("v1");
        assertThat(status.path("status").asText()).isEqualTo("Failure");
        assertThat(status.path("reason").asText()).isEqualTo("Forbidden");
        assertThat(status.path("code").asInt()).isEqualTo(403);
        assertThat(status.path("message").asText()).isEqualTo("deployments.apps \"web\" is forbidden: Portcullis rule default-deny "
                + "refuses delete in the namespace \"prod\" for agent \"agent-1\": not in the policy");
        assertThat(status.path("details").path("name").asText()).isEqualTo("web");
        assertThat(status.path("details").path("kind").asText()).isEqualTo("deployments");

        JsonNode nodes = JSON.readTree(KubeStatus.forbidden(KubeRequest.parse("GET", "/api/v1/nodes", ""), "a", "r", "").json());
        assertThat(nodes.path("message").asText()).isEqualTo("nodes is forbidden: Portcullis rule r refuses list for agent \"a\"");
    }

    @Test
    void otherRefusalsCarryTheirOwnReasonAndCode() throws Exception {
        assertThat(JSON.readTree(KubeStatus.unauthorized("token expired").json()).path("reason").asText()).isEqualTo("Unauthorized");
        assertThat(JSON.readTree(KubeStatus.tooLarge(1024).json()).path("code").asInt()).isEqualTo(413);
        assertThat(JSON.readTree(KubeStatus.unavailable("the recording store is unavailable").json()).path("reason").asText())
                .isEqualTo("ServiceUnavailable");
        assertThat(JSON.readTree(KubeStatus.badRequest("bad path").json()).has("details")).isFalse();
    }

    @Test
    void impersonationHeadersAreFoundWhateverTheirCase() {
        assertThat(KubeHeaders.impersonation(List.of("Accept", "impersonate-user"))).contains("impersonate-user");
        assertThat(KubeHeaders.impersonation(List.of("Impersonate-Extra-scopes"))).contains("Impersonate-Extra-scopes");
        assertThat(KubeHeaders.impersonation(List.of("Accept", "Authorization", "X-Impersonate"))).isEmpty();
    }

    @Test
    void protobufIsNeverAskedForSoEveryBodyCanBeMasked() {
        assertThat(KubeHeaders.jsonAccept("application/vnd.kubernetes.protobuf,application/json")).isEqualTo("application/json");
        assertThat(KubeHeaders.jsonAccept("application/vnd.kubernetes.protobuf")).isEqualTo("application/json");
        assertThat(KubeHeaders.jsonAccept(null)).isEqualTo("application/json");
        assertThat(KubeHeaders.jsonAccept("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"))
                .isEqualTo("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json");
        assertThat(KubeHeaders.jsonAccept("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/yaml, */*"))
                .isEqualTo("application/json");
        assertThat(KubeHeaders.jsonAccept("application/cbor")).isEqualTo("application/json");
    }
}
