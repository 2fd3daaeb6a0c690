package dev.portcullis.store;

/**
 * What a {@link LoggedStore} feeds from its trail: an audit store that is also a {@link SqlStore}
 * (approval requests live beside the events). The embedded SQLite file, or PostgreSQL shared by replicas.
 */
public interface IndexStore extends AuditStore, SqlStore {
}
