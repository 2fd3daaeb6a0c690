/**
 * Persistence behind small interfaces. {@link dev.portcullis.store.AuditStore} keeps audit sessions
 * and their events. The gateway writes through a {@link dev.portcullis.store.LoggedStore}: every event
 * goes to a write-ahead {@link dev.portcullis.store.TrailLog} first (lines of
 * {@code TrailRecords}, written into a preallocated {@code TrailSegment}), and an indexer feeds an {@link dev.portcullis.store.IndexStore} behind it. Two
 * index stores, both also a {@link dev.portcullis.store.SqlStore} for approval requests:
 * {@link dev.portcullis.store.EmbeddedStore}, the default, one SQLite file in WAL mode (the CLI reads it
 * from another process while the gateway writes; migrations in {@code Migrations}), and
 * {@link dev.portcullis.store.PostgresStore}, shared by replicas (Flyway migrations in
 * {@code db/postgres}; one chain per replica; approval changes announced with {@code NOTIFY}).
 *
 * <p>Tables (the embedded store's; PostgreSQL's add a replica name to sessions and events, and keep a
 * head per replica in {@code audit_replica}): {@code schema_version} (applied migrations), {@code audit_session} (one row per session,
 * with its head: last seq and last hash), {@code audit_event} (seq and hash chain per session, global
 * seq and hash chain across sessions), {@code audit_chain_head} (the global head). The store persists
 * the numbers and hashes it is given ({@link dev.portcullis.store.ChainLink}, computed by the recorder)
 * and, inside the append transaction, refuses a batch that does not continue the chains it holds, so
 * two writers cannot fork them. It never computes a hash: a second store implements persistence only.
 *
 * <p>Background threads, kept out of the data path's way: {@code audit-trail-sync} (forces the trail
 * every 100 ms, makes the next segment), {@code audit-indexer}
 * (both under {@code SCHED_BATCH}) and the embedded store's {@code audit-checkpoint} (under
 * {@code SCHED_IDLE}). The C library calls the JDK has no API for are in {@code Libc}.
 */
package dev.portcullis.store;
