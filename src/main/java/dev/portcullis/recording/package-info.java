/**
 * Recording: every operation, refusal and failed authentication, as a tamper-evident trail tied to
 * the identity.
 *
 * <pre>
 *  adapter thread                DurableRecorder                 writer thread          AuditStore
 *  ──────────────                ───────────────                 ─────────────          ──────────
 *  session.record(op) ─────────▶ enqueue(event, future) ───┐
 *  (waits on its future)                                    ├──▶ take + drain queue
 *  other callers ──────────────▶ enqueue ───────────────────┘    append(batch) ───────▶ one transaction:
 *                                                                                      seq, hashes, heads
 *                                                                ◀──────────────────── commit (fsync)
 *  returns; response released ◀─ future completed ◀───────────── complete all futures
 *  (or RecordingFailedException: the gateway refuses, fail closed)
 * </pre>
 *
 * <p>{@link dev.portcullis.recording.AuditEvent} is the catalog (stable codes in
 * {@link dev.portcullis.recording.EventCode}); events are stored as canonical JSON and chained per
 * session and globally (see {@link dev.portcullis.recording.ChainHash}, linked by {@link dev.portcullis.recording.AuditChain}).
 * {@link dev.portcullis.recording.AuditVerifier} re-computes both chains;
 * {@link dev.portcullis.recording.Replay} renders a session for people or tools.
 */
package dev.portcullis.recording;
