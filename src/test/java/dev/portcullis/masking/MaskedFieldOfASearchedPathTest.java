package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link MaskPlan#fieldMasking}: the masker's own selector rule, applied to an attribute a search names. */
class MaskedFieldOfASearchedPathTest {

    static MaskPlan plan(String... fields) {
        return new MaskPlan(List.of(fields), Set.of());
    }

    @Test
    void aSelectorMatchesWholeNamesAsASuffix() {
        assertThat(plan("profile.email").fieldMasking("profile.email")).contains("profile.email");
        assertThat(plan("email").fieldMasking("profile.email")).contains("email");
        assertThat(plan("$.users[*].profile.email").fieldMasking("users.profile.email")).contains("$.users[*].profile.email");
        assertThat(plan("profile.email").fieldMasking("email")).isEmpty();
        assertThat(plan("profile.email").fieldMasking("profile.xemail")).isEmpty();
        assertThat(plan("profile.email").fieldMasking("profile.email2")).isEmpty();
    }

    @Test
    void aMaskedAncestorMasksEverythingBelowIt() {
        // the masker replaces the whole value of profile, so profile.email is as masked as profile
        assertThat(plan("profile").fieldMasking("profile.email")).contains("profile");
        assertThat(plan("credentials.provider").fieldMasking("credentials.provider.type")).contains("credentials.provider");
    }

    @Test
    void namesCompareWithoutCaseBecauseATargetMayReadThemSo() {
        assertThat(plan("profile.email").fieldMasking("Profile.EMAIL")).contains("profile.email");
    }

    @Test
    void aPlanWithoutFieldsMasksNoPath() {
        assertThat(new MaskPlan(List.of(), Set.of(Detector.EMAIL)).fieldMasking("profile.email")).isEmpty();
    }
}
