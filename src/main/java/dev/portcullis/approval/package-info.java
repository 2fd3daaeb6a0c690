/**
 * Approvals: an operation policy held ({@code Verdict.HoldForApproval}) waits, durably, until enough
 * members of the rule's approver groups approve it, one denies it, or it expires. Protocol-blind: the
 * service sees an {@code Operation}, a fingerprint and identities, never wire bytes.
 *
 * <p>Construction (the gateway, once): {@code new SqlApprovalStore(store)} from the store's index
 * (SQLite or PostgreSQL), the gateway's recorder and clock; {@code new ApprovalService(approvals, recorder, clock)}; notifications
 * {@link dev.portcullis.approval.ApprovalService#subscribe subscribe}; call
 * {@link dev.portcullis.approval.ApprovalService#expireDue expireDue} at start-up and every few seconds;
 * serve {@code new ApprovalApi(service, verifier)} on the admin listener.
 *
 * <p>Holding a statement in a live session (postgres; also ssh, k8s):
 * <pre>
 *  adapter (virtual thread)         ApprovalService              approver (REST / CLI)
 *  ────────────────────────         ───────────────              ─────────────────────
 *  verdict = HoldForApproval
 *  fp = OperationFingerprint.of(op)
 *  request(id, conn, op, fp, hold, ─▶ PC4000 recorded, row stored
 *          timeout, session)          listeners.onRequested ───▶ chat / webhook: "apr_… waits"
 *  tell client "waiting for apr_…"
 *  await(id, timeout) ·············                          ◀── POST /approvals/{id}/approve
 *                                     PC4001, state APPROVED
 *  ◀────────────── APPROVED ──────── wakes waiters
 *  consume(id, fp) == true ─────────▶ PC4004, state RELEASED (once)
 *  forward op (PC2001, PC2000)
 *  DENIED / EXPIRED / still PENDING / consume false: refuse in the client's dialect, naming the rule and id
 * </pre>
 *
 * <p>HTTP, where a call cannot be held for minutes: the adapter holds it up to half the hold-timeout
 * (at most 25 s), then refuses with a problem that names the approval id and where to approve. Once approved, the agent retries the
 * same call with header {@code Portcullis-Approval: apr_…}; the adapter computes the fingerprint of
 * the retried call (method, path, query and exact body bytes) and forwards it only if
 * {@code consume(id, fingerprint)} is true. A changed body, another path, or a second retry is refused.
 *
 * <p>Rules: an approver must be in one of the approver groups; nobody decides on their own request;
 * each approver counts once; only a pending, unexpired request changes; an approved request is released
 * once, for the exact operation, before its expiry. Every step is a hash-chained audit event (PC4000
 * requested, PC4001 approved, PC4002 denied, PC4003 expired, PC4004 released, PC4005 notified,
 * PC4006 revoked, PC4007 grant ended) naming the approver.
 *
 * <p>Time-boxed grants: a hold with {@code grant} opens a request with a {@code Grant}. Approved, its
 * end is set ({@code until} = approval time + duration) and it stays {@code APPROVED}: the gate asks
 * {@link dev.portcullis.approval.ApprovalService#activeGrant activeGrant} for every operation such a
 * rule holds and turns the hold into {@code Verdict.Granted} while one runs. {@code consume} of a grant
 * releases any operation of its rule and leaves the grant as it is; {@code expireDue} ends grants past
 * their time; {@code revoke} ends one early. A second operation held while a grant request is pending
 * waits on that request rather than opening another.
 */
package dev.portcullis.approval;
