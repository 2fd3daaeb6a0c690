package dev.portcullis.core;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Jackson set up for the data path. Requests run on virtual threads, and Jackson's default buffer
 * recycling is per (carrier) thread, so every parser and generator there allocated fresh 8 KB buffers
 * (a third of the gateway's allocation per HTTP call, measured with JFR). These share one lock-free
 * pool instead.
 */
public final class Json {
    private Json() {
    }

    /** A factory whose parsers and generators take their buffers from the shared pool. */
    public static JsonFactory factory() {
        return JsonFactory.builder().recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build();
    }

    /**
     * A factory for JSON written as UTF-8 bytes that must read back as the same string the character
     * generator would have written: a surrogate pair (an emoji) goes out as its four UTF-8 bytes, not as two
     * {@code \\u} escapes. A lone surrogate is still escaped.
     */
    public static JsonFactory utf8Factory() {
        return JsonFactory.builder().enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
                .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build();
    }

    /** A new mapper over {@link #factory()}; configure it as any other. */
    public static ObjectMapper mapper() {
        return JsonMapper.builder(factory()).build();
    }
}
