package dev.portcullis.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PathTemplateTest {

    @Test
    void literalPathMatchesOnlyItself() {
        PathTemplate t = PathTemplate.compile("/api/v1/users");
        assertThat(t.matches("/api/v1/users")).isTrue();
        assertThat(t.matches("/api/v1/users/")).isFalse();
        assertThat(t.matches("/api/v1/user")).isFalse();
        assertThat(t.matches("/api/v1/users/x")).isFalse();
        assertThat(t.matches("/api/v1")).isFalse();
        assertThat(t.matches("api/v1/users")).isFalse();
    }

    @Test
    void variableMatchesExactlyOneNonEmptySegment() {
        PathTemplate t = PathTemplate.compile("/api/v1/users/{id}/roles");
        assertThat(t.matches("/api/v1/users/00u1/roles")).isTrue();
        assertThat(t.matches("/api/v1/users//roles")).isFalse();
        assertThat(t.matches("/api/v1/users/a/b/roles")).isFalse();
        assertThat(t.matches("/api/v1/users/00u1/roles/x")).isFalse();
    }

    @Test
    void dotSegmentsMatchNoVariableOrRest() {
        assertThat(PathTemplate.compile("/api/v1/users/{id}").matches("/api/v1/users/..")).isFalse();
        assertThat(PathTemplate.compile("/api/v1/users/{id}").matches("/api/v1/users/.")).isFalse();
        assertThat(PathTemplate.compile("/api/**").matches("/api/v1/../../admin")).isFalse();
        assertThat(PathTemplate.compile("/api/**").matches("/api/v1//x")).isFalse();
    }

    @Test
    void trailingDoubleStarMatchesAnyRestIncludingNone() {
        PathTemplate t = PathTemplate.compile("/api/v1/groups/**");
        assertThat(t.matches("/api/v1/groups")).isTrue();
        assertThat(t.matches("/api/v1/groups/00g1")).isTrue();
        assertThat(t.matches("/api/v1/groups/00g1/users/00u1")).isTrue();
        assertThat(t.matches("/api/v1/groupsx")).isFalse();
        assertThat(PathTemplate.compile("/**").matches("/anything/at/all")).isTrue();
    }

    @Test
    void literalSegmentsArePercentDecodedOnce() {
        assertThat(PathTemplate.compile("/files/a%20b").matches("/files/a b")).isTrue();
        assertThat(PathTemplate.compile("/files/a%20b").matches("/files/a%20b")).isFalse();
    }

    @Test
    void rootTemplateMatchesRootOnly() {
        assertThat(PathTemplate.compile("/").matches("/")).isTrue();
        assertThat(PathTemplate.compile("/").matches("/x")).isFalse();
    }

    @Test
    void malformedTemplatesAreRejectedWithAReason() {
        assertThatThrownBy(() -> PathTemplate.compile("api")).hasMessageContaining("starts with '/'");
        assertThatThrownBy(() -> PathTemplate.compile("/a//b")).hasMessageContaining("empty segment");
        assertThatThrownBy(() -> PathTemplate.compile("/a/**/b")).hasMessageContaining("last segment");
        assertThatThrownBy(() -> PathTemplate.compile("/a/*")).hasMessageContaining("not a wildcard");
        assertThatThrownBy(() -> PathTemplate.compile("/a/{}")).hasMessageContaining("not a variable");
        assertThatThrownBy(() -> PathTemplate.compile("/a/x{id}")).hasMessageContaining("whole segment");
        assertThatThrownBy(() -> PathTemplate.compile("/a?x=1")).hasMessageContaining("query");
        assertThatThrownBy(() -> PathTemplate.compile("/a/%2")).hasMessageContaining("percent");
        assertThatThrownBy(() -> PathTemplate.compile("/a/..")).hasMessageContaining("not allowed");
        assertThatThrownBy(() -> PathTemplate.compile("/a/%2F")).hasMessageContaining("not allowed");
    }
}
