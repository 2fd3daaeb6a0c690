package dev.portcullis.sql;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parse results by query text (or by a text's shape), least recently used evicted first, bounded both by entries and by
 * the characters of text held (so a few huge statements cannot pin memory). Thread-safe; a lookup is a
 * short synchronized map access, far cheaper than a parse.
 */
final class ParseCache<V> {

    private final int maxEntries;
    private final long maxChars;
    private long chars;
    private final LinkedHashMap<String, V> map = new LinkedHashMap<>(256, 0.75f, true);

    ParseCache(int maxEntries, long maxChars) {
        this.maxEntries = maxEntries;
        this.maxChars = maxChars;
    }

    synchronized V get(String sql) {
        return map.get(sql);
    }

    /** Returns what is cached for {@code sql} after the call (an earlier result wins a race). */
    synchronized V put(String sql, V value) {
        if (sql.length() > maxChars / 16) return value; // too big to be worth holding
        V existing = map.putIfAbsent(sql, value);
        if (existing != null) return existing;
        chars += sql.length();
        var it = map.entrySet().iterator();
        while ((map.size() > maxEntries || chars > maxChars) && it.hasNext()) {
            Map.Entry<String, V> eldest = it.next();
            chars -= eldest.getKey().length();
            it.remove();
        }
        return value;
    }

    synchronized int size() {
        return map.size();
    }
}
