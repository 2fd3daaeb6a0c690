package dev.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.kubernetes.SecretMasking.Mode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * Secret values, in every place the Kubernetes API returns them, come out masked; the rest of the
 * object (names, keys, metadata) stays, so kubectl prints what it always prints. The bodies are shaped
 * as the API server writes them (items of a SecretList carry no kind; a Table's rows carry
 * PartialObjectMetadata with the annotations).
 */
class SecretMaskingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PASSWORD_B64 = Base64.getEncoder().encodeToString("hunter2-prod".getBytes(StandardCharsets.UTF_8));

    /** JSON written with single quotes, for readability. */
    static ObjectNode j(String singleQuoted) throws Exception {
        return (ObjectNode) JSON.readTree(singleQuoted.replace('\'', '"'));
    }

    /** What kubectl apply leaves in the annotation: the applied Secret, values included, as JSON text. */
    static String applied() throws Exception {
        return JSON.writeValueAsString(j("{'apiVersion':'v1','kind':'Secret','metadata':{'name':'db','namespace':'staging'},"
                + "'data':{'password':'" + PASSWORD_B64 + "'},'stringData':{'token':'tok-9f8e'}}"));
    }

    static ObjectNode secret(boolean withKind) throws Exception {
        ObjectNode s = j("{" + (withKind ? "'kind':'Secret','apiVersion':'v1'," : "")
                + "'metadata':{'name':'db','namespace':'staging','annotations':{}},'type':'Opaque',"
                + "'data':{'password':'" + PASSWORD_B64 + "','user':'YWRtaW4='},'stringData':{'token':'tok-9f8e'}}");
        ((ObjectNode) s.path("metadata").path("annotations")).put(SecretMasking.LAST_APPLIED, applied());
        return s;
    }

    static void assertNoSecretLeft(JsonNode masked) {
        assertThat(masked.toString()).doesNotContain(PASSWORD_B64, "hunter2", "tok-9f8e", "YWRtaW4=");
    }

    @Test
    void aSecretKeepsItsKeysAndMetadataWithEveryValueMaskedAsValidBase64() throws Exception {
        ObjectNode body = secret(true);
        int n = SecretMasking.mask(body, true, Mode.VALUES);

        assertNoSecretLeft(body);
        assertThat(n).isEqualTo(5); // 2 data + 1 stringData + 2 inside the annotation
        assertThat(body.path("data").path("password").asText()).isEqualTo(SecretMasking.MASKED_BASE64);
        assertThat(new String(Base64.getDecoder().decode(body.path("data").path("user").asText()), StandardCharsets.UTF_8))
                .isEqualTo("[masked]");
        assertThat(body.path("stringData").path("token").asText()).isEqualTo("[masked]");
        assertThat(body.path("metadata").path("name").asText()).isEqualTo("db");
        JsonNode applied = JSON.readTree(body.path("metadata").path("annotations").path(SecretMasking.LAST_APPLIED).asText());
        assertThat(applied.path("data").path("password").asText()).isEqualTo(SecretMasking.MASKED_BASE64);
        assertThat(applied.path("metadata").path("name").asText()).isEqualTo("db");
    }

    @Test
    void theItemsOfASecretListHaveNoKindAndAreMaskedAllTheSame() throws Exception {
        ObjectNode list = j("{'kind':'SecretList','apiVersion':'v1','metadata':{'resourceVersion':'12'}}");
        list.putArray("items").add(secret(false)).add(secret(false));
        // even when the caller did not know it asked for secrets (an aggregated API, a List of kinds)
        SecretMasking.mask(list, false, Mode.VALUES);

        assertNoSecretLeft(list);
        assertThat(list.path("items")).hasSize(2);
        assertThat(list.path("items").get(1).path("data").path("password").asText()).isEqualTo(SecretMasking.MASKED_BASE64);
    }

    @Test
    void aListOfKindsMasksTheSecretsInIt() throws Exception {
        ObjectNode list = j("{'kind':'List','apiVersion':'v1','items':[{'kind':'ConfigMap','metadata':{'name':'c'},'data':{'k':'v'}}]}");
        ((ArrayNode) list.path("items")).add(secret(true));
        SecretMasking.mask(list, false, Mode.VALUES);

        assertNoSecretLeft(list);
        assertThat(list.path("items").get(0).path("data").path("k").asText()).isEqualTo("v");
    }

    @Test
    void namesOnlyRemovesTheValuesAndTheirKeys() throws Exception {
        ObjectNode list = j("{'kind':'SecretList'}");
        list.putArray("items").add(secret(false));
        SecretMasking.mask(list, true, Mode.NAMES_ONLY);

        assertNoSecretLeft(list);
        JsonNode item = list.path("items").get(0);
        assertThat(item.has("data")).isFalse();
        assertThat(item.has("stringData")).isFalse();
        assertThat(item.path("metadata").path("name").asText()).isEqualTo("db");
        assertThat(list.toString()).doesNotContain("password");
    }

    @Test
    void aTableAsKubectlAsksForItCarriesTheAnnotationInEachRowsMetadata() throws Exception {
        ObjectNode partial = j("{'kind':'PartialObjectMetadata','apiVersion':'meta.k8s.io/v1','metadata':{'name':'db','annotations':{}}}");
        ((ObjectNode) partial.path("metadata").path("annotations")).put(SecretMasking.LAST_APPLIED, applied());
        ObjectNode table = j("{'kind':'Table','apiVersion':'meta.k8s.io/v1','columnDefinitions':[{'name':'Name'},{'name':'Type'},"
                + "{'name':'Data'}]}");
        ArrayNode rows = table.putArray("rows");
        rows.addObject().set("object", partial);
        ((ObjectNode) rows.get(0)).set("cells", JSON.readTree("[\"db\",\"Opaque\",2]"));
        rows.addObject().set("object", secret(true));
        SecretMasking.mask(table, true, Mode.VALUES);

        assertNoSecretLeft(table);
        assertThat(table.path("rows").get(0).path("cells").toString()).isEqualTo("[\"db\",\"Opaque\",2]");
    }

    @Test
    void aWatchEventsObjectIsMasked() throws Exception {
        ObjectNode event = j("{'type':'MODIFIED'}");
        event.set("object", secret(true));
        SecretMasking.mask(event, false, Mode.VALUES);

        assertNoSecretLeft(event);
        assertThat(event.path("type").asText()).isEqualTo("MODIFIED");
    }

    @Test
    void anAnnotationThatIsNotJsonIsReplacedWhole() throws Exception {
        ObjectNode body = j("{'kind':'Secret','metadata':{'name':'db','annotations':{}},'data':{}}");
        ((ObjectNode) body.path("metadata").path("annotations")).put(SecretMasking.LAST_APPLIED, "{broken hunter2");
        SecretMasking.mask(body, false, Mode.VALUES);

        assertThat(body.path("metadata").path("annotations").path(SecretMasking.LAST_APPLIED).asText()).isEqualTo("[masked]");
        assertNoSecretLeft(body);
    }

    @Test
    void otherKindsAreLeftAlone() throws Exception {
        ObjectNode body = j("{'kind':'ConfigMap','metadata':{'name':'cfg'},'data':{'mode':'fast'}}");
        assertThat(SecretMasking.mask(body, false, Mode.VALUES)).isZero();
        assertThat(body).isEqualTo(j("{'kind':'ConfigMap','metadata':{'name':'cfg'},'data':{'mode':'fast'}}"));
    }
}
