package dev.portcullis.postgres;

import java.nio.charset.StandardCharsets;

/** Renders a (masked) DataRow payload for a recording: values separated by " | ", NULL as NULL. */
final class DataRows {
    private static final int MAX_VALUE_CHARS = 200;

    private DataRows() {
    }

    static String render(byte[] payload) {
        int columns = ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
        StringBuilder sb = new StringBuilder();
        int pos = 2;
        for (int i = 0; i < columns && pos + 4 <= payload.length; i++) {
            int len = ((payload[pos] & 0xff) << 24) | ((payload[pos + 1] & 0xff) << 16) | ((payload[pos + 2] & 0xff) << 8)
                    | (payload[pos + 3] & 0xff);
            pos += 4;
            if (i > 0) sb.append(" | ");
            if (len < 0) {
                sb.append("NULL");
                continue;
            }
            String value = new String(payload, pos, Math.min(len, payload.length - pos), StandardCharsets.UTF_8);
            sb.append(value.length() > MAX_VALUE_CHARS ? value.substring(0, MAX_VALUE_CHARS) + "…" : value);
            pos += len;
        }
        return sb.toString();
    }
}
