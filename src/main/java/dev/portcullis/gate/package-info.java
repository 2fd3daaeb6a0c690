/**
 * The protocol-blind path every adapter takes for one operation, in this order:
 * <ol>
 *   <li>{@link dev.portcullis.gate.Gate#authenticate authenticate}: token → {@code Identity}; a refusal is
 *       counted and recorded (no token text), and the adapter answers in its own dialect;</li>
 *   <li>{@link dev.portcullis.gate.Gate#judge judge}: policy → {@code Decision}, recorded durably
 *       <em>before</em> anything is forwarded (a dead store refuses the operation);</li>
 *   <li>a hold goes through {@link dev.portcullis.gate.ApprovalFlow}: request opened durably, client
 *       told, wait, release exactly once or refusal with the reason; the adapter only renders it;</li>
 *   <li>the adapter refuses, or injects the target's credential, forwards and masks;</li>
 *   <li>{@link dev.portcullis.gate.Gate.Judged} records the outcome before the response is released.</li>
 * </ol>
 * Adapters translate; this package and the ones it calls decide.
 */
package dev.portcullis.gate;
