package dev.portcullis.store;

/** The index store contract on the embedded SQLite file. */
class EmbeddedIndexStoreTest extends IndexStoreContract {
    @Override
    IndexStore open(String name) {
        return EmbeddedStore.open(dir.resolve(name + ".db"));
    }
}
