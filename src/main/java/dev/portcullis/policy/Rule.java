package dev.portcullis.policy;

import dev.portcullis.masking.MaskPlan;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One policy rule.
 *
 * @param id                unique within its policy; named in every verdict it gives
 * @param description       for people; may be empty
 * @param when              what must hold for the rule to match
 * @param action            what a match does
 * @param mask              for {@link Action#ALLOW} only: what to mask in the response
 * @param message           shown to the caller on deny / hold; may be empty (a default is used)
 * @param approvers         for {@link Action#REQUIRE_APPROVAL}: groups whose members may approve
 * @param approvalsRequired distinct approvers needed, at least 1
 * @param holdTimeout       how long an operation is held before it is refused
 * @param dryRun            a matching dry-run rule is recorded as a shadow verdict and evaluation continues
 * @param grant             for {@link Action#REQUIRE_APPROVAL} only: once approved, the requester may run every
 *                          operation this rule matches on the connection for this long (a time-boxed grant),
 *                          instead of the one held operation
 */
public record Rule(String id, String description, Conditions when, Action action, Optional<MaskPlan> mask,
                   String message, List<String> approvers, int approvalsRequired, Duration holdTimeout,
                   boolean dryRun, Optional<Duration> grant) {

    /** The longest grant a rule may give; longer access is standing access, which belongs in an allow rule. */
    public static final Duration MAX_GRANT = Duration.ofHours(24);

    public static final int DEFAULT_APPROVALS_REQUIRED = 1;
    public static final Duration DEFAULT_HOLD_TIMEOUT = Duration.ofMinutes(15);

    public Rule {
        Objects.requireNonNull(id, "id");
        if (id.isBlank()) throw new IllegalArgumentException("rule id is blank");
        description = description == null ? "" : description;
        Objects.requireNonNull(when, "when");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(mask, "mask");
        message = message == null ? "" : message;
        approvers = List.copyOf(approvers);
        Objects.requireNonNull(holdTimeout, "holdTimeout");
        if (mask.isPresent() && action != Action.ALLOW) {
            throw new IllegalArgumentException("rule " + id + ": mask only applies to action allow");
        }
        if (action == Action.REQUIRE_APPROVAL && approvers.isEmpty()) {
            throw new IllegalArgumentException("rule " + id + ": require-approval needs approvers");
        }
        if (approvalsRequired < 1) throw new IllegalArgumentException("rule " + id + ": approvalsRequired < 1");
        if (holdTimeout.isNegative() || holdTimeout.isZero()) {
            throw new IllegalArgumentException("rule " + id + ": holdTimeout must be positive");
        }
        Objects.requireNonNull(grant, "grant");
        if (grant.isPresent()) {
            if (action != Action.REQUIRE_APPROVAL) {
                throw new IllegalArgumentException("rule " + id + ": grant only applies to action require-approval");
            }
            Duration g = grant.get();
            if (g.isNegative() || g.isZero() || g.compareTo(MAX_GRANT) > 0) {
                throw new IllegalArgumentException("rule " + id + ": grant must be positive and at most " + MAX_GRANT);
            }
        }
    }

    /** A rule without a grant. */
    public Rule(String id, String description, Conditions when, Action action, Optional<MaskPlan> mask,
                String message, List<String> approvers, int approvalsRequired, Duration holdTimeout, boolean dryRun) {
        this(id, description, when, action, mask, message, approvers, approvalsRequired, holdTimeout, dryRun,
                Optional.empty());
    }

    /** A rule with the defaults for everything but what it decides. */
    public static Rule of(String id, Conditions when, Action action) {
        return new Rule(id, "", when, action, Optional.empty(), "", List.of(), DEFAULT_APPROVALS_REQUIRED,
                DEFAULT_HOLD_TIMEOUT, false);
    }

    /** The verdict this rule gives when it matches. */
    public Verdict verdict() {
        return switch (action) {
            case ALLOW -> mask.filter(p -> !p.isEmpty())
                    .<Verdict>map(plan -> new Verdict.Mask(id, plan))
                    .orElseGet(() -> new Verdict.Allow(id));
            case DENY -> new Verdict.Deny(id, message.isEmpty() ? "refused by rule " + id : message);
            case REQUIRE_APPROVAL -> new Verdict.HoldForApproval(id,
                    message.isEmpty() ? "needs approval by " + String.join(" or ", approvers) : message,
                    approvers, approvalsRequired, holdTimeout, grant);
        };
    }
}
