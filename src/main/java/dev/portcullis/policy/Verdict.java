package dev.portcullis.policy;

import dev.portcullis.masking.MaskPlan;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/** What policy decided for one operation. Every verdict names the rule that decided it. */
public sealed interface Verdict {

    /** The id of the rule that decided; {@value #DEFAULT_DENY} when no rule matched. */
    String ruleId();

    String DEFAULT_DENY = "default-deny";

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
     * ({@code approvalsRequired} distinct approvers), or {@code holdTimeout} passes.
     */
    record HoldForApproval(String ruleId, String reason, List<String> approverGroups, int approvalsRequired,
                           Duration holdTimeout) implements Verdict {
        public HoldForApproval {
            Objects.requireNonNull(ruleId);
            Objects.requireNonNull(reason);
            approverGroups = List.copyOf(approverGroups);
            if (approvalsRequired < 1) throw new IllegalArgumentException("approvalsRequired must be >= 1");
            Objects.requireNonNull(holdTimeout);
        }
    }
}
