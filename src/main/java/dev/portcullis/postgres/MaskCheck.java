package dev.portcullis.postgres;

import dev.portcullis.core.SqlStatement;
import dev.portcullis.gate.Gate;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.policy.Verdict;
import dev.portcullis.sql.Lineage;
import dev.portcullis.sql.LineageException;
import dev.portcullis.sql.MaskedLineage;

/**
 * What a mask rule's lineage check says of one statement: the result columns to mask whole (null when no
 * lineage was needed), or a refusal, recorded as a deny of the rule with its reason.
 *
 * @param derived the columns to mask whole; null when the plan masks no field by name or the statement shows
 *                and reads no table data (SET, SHOW, DDL...)
 * @param deny    when refused: what the recording keeps
 * @param error   when refused: what the client gets
 */
record MaskCheck(DerivedColumns derived, Verdict.Deny deny, BackendMessage.ErrorResponse error) {
    static final MaskCheck NONE = new MaskCheck(null, null, null);

    boolean refused() {
        return error != null;
    }

    /** Records a refused statement: with this check's reason when it refused, else policy's verdict. */
    void completeRefused(Gate.Judged judged) {
        if (deny != null) judged.completeRefused(deny, System.nanoTime());
        else judged.completeRefused(System.nanoTime());
    }

    /**
     * For a statement allowed with masking: which result columns are masked whole, every column computed
     * from a masked one by the lineage of {@code lineageText} (the statement's own, or for EXECUTE the
     * query it runs). Refused when the statement searches or copies a masked column in a way the rule
     * does not allow, or its lineage cannot be proven (fail closed).
     */
    static MaskCheck of(Verdict verdict, SqlStatement statement, String lineageText, ColumnCatalog catalog) {
        if (!(verdict instanceof Verdict.Mask mask) || mask.plan().fields().isEmpty()) return NONE;
        MaskPlan plan = mask.plan();
        String message;
        String hint = null;
        try {
            Lineage lineage = catalog.lineage(lineageText);
            MaskedLineage.Masked masked = MaskedLineage.apply(lineage, plan, mask.ruleId());
            return lineage.outputs().isEmpty() && !masked.readsMaskedColumn() ? NONE
                    : new MaskCheck(new DerivedColumns(masked.outputs(), lineage.outputs().size(), masked.readsMaskedColumn()),
                            null, null);
        } catch (MaskedLineage.Refused e) {
            message = e.getMessage();
            hint = "compare masked columns only for equality, or ask for a rule without masking";
        } catch (LineageException e) {
            message = "masking cannot be guaranteed for this statement, so it is refused (rule " + mask.ruleId() + " masks "
                    + String.join(", ", plan.fields()) + "): " + e.getMessage();
        }
        return new MaskCheck(null, new Verdict.Deny(mask.ruleId(), message),
                PgErrors.error("42501", "Portcullis: " + message, "statement: " + statement.summary(), hint));
    }
}
