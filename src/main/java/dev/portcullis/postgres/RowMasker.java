package dev.portcullis.postgres;

import dev.portcullis.masking.MaskPlan;
import dev.portcullis.masking.TextMasker;
import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Masks the rows of one result. Each column is decided once, from the statement's lineage and its
 * RowDescription entry: masked whole when the lineage computes it from a masked column
 * ({@code reverse(email)}, {@code row_to_json(c)}, a view's column...), or when its origin (table and
 * column, from the catalog) or its output name is a masked field; otherwise scanned by the content
 * detectors when it is text (an email inside a JSON or notes column). Values keep a form the
 * client can decode in the column's format (text or binary); a masked non-text value becomes NULL.
 */
final class RowMasker {
    static final byte[] MASKED = "[masked]".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MASKED_JSON = "\"[masked]\"".getBytes(StandardCharsets.US_ASCII);

    private static final int TEXT = 25, VARCHAR = 1043, BPCHAR = 1042, NAME = 19, CHAR = 18, JSON = 114, JSONB = 3802,
            XML = 142, UNKNOWN = 705, FIRST_USER_OID = 16384;

    enum Action { KEEP, DETECT, MASK }

    private final Action[] actions;
    private final int[] typeOids;
    private final boolean[] binary;
    /** A user-defined type whose values are strings (citext, a domain over text): masked as text, not NULL. */
    private final boolean[] userString;
    private final TextMasker detectors;
    private final boolean passThrough;

    private RowMasker(Action[] actions, int[] typeOids, boolean[] binary, boolean[] userString, TextMasker detectors) {
        this.actions = actions;
        this.typeOids = typeOids;
        this.binary = binary;
        this.userString = userString;
        this.detectors = detectors;
        boolean nothing = true;
        for (Action a : actions) nothing &= a == Action.KEEP;
        this.passThrough = nothing;
    }

    static RowMasker of(List<BackendMessage.Field> fields, MaskPlan plan, ColumnCatalog catalog) throws IOException {
        return of(fields, plan, catalog, null);
    }

    /**
     * @param derived the columns the statement's lineage computes from masked columns (masked whole, whatever
     *                their origin), or null when no lineage was needed
     */
    static RowMasker of(List<BackendMessage.Field> fields, MaskPlan plan, ColumnCatalog catalog, DerivedColumns derived)
            throws IOException {
        int n = fields.size();
        Action[] actions = new Action[n];
        int[] types = new int[n];
        boolean[] binary = new boolean[n];
        boolean[] userString = new boolean[n];
        TextMasker detectors = TextMasker.of(plan.detectors());
        for (int i = 0; i < n; i++) {
            BackendMessage.Field f = fields.get(i);
            types[i] = f.typeOid();
            binary[i] = f.format() == 1;
            String origin = null;
            String table = null;
            if (!plan.fields().isEmpty() && f.tableOid() != 0) {
                ColumnCatalog.Table t = catalog.table(f.tableOid());
                if (t != null) {
                    table = t.name();
                    origin = t.columns().get((int) f.columnAttr());
                }
            }
            if ((derived != null && derived.masks(i, n)) || masked(plan, f.name(), table, origin)) {
                actions[i] = Action.MASK;
                // composite, enum, range... types get NULL: "[masked]" would not parse as one of their values
                userString[i] = !binary[i] && f.typeOid() >= FIRST_USER_OID && catalog != null && catalog.isStringType(f.typeOid());
            } else if (!detectors.isEmpty() && isText(f.typeOid(), binary[i])) {
                actions[i] = Action.DETECT;
            } else {
                actions[i] = Action.KEEP;
            }
        }
        return new RowMasker(actions, types, binary, userString, detectors);
    }

    private static boolean masked(MaskPlan plan, String outputName, String table, String origin) {
        for (String field : plan.fields()) {
            String f = field.toLowerCase(Locale.ROOT);
            int dot = f.lastIndexOf('.');
            if (dot < 0) {
                if (f.equals(origin) || f.equals(outputName.toLowerCase(Locale.ROOT))) return true;
            } else if (origin != null && table != null && f.substring(dot + 1).equals(origin)
                    && f.substring(0, dot).endsWith(table)) {
                return true;
            }
        }
        return false;
    }

    static boolean isJson(int typeOid) {
        return typeOid == JSON || typeOid == JSONB;
    }

    /** Whether a masked value of this type reads "[masked]" (text-like types) rather than NULL. */
    static boolean masksAsText(int typeOid, ColumnCatalog catalog) {
        return switch (typeOid) {
            case TEXT, VARCHAR, BPCHAR, NAME, XML, UNKNOWN -> true;
            default -> typeOid >= FIRST_USER_OID && catalog != null && catalog.isStringType(typeOid);
        };
    }

    private static boolean isText(int typeOid, boolean binary) {
        return switch (typeOid) {
            case TEXT, VARCHAR, BPCHAR, NAME, CHAR, JSON, JSONB, XML, UNKNOWN -> true;
            // user-defined types (citext, enums, domains) are strings in text format
            default -> !binary && typeOid >= FIRST_USER_OID;
        };
    }

    /** Nothing in this result needs masking: rows can be forwarded untouched. */
    boolean passThrough() {
        return passThrough;
    }

    /** Masks one DataRow payload; returns the same array when nothing changed. */
    byte[] mask(byte[] payload) throws PgProtocolException {
        if (payload.length < 2) throw new PgProtocolException("DataRow too short");
        int columns = ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
        if (columns != actions.length) {
            throw new PgProtocolException("DataRow has " + columns + " columns, RowDescription announced " + actions.length);
        }
        ByteArrayOutputStream out = null;
        int pos = 2;
        int copiedUpTo = 0;
        for (int i = 0; i < columns; i++) {
            if (pos + 4 > payload.length) throw new PgProtocolException("DataRow truncated");
            int len = ((payload[pos] & 0xff) << 24) | ((payload[pos + 1] & 0xff) << 16) | ((payload[pos + 2] & 0xff) << 8)
                    | (payload[pos + 3] & 0xff);
            int valueStart = pos + 4;
            int valueEnd = len < 0 ? valueStart : valueStart + len;
            if (valueEnd > payload.length) throw new PgProtocolException("DataRow value overruns the message");
            byte[] replacement = null;
            boolean toNull = false;
            if (len >= 0 && actions[i] != Action.KEEP) {
                if (actions[i] == Action.MASK) {
                    replacement = maskedValue(typeOids[i], binary[i], userString[i]);
                    toNull = replacement == null;
                } else {
                    replacement = detect(payload, valueStart, len, typeOids[i], binary[i]);
                }
            }
            if (replacement != null || toNull) {
                if (out == null) out = new ByteArrayOutputStream(payload.length + 16);
                out.write(payload, copiedUpTo, pos - copiedUpTo);
                if (toNull) {
                    writeInt(out, -1);
                } else {
                    writeInt(out, replacement.length);
                    out.write(replacement, 0, replacement.length);
                }
                copiedUpTo = valueEnd;
            }
            pos = valueEnd;
        }
        if (out == null) return payload;
        out.write(payload, copiedUpTo, payload.length - copiedUpTo);
        return out.toByteArray();
    }

    /** Detectors over a COPY text/CSV line or any text: masked text, or null when unchanged. */
    String detect(String text) {
        if (detectors.isEmpty()) return null;
        String masked = detectors.mask(text);
        return masked == text ? null : masked;
    }

    private byte[] detect(byte[] payload, int start, int len, int typeOid, boolean isBinary) {
        int offset = (isBinary && typeOid == JSONB) ? 1 : 0; // binary jsonb: a version byte, then JSON text
        if (len <= offset || !worthScanning(payload, start + offset, len - offset)) return null;
        String text = new String(payload, start + offset, len - offset, StandardCharsets.UTF_8);
        String masked = detectors.mask(text);
        if (masked == text) return null;
        byte[] bytes = masked.getBytes(StandardCharsets.UTF_8);
        if (offset == 0) return bytes;
        byte[] withVersion = new byte[bytes.length + 1];
        withVersion[0] = payload[start];
        System.arraycopy(bytes, 0, withVersion, 1, bytes.length);
        return withVersion;
    }

    /** Every detector needs an '@', or several digits, or a key-like prefix: skip values with none. */
    private static boolean worthScanning(byte[] b, int start, int len) {
        int digits = 0;
        for (int i = start, end = start + len; i < end; i++) {
            byte c = b[i];
            if (c == '@' || c == '_' || c == '-' || c == '.') return true;
            if (c >= '0' && c <= '9' && ++digits >= 7) return true;
        }
        return false;
    }

    private static byte[] maskedValue(int typeOid, boolean isBinary, boolean userString) {
        return switch (typeOid) {
            case TEXT, VARCHAR, BPCHAR, NAME, XML, UNKNOWN -> MASKED;
            case JSON -> MASKED_JSON;
            case JSONB -> isBinary ? withVersion(MASKED_JSON) : MASKED_JSON;
            default -> userString ? MASKED : null;
        };
    }

    private static byte[] withVersion(byte[] json) {
        byte[] b = new byte[json.length + 1];
        b[0] = 1;
        System.arraycopy(json, 0, b, 1, json.length);
        return b;
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    /** Which columns a COPY line has to mask, by position; and the detectors for the rest. */
    boolean masksColumn(int index) {
        return index < actions.length && actions[index] == Action.MASK;
    }

    int columnCount() {
        return actions.length;
    }
}
