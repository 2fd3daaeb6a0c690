/**
 * The policy engine: one protocol-blind, pure library judging every operation.
 *
 * <pre>
 *  Identity + Operation ──▶ Policy.decide ──▶ Decision(verdict, shadow)
 *                            rule 1 (dry-run) ─ matches ─▶ shadow += its verdict, go on
 *                            rule 2           ─ no match
 *                            rule 3           ─ matches ─▶ verdict (Allow | Mask | Deny | HoldForApproval)
 *                            (none)           ─────────▶ Deny("default-deny")
 * </pre>
 *
 * A rule's {@link dev.portcullis.policy.Conditions} test the caller (groups, subject, claims) and,
 * through one sealed {@link dev.portcullis.policy.OperationCondition} per protocol, the operation.
 * No I/O and no regular expressions from configuration; path templates are compiled once.
 * Loading rules from YAML lives in {@code dev.portcullis.config}.
 */
package dev.portcullis.policy;
