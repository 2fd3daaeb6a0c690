package dev.portcullis.policy;

import dev.portcullis.masking.MaskPlan;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** What policy decided for one operation. Every verdict names the rule that decided it. */
public sealed interface Verdict {

    /** The id of the rule that decided; {@value #DEFAULT_DENY} when no rule matched. */
    String ruleId();

    String DEFAULT_DENY = "default-deny";

    /**
     * The verdict's name, the one way it is said in policy files, {@code policy test} and metrics:
     * {@code allow}, {@code mask}, {@code deny}, {@code require-approval}, {@code grant}.
     */
    default String label() {
        return switch (this) {
            case Allow a -> "allow";
            case Mask m -> "mask";
            case Deny d -> "deny";
            case HoldForApproval h -> "require-approval";
            case Granted g -> "grant";
        };
    }

    /** Forward the operation unchanged. */
    record Allow(String ruleId) implements Verdict {
        public Allow {
            Objects.requireNonNull(ruleId);
        }
    }

    /** Forward the operation, and mask its response according to the plan. */
    record Mask(String ruleId, MaskPlan plan) implements Verdict {
        public Mask {
            Objects.requireNonNull(ruleId);
            Objects.requireNonNull(plan);
        }
    }

    /** Refuse the operation; {@code reason} is shown to the caller. */
    record Deny(String ruleId, String reason) implements Verdict {
        public Deny {
            Objects.requireNonNull(ruleId);
            Objects.requireNonNull(reason);
        }
    }

    /**
     * Hold the operation until a member of one of {@code approverGroups} approves it
     * ({@code approvalsRequired} distinct approvers), or {@code holdTimeout} passes. With a
     * {@code grant}, the approval also opens a time-boxed grant: for that long, every operation of
     * the requester that the rule matches on the connection is {@link Granted}.
     */
    record HoldForApproval(String ruleId, String reason, List<String> approverGroups, int approvalsRequired,
                           Duration holdTimeout, Optional<Duration> grant) implements Verdict {
        public HoldForApproval {
            Objects.requireNonNull(ruleId);
            Objects.requireNonNull(reason);
            approverGroups = List.copyOf(approverGroups);
            if (approvalsRequired < 1) throw new IllegalArgumentException("approvalsRequired must be >= 1");
            Objects.requireNonNull(holdTimeout);
            Objects.requireNonNull(grant);
        }

        /** A hold for the one operation, without a grant. */
        public HoldForApproval(String ruleId, String reason, List<String> approverGroups, int approvalsRequired,
                               Duration holdTimeout) {
            this(ruleId, reason, approverGroups, approvalsRequired, holdTimeout, Optional.empty());
        }
    }

    /**
     * Forward the operation unchanged: rule {@code ruleId} holds such operations, but the caller holds
     * a time-boxed grant of it, approved as {@code approvalId}, that lasts until {@code until}. Policy
     * never gives this verdict; the gate does, in place of a {@link HoldForApproval} with a grant.
     */
    record Granted(String ruleId, String approvalId, Instant until) implements Verdict {
        public Granted {
            Objects.requireNonNull(ruleId);
            Objects.requireNonNull(approvalId);
            Objects.requireNonNull(until);
        }
    }
}
