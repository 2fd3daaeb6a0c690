/**
 * Persistence behind small interfaces. {@link dev.portcullis.store.AuditStore} keeps audit sessions
 * and their events; {@link dev.portcullis.store.EmbeddedStore} is the default, one SQLite file in WAL
 * mode (the CLI reads it from another process while the gateway writes). A PostgreSQL store for
 * several replicas will implement the same interface with the same migration scripts.
 *
 * <p>Tables: {@code schema_version} (applied migrations), {@code audit_session} (one row per session,
 * with its head: last seq and last hash), {@code audit_event} (seq and hash chain per session, global
 * seq and hash chain across sessions), {@code audit_chain_head} (the global head). The store persists
 * the numbers and hashes it is given ({@link dev.portcullis.store.ChainLink}, computed by the recorder)
 * and, inside the append transaction, refuses a batch that does not continue the chains it holds, so
 * two writers cannot fork them. It never computes a hash: a second store implements persistence only.
 */
package dev.portcullis.store;
