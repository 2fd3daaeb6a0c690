package dev.portcullis.policy;

import java.util.List;
import java.util.Objects;

/**
 * The enforced verdict plus what dry-run rules that matched before it would have done.
 *
 * @param verdict the verdict to enforce
 * @param shadow  verdicts of dry-run rules that matched first, in rule order; recorded, never enforced
 */
public record Decision(Verdict verdict, List<Verdict> shadow) {
    public Decision {
        Objects.requireNonNull(verdict);
        shadow = List.copyOf(shadow);
    }

    public static Decision of(Verdict verdict) {
        return new Decision(verdict, List.of());
    }
}
