package dev.portcullis.masking;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.portcullis.core.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.function.UnaryOperator;

/**
 * Masks JSON token by token, from a parser straight into a generator: memory depends on the
 * largest single token and the nesting depth, never on the size of the body.
 *
 * <p>A value whose field a selector matches becomes {@code "[masked]"}, whatever it was (its
 * children are skipped unread by the generator); every other string value goes through the
 * plan's detectors, then through the caller's rewrite, if any (the HTTP adapter points upstream URLs
 * at the gateway). Field names are schema and pass unchanged; numbers keep their exact text.
 *
 * <p>Fail closed: if the upstream JSON breaks off or goes wrong midway, {@link MaskingException} is
 * thrown and nothing more is written. Only masked bytes ever reach {@code out}, but they may be a
 * truncated document: the caller must abort the response, not complete it. Thread-safe.
 */
public final class JsonMasker {
    /** What replaces a value selected by field. */
    public static final String MASKED = "[masked]";

    /** Push output to the client about this often (input bytes), at the end of a top-level element. */
    private static final long FLUSH_EVERY_BYTES = 64 * 1024;

    private final ObjectMapper mapper;
    private final JsonFactory factory;

    public JsonMasker() {
        this(Json.mapper());
    }

    /** Uses {@code mapper}'s factory (and its read constraints: string length, nesting depth). */
    public JsonMasker(ObjectMapper mapper) {
        this.mapper = mapper;
        this.factory = mapper.getFactory().copy()
                .disable(StreamReadFeature.AUTO_CLOSE_SOURCE.mappedFeature())
                .disable(StreamWriteFeature.AUTO_CLOSE_TARGET.mappedFeature())
                // a broken body must never be closed into a valid-looking document
                .disable(JsonGenerator.Feature.AUTO_CLOSE_JSON_CONTENT)
                .setRootValueSeparator("\n");
    }

    /**
     * Reads one JSON body (or a sequence of root values, such as NDJSON) from {@code in} and writes it
     * masked to {@code out}. Neither stream is closed.
     *
     * @throws MaskingException the input is not valid JSON (or exceeds the read constraints)
     * @throws IOException      reading {@code in} or writing {@code out} failed
     */
    public void mask(InputStream in, OutputStream out, MaskPlan plan) throws IOException, MaskingException {
        mask(in, out, plan, UnaryOperator.identity());
    }

    /**
     * As {@link #mask(InputStream, OutputStream, MaskPlan)}, and every string value that is not masked
     * by field passes through {@code rewrite} after the detectors: {@code rewrite} sees what the
     * detectors left, never a masked value, and what it returns is written as is (escaped as JSON).
     */
    public void mask(InputStream in, OutputStream out, MaskPlan plan, UnaryOperator<String> rewrite)
            throws IOException, MaskingException {
        Compiled compiled = compile(plan);
        try (JsonParser parser = factory.createParser(in)) {
            JsonGenerator generator = factory.createGenerator(out);
            copyMasked(parser, generator, compiled, rewrite, true);
            generator.close(); // flushes; only reached when the whole body was read and masked
        } catch (JsonProcessingException e) {
            throw new MaskingException("upstream JSON could not be masked: " + e.getOriginalMessage(), e);
        }
    }

    /** Masks a small JSON document held in memory. */
    public String maskJson(String json, MaskPlan plan) throws MaskingException {
        return maskJson(json, compile(plan));
    }

    /**
     * As {@link #maskJson(String, MaskPlan)} with a plan compiled by the caller: the {@link Redactor}
     * selects fields and detectors of its own and replaces them with its own token.
     */
    String maskJson(String json, Compiled plan) throws MaskingException {
        StringWriter out = new StringWriter(json.length());
        try (JsonParser parser = factory.createParser(json);
                JsonGenerator generator = factory.createGenerator(out)) {
            copyMasked(parser, generator, plan, UnaryOperator.identity(), true);
        } catch (JsonProcessingException e) {
            throw new MaskingException("JSON could not be masked: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("in-memory JSON I/O", e);
        }
        return out.toString();
    }

    /** Masks a tree; the input is left untouched. */
    public JsonNode mask(JsonNode tree, MaskPlan plan) {
        try (JsonParser parser = tree.traverse(mapper);
                TokenBuffer buffer = new TokenBuffer(mapper, false)) {
            copyMasked(parser, buffer, compile(plan), UnaryOperator.identity(), false);
            try (JsonParser masked = buffer.asParser(mapper)) {
                return mapper.readTree(masked);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("in-memory JSON tree", e);
        }
    }

    /** Fields and detectors ready to match; {@code fieldReplacement} is what a selected field's value becomes. */
    record Compiled(FieldSelectors fields, TextMasker text, String fieldReplacement) {}

    /** Plans come from configuration, so there are few: each is compiled once. */
    private static final java.util.concurrent.ConcurrentMap<MaskPlan, Compiled> COMPILED =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static Compiled compile(MaskPlan plan) {
        Compiled compiled = COMPILED.get(plan);
        if (compiled != null) return compiled;
        if (COMPILED.size() > 1024) COMPILED.clear(); // plans built at run time must not grow this forever
        return COMPILED.computeIfAbsent(plan, p -> new Compiled(new FieldSelectors(p.fields()), TextMasker.of(p.detectors()), MASKED));
    }

    /**
     * The one loop. {@code textual}: the parser reads text, so a number's original spelling is
     * available and copied verbatim; a tree keeps exact values instead.
     */
    private static void copyMasked(JsonParser p, JsonGenerator g, Compiled plan, UnaryOperator<String> rewrite,
                                   boolean textual) throws IOException {
        long flushedAt = 0;
        JsonToken token;
        while ((token = p.nextToken()) != null) {
            switch (token) {
                case FIELD_NAME -> {
                    g.copyCurrentEvent(p);
                    if (!plan.fields().isEmpty() && plan.fields().matches(p.getParsingContext())) {
                        JsonToken value = p.nextToken();
                        if (value == null) continue; // truncated: the next read reports it
                        if (value.isStructStart()) p.skipChildren();
                        g.writeString(plan.fieldReplacement());
                    }
                }
                case VALUE_STRING -> g.writeString(rewrite.apply(plan.text().mask(p.getText())));
                case VALUE_NUMBER_INT -> g.copyCurrentEvent(p);
                case VALUE_NUMBER_FLOAT -> {
                    if (textual) g.writeNumber(p.getText());
                    else g.copyCurrentEventExact(p);
                }
                case END_OBJECT, END_ARRAY -> {
                    g.copyCurrentEvent(p);
                    if (textual && p.getParsingContext().getNestingDepth() <= 1) {
                        long read = inputOffset(p);
                        if (read - flushedAt >= FLUSH_EVERY_BYTES) {
                            g.flush();
                            flushedAt = read;
                        }
                    }
                }
                default -> g.copyCurrentEvent(p);
            }
        }
    }

    private static long inputOffset(JsonParser p) {
        var location = p.currentLocation();
        long bytes = location.getByteOffset();
        return bytes >= 0 ? bytes : location.getCharOffset();
    }
}
