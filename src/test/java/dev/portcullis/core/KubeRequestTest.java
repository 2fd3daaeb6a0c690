package dev.portcullis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Requests read as the API server reads them. The first table is the API server's own
 * (k8s.io/apiserver, requestinfo_test.go), so a policy written against Kubernetes RBAC's verbs and
 * resources means here what it means there.
 */
class KubeRequestTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            GET    | /api/v1/namespaces                                  | list   | ''          | v1      | ''    | namespaces | ''    | ''
            GET    | /api/v1/namespaces/other                            | get    | ''          | v1      | other | namespaces | other | ''
            GET    | /api/v1/namespaces/other/pods                       | list   | ''          | v1      | other | pods       | ''    | ''
            GET    | /api/v1/namespaces/other/pods/foo                   | get    | ''          | v1      | other | pods       | foo   | ''
            HEAD   | /api/v1/namespaces/other/pods/foo                   | get    | ''          | v1      | other | pods       | foo   | ''
            GET    | /api/v1/pods                                        | list   | ''          | v1      | ''    | pods       | ''    | ''
            GET    | /api/v1/proxy/namespaces/other/pods/foo             | proxy  | ''          | v1      | other | pods       | foo   | ''
            GET    | /api/v1/proxy/namespaces/other/pods/foo/sub/path     | proxy  | ''          | v1      | other | pods       | foo   | ''
            GET    | /api/v1/watch/pods                                  | watch  | ''          | v1      | ''    | pods       | ''    | ''
            GET    | /api/v1/watch/namespaces/other/pods                 | watch  | ''          | v1      | other | pods       | ''    | ''
            GET    | /api/v1/namespaces/other/pods/foo/status            | get    | ''          | v1      | other | pods       | foo   | status
            GET    | /api/v1/namespaces/other/pods/foo/proxy/subpath     | get    | ''          | v1      | other | pods       | foo   | proxy
            PUT    | /api/v1/namespaces/other/finalize                   | update | ''          | v1      | other | namespaces | other | finalize
            PUT    | /api/v1/namespaces/other/status                     | update | ''          | v1      | other | namespaces | other | status
            PATCH  | /api/v1/namespaces/other/pods/foo                   | patch  | ''          | v1      | other | pods       | foo   | ''
            DELETE | /api/v1/namespaces/other/pods/foo                   | delete | ''          | v1      | other | pods       | foo   | ''
            POST   | /api/v1/namespaces/other/pods                       | create | ''          | v1      | other | pods       | ''    | ''
            DELETE | /api/v1/namespaces/other/pods                       | deletecollection | '' | v1      | other | pods       | ''    | ''
            POST   | /apis/extensions/v1/namespaces/other/pods           | create | extensions  | v1      | other | pods       | ''    | ''
            POST   | /apis/extensions/v1beta3/namespaces/other/pods      | create | extensions  | v1beta3 | other | pods       | ''    | ''
            GET    | /apis/apps/v1/namespaces/staging/deployments/web    | get    | apps        | v1      | staging | deployments | web | ''
            PATCH  | /apis/apps/v1/namespaces/staging/deployments/web/scale | patch | apps      | v1      | staging | deployments | web | scale
            GET    | /api/v1/nodes/n1                                    | get    | ''          | v1      | ''    | nodes      | n1    | ''
            """)
    void readsAPathAsTheApiServerDoes(String method, String path, String verb, String group, String version, String namespace,
                                      String resource, String name, String subresource) {
        KubeRequest r = KubeRequest.parse(method, path, "");

        assertThat(r.resourceRequest()).isTrue();
        assertThat(List.of(r.verb(), r.apiGroup(), r.apiVersion(), r.namespace(), r.resource(), r.name(), r.subresource()))
                .containsExactly(verb, group, version, namespace, resource, name, subresource);
    }

    @ParameterizedTest
    @CsvSource({"watch=true,watch", "watch=1,watch", "watch=false,list", "watch=0,list", "watch=FALSE,list", "limit=500,list"})
    void watchIsAQueryParameterToo(String query, String verb) {
        assertThat(KubeRequest.parse("GET", "/api/v1/namespaces/dev/pods", query).verb()).isEqualTo(verb);
    }

    @Test
    void aListNarrowedToOneNameByFieldSelectorNamesIt() {
        KubeRequest r = KubeRequest.parse("GET", "/api/v1/namespaces/dev/secrets", "fieldSelector=metadata.name%3Ddb&watch=1");
        assertThat(r.verb()).isEqualTo("watch");
        assertThat(r.name()).isEqualTo("db");
        // not a name the API server would accept as one: no name, so a rule about one name does not match
        assertThat(KubeRequest.parse("GET", "/api/v1/secrets", "fieldSelector=metadata.name%3D..").name()).isEmpty();
    }

    @Test
    void streamsIntoPodsAreVerbsOfTheirOwnWithTheCommandJudged() {
        KubeRequest exec = KubeRequest.parse("POST", "/api/v1/namespaces/dev/pods/web-1/exec",
                "command=ls&command=-la&container=app&stdin=true&tty=true");
        assertThat(exec.verb()).isEqualTo("exec");
        assertThat(exec.command()).containsExactly("ls", "-la");
        assertThat(exec.summary()).isEqualTo("exec pods/web-1 in dev: ls -la");
        assertThat(exec.mayChangeTarget()).isTrue();

        // kubectl >= 1.30 opens exec as a WebSocket: a GET, still an exec
        assertThat(KubeRequest.parse("GET", "/api/v1/namespaces/dev/pods/web-1/exec", "command=sh").verb()).isEqualTo("exec");
        assertThat(KubeRequest.parse("GET", "/api/v1/namespaces/dev/pods/web-1/attach", "").verb()).isEqualTo("attach");
        assertThat(KubeRequest.parse("POST", "/api/v1/namespaces/dev/pods/web-1/portforward", "").verb()).isEqualTo("portforward");
        KubeRequest logs = KubeRequest.parse("GET", "/api/v1/namespaces/dev/pods/web-1/log", "follow=true");
        assertThat(logs.verb()).isEqualTo("logs");
        assertThat(logs.mayChangeTarget()).isFalse();
        // a subresource named like a stream on something that is not a pod stays a subresource
        assertThat(KubeRequest.parse("POST", "/apis/example.com/v1/namespaces/dev/things/t/exec", "").verb()).isEqualTo("create");
    }

    @ParameterizedTest
    @CsvSource({"GET,/version,get", "GET,/api,get", "GET,/api/v1,get", "GET,/apis,get", "GET,/apis/apps,get",
            "GET,/apis/apps/v1,get", "GET,/openapi/v3,get", "GET,/,get", "POST,/version,post"})
    void discoveryVersionAndOpenApiAreNonResourceRequests(String method, String path, String verb) {
        KubeRequest r = KubeRequest.parse(method, path, "");
        assertThat(r.resourceRequest()).isFalse();
        assertThat(r.verb()).isEqualTo(verb);
        assertThat(r.summary()).isEqualTo(verb + " " + path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/api/v1/namespaces/dev//pods", "/api/v1/namespaces/dev/pods/../../kube-system/secrets",
            "/api/v1/namespaces/./pods", "/apis/apps/v1//deployments", "/api/v1/watch"})
    void pathsTheApiServerWouldReadDifferentlyAreRefused(String path) {
        assertThatThrownBy(() -> KubeRequest.parse("GET", path, "")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void methodsThatAreNoVerbAreRefused() {
        assertThatThrownBy(() -> KubeRequest.parse("OPTIONS", "/api/v1/pods", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("OPTIONS");
    }

    @Test
    void readsDoNotChangeTheClusterAndEverythingElseMay() {
        for (String[] c : new String[][] {{"GET", "/api/v1/namespaces/dev/pods"}, {"GET", "/api/v1/namespaces/dev/pods/p"},
                {"GET", "/api/v1/watch/pods"}, {"GET", "/version"}}) {
            assertThat(KubeRequest.parse(c[0], c[1], "").mayChangeTarget()).as(String.join(" ", c)).isFalse();
        }
        for (String[] c : new String[][] {{"POST", "/api/v1/namespaces/dev/pods"}, {"DELETE", "/api/v1/namespaces/dev/pods"},
                {"PATCH", "/apis/apps/v1/namespaces/staging/deployments/web/scale"}, {"GET", "/api/v1/proxy/nodes/n1"},
                {"GET", "/api/v1/namespaces/dev/pods/p/exec"}}) {
            assertThat(KubeRequest.parse(c[0], c[1], "").mayChangeTarget()).as(String.join(" ", c)).isTrue();
        }
    }

    @Test
    void summariesNameTheVerbResourceGroupAndNamespace() {
        assertThat(KubeRequest.parse("GET", "/api/v1/namespaces/dev/pods", "").summary()).isEqualTo("list pods in dev");
        assertThat(KubeRequest.parse("GET", "/api/v1/namespaces/staging/secrets/db", "").summary()).isEqualTo("get secrets/db in staging");
        assertThat(KubeRequest.parse("DELETE", "/apis/apps/v1/namespaces/staging/deployments/web", "").summary())
                .isEqualTo("delete deployments.apps/web in staging");
        assertThat(KubeRequest.parse("GET", "/api/v1/nodes", "").summary()).isEqualTo("list nodes");
        assertThat(KubeRequest.parse("PATCH", "/apis/apps/v1/namespaces/staging/deployments/web/scale", "").summary())
                .isEqualTo("patch deployments.apps/web/scale in staging");
    }
}
