package dev.portcullis.kubernetes;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.Json;
import dev.portcullis.http.HttpDialect;
import dev.portcullis.masking.MaskingException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Masks Secret values ({@link SecretMasking}) in a Kubernetes API response on its way to the agent: one
 * JSON document, or a watch's stream of events, each masked and sent on (and flushed) as soon as it has
 * arrived whole. A body that is not JSON fails the masking, so it is refused or cut, never passed on.
 *
 * <p>A single document that is not about Secrets and names neither {@code "Secret"} nor the
 * last-applied annotation (and has no escaped character that could spell them) cannot hold a Secret
 * value, and is copied as it came, unparsed.
 */
final class SecretStreamMasker implements HttpDialect.ResponseMasker {
    private static final ObjectMapper JSON = Json.mapper();
    /** A kind written with an escape ({@code "\u0053ecret"}) is still a Secret: any escape means the body is parsed. */
    private static final byte[][] SECRET_MARKERS = {"\"Secret".getBytes(StandardCharsets.US_ASCII),
            SecretMasking.LAST_APPLIED.getBytes(StandardCharsets.US_ASCII), "\\u".getBytes(StandardCharsets.US_ASCII)};

    private final boolean secrets;
    private final SecretMasking.Mode mode;
    private final boolean stream;

    /**
     * @param secrets whether the request was for the {@code secrets} resource
     * @param mode    names only (lists, watches) or values masked (a get)
     * @param stream  a watch: a sequence of events, each flushed as it is masked
     */
    SecretStreamMasker(boolean secrets, SecretMasking.Mode mode, boolean stream) {
        this.secrets = secrets;
        this.mode = mode;
        this.stream = stream;
    }

    @Override
    public void mask(InputStream in, OutputStream out) throws IOException, MaskingException {
        InputStream source = in;
        if (!stream && !secrets) {
            byte[] whole = in.readAllBytes();
            if (!mayHoldSecret(whole)) {
                out.write(whole);
                return;
            }
            source = new ByteArrayInputStream(whole);
        }
        try (JsonParser parser = JSON.createParser(source)) {
            while (parser.nextToken() != null) {
                JsonNode value = JSON.readTree(parser);
                SecretMasking.mask(value, secrets, mode);
                out.write(JSON.writeValueAsBytes(value));
                if (stream) {
                    out.write('\n');
                    out.flush();
                }
            }
        } catch (JacksonException e) {
            throw new MaskingException("the response is not JSON (" + e.getOriginalMessage() + ")", e);
        }
    }

    private static boolean mayHoldSecret(byte[] body) {
        for (byte[] marker : SECRET_MARKERS) {
            if (indexOf(body, marker) >= 0) return true;
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0, last = haystack.length - needle.length; i <= last; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
