package dev.portcullis.recording;

import dev.portcullis.policy.Verdict;
import java.util.Locale;
import java.util.Objects;

/**
 * A verdict as recorded: its kind, the deciding rule and the reason shown to the caller (empty for
 * allow; the grant and its end for an operation allowed under a time-boxed grant). Mask plans are
 * not recorded here; the masked excerpts show their effect.
 */
public record RecordedVerdict(Kind kind, String ruleId, String reason) {
    public RecordedVerdict {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(ruleId, "ruleId");
        Objects.requireNonNull(reason, "reason");
    }

    public enum Kind {
        ALLOW, MASK, DENY, HOLD, GRANT;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Kind fromLabel(String label) {
            return valueOf(label.toUpperCase(Locale.ROOT));
        }
    }

    public static RecordedVerdict of(Verdict verdict) {
        return switch (verdict) {
            case Verdict.Allow a -> new RecordedVerdict(Kind.ALLOW, a.ruleId(), "");
            case Verdict.Mask m -> new RecordedVerdict(Kind.MASK, m.ruleId(), "");
            case Verdict.Deny d -> new RecordedVerdict(Kind.DENY, d.ruleId(), d.reason());
            case Verdict.HoldForApproval h -> new RecordedVerdict(Kind.HOLD, h.ruleId(), h.reason());
            case Verdict.Granted g -> new RecordedVerdict(Kind.GRANT, g.ruleId(), "under grant " + g.approvalId()
                    + " until " + g.until());
        };
    }
}
