package dev.portcullis.http;

import dev.portcullis.masking.CappedCapture;
import dev.portcullis.masking.JsonMasker;
import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.MaskingException;
import dev.portcullis.masking.TextMasker;
import dev.portcullis.masking.TextStreamMasker;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.Supplier;

/**
 * How one response body crosses the gateway: masked by the rule's plan (JSON with links pointed at the
 * gateway, or text), by the dialect's own masker, or copied as it is; decided once its head is read.
 */
final class ResponseMasking {
    private final MaskPlan plan;
    /** The dialect's own masking; null: the rule's plan, as for any REST API. */
    private final HttpDialect.ResponseMasker masker;
    private final boolean rest;
    private final JsonMasker jsonMasker;
    private BodyMode mode;

    ResponseMasking(MaskPlan plan, HttpDialect.ResponseMasker masker, boolean rest, JsonMasker jsonMasker) {
        this.plan = plan;
        this.masker = masker;
        this.rest = rest;
        this.jsonMasker = jsonMasker;
    }

    /** Decides the mode from the response's head. */
    BodyMode decide(String contentType, String contentEncoding) {
        mode = masker != null ? BodyMode.ofDialect(contentType, contentEncoding)
                : rest ? BodyMode.of(plan, contentType, contentEncoding)
                : BodyMode.PASS_THROUGH;
        return mode;
    }

    BodyMode mode() {
        return mode;
    }

    /** The body as the mode says: masked (JSON, text) or copied as it is; links pointed at the gateway. */
    void copy(InputStream in, CappedCapture out, Supplier<UpstreamLinks> links) throws IOException, MaskingException {
        switch (mode) {
            case JSON -> {
                if (masker != null) masker.mask(in, out);
                else jsonMasker.mask(in, out, plan, links.get()::url);
            }
            case TEXT -> new TextStreamMasker(TextMasker.of(plan.detectors())).mask(in, out);
            case PASS_THROUGH -> in.transferTo(out);
            case UNMASKABLE -> throw new IllegalStateException("refused at the head");
        }
        out.flush();
    }
}
