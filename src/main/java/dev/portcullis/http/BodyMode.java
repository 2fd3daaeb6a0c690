package dev.portcullis.http;

import dev.portcullis.masking.MaskPlan;
import java.util.Locale;

/** How a response body crosses the gateway, from its content type and encoding and what must be masked. */
enum BodyMode {
    JSON, TEXT, PASS_THROUGH, UNMASKABLE;

    static BodyMode of(MaskPlan plan, String contentType, String contentEncoding) {
        boolean encoded = contentEncoding != null && !contentEncoding.equalsIgnoreCase("identity");
        // Nothing to mask, but a JSON body's links must still point at the gateway: it is copied
        // token by token too (and, like a masked one, aborted if it turns out not to be JSON).
        if (plan.isEmpty()) return isJson(contentType) && !encoded ? JSON : PASS_THROUGH;
        if (encoded) return UNMASKABLE;
        if (isJson(contentType)) return JSON;
        if (isText(contentType)) return TEXT;
        if (contentType == null) return JSON; // sniffed by the parser: non-JSON fails closed
        return UNMASKABLE;
    }

    /** A dialect's own masker reads JSON (or a stream of JSON values) only: anything else cannot be masked. */
    static BodyMode ofDialect(String contentType, String contentEncoding) {
        boolean encoded = contentEncoding != null && !contentEncoding.equalsIgnoreCase("identity");
        return !encoded && (contentType == null || isJson(contentType)) ? JSON : UNMASKABLE;
    }

    static boolean isJson(String contentType) {
        if (contentType == null) return false;
        String ct = contentType.toLowerCase(Locale.ROOT);
        int semi = ct.indexOf(';');
        if (semi >= 0) ct = ct.substring(0, semi);
        ct = ct.trim();
        return ct.equals("application/json") || ct.endsWith("+json");
    }

    static boolean isText(String contentType) {
        if (contentType == null) return false;
        String ct = contentType.toLowerCase(Locale.ROOT);
        return ct.startsWith("text/") || ct.startsWith("application/xml") || ct.contains("+xml")
                || ct.startsWith("application/x-www-form-urlencoded") || ct.startsWith("application/csv");
    }
}
