package dev.portcullis.postgres;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Bind parameters as a person reads them in a recording: text-format values as sent, and binary
 * values of the common types (integers, floats, booleans, text, uuid) decoded using the parameter
 * types from Parse; anything else is described by size.
 */
final class BindParameters {
    private BindParameters() {
    }

    static List<String> render(FrontendMessage.Bind bind, List<Integer> parameterTypes) {
        List<String> values = new ArrayList<>(bind.params().length);
        for (int i = 0; i < bind.params().length; i++) {
            byte[] p = bind.params()[i];
            if (p == null) {
                values.add(null);
            } else if (bind.paramFormat(i) == 0) {
                values.add(new String(p, StandardCharsets.UTF_8));
            } else {
                int type = i < parameterTypes.size() ? parameterTypes.get(i) : 0;
                values.add(binary(type, p));
            }
        }
        return values;
    }

    private static String binary(int typeOid, byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        return switch (typeOid) {
            case 16 -> v.length == 1 ? String.valueOf(v[0] != 0) : size(v);
            case 21 -> v.length == 2 ? String.valueOf(b.getShort()) : size(v);
            case 23, 26 -> v.length == 4 ? String.valueOf(b.getInt()) : size(v);
            case 20 -> v.length == 8 ? String.valueOf(b.getLong()) : size(v);
            case 700 -> v.length == 4 ? String.valueOf(b.getFloat()) : size(v);
            case 701 -> v.length == 8 ? String.valueOf(b.getDouble()) : size(v);
            case 25, 1043, 1042, 19, 114 -> new String(v, StandardCharsets.UTF_8);
            case 2950 -> v.length == 16 ? new UUID(b.getLong(), b.getLong()).toString() : size(v);
            default -> switch (v.length) { // pgjdbc leaves the type unspecified (0) for setInt and friends
                case 4 -> typeOid == 0 ? String.valueOf(b.getInt()) : size(v);
                case 8 -> typeOid == 0 ? String.valueOf(b.getLong()) : size(v);
                default -> size(v);
            };
        };
    }

    private static String size(byte[] v) {
        return "(binary, " + v.length + " bytes)";
    }
}
