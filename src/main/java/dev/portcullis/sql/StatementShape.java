package dev.portcullis.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * A query text with its number and string constants taken out, as PostgreSQL's own lexer finds them:
 * {@code SELECT abalance FROM pgbench_accounts WHERE aid = 42} and {@code ... WHERE aid = 7} have one
 * shape. Two texts of one shape are the same tokens in the same order, with the same blanks and comments,
 * and differ only in the values of those constants, so the server's grammar builds the same tree for both
 * but for those values.
 *
 * <p>A shape may stand for its texts' analysis only where no constant's value can change it. That is
 * decided from the first text's parse tree ({@link #inert}): every constant taken out must be a plain
 * operand of an operator ({@code = 42}, {@code LIKE 'a%'}, {@code + 1}), an item of an {@code IN} or
 * {@code BETWEEN} list, a {@code VALUES} item, or a {@code LIMIT}/{@code OFFSET} count. A constant
 * anywhere else (a function's argument, a cast, a type's length, an {@code ORDER BY 2} that names a
 * column by its position, a target list) keeps the text out of the shape cache, and it is analysed by
 * its exact text as before.
 *
 * <p>Only number and plain string constants are taken out ({@code ICONST}, {@code FCONST}, {@code SCONST});
 * bit strings, hex strings, Unicode-escaped strings and parameters stay in the shape as written.
 */
final class StatementShape {

    /** pg_query.proto's {@code Token} values. */
    private static final int FCONST = 260, SCONST = 261, ICONST = 266, MINUS = 45;

    /** The text as UTF-8, the shape (each taken-out constant replaced by NUL and its token's kind), the constants' spans. */
    final byte[] utf8;
    final String key;
    private final int[] starts;
    private final int[] ends;
    /** Each constant's preceding token, when it is a lone '-' (a negative number's location is the sign's). */
    private final int[] minusBefore;

    private StatementShape(byte[] utf8, String key, int[] starts, int[] ends, int[] minusBefore) {
        this.utf8 = utf8;
        this.key = key;
        this.starts = starts;
        this.ends = ends;
        this.minusBefore = minusBefore;
    }

    /**
     * The shape of {@code sql}; null when it has no constant to take out, holds a NUL, is longer than
     * {@code maxBytes}, or the lexer refuses it (an unterminated string: the parser will say why).
     */
    static StatementShape of(String sql, int maxBytes) {
        if (sql.length() > maxBytes || sql.indexOf('\0') >= 0) return null;
        byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > maxBytes) return null;
        byte[] scanned = PgQuery.instance().scan(utf8);
        if (scanned == null) return null;
        try {
            return fromTokens(utf8, scanned);
        } catch (IOException e) {
            return null; // not the message libpg_query documents: no shape, the text is parsed as it is
        }
    }

    private static StatementShape fromTokens(byte[] utf8, byte[] scanResult) throws IOException {
        int[] starts = new int[8], ends = new int[8], minus = new int[8], kinds = new int[8];
        int count = 0;
        int previousToken = -1, previousStart = -1;
        CodedInputStream in = CodedInputStream.newInstance(scanResult);
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            if (WireFormat.getTagFieldNumber(tag) != 2 || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                in.skipField(tag);
                continue;
            }
            int limit = in.pushLimit(in.readRawVarint32());
            int start = 0, end = 0, token = 0;
            while (!in.isAtEnd()) {
                int field = in.readTag();
                switch (WireFormat.getTagFieldNumber(field)) {
                    case 1 -> start = in.readInt32();
                    case 2 -> end = in.readInt32();
                    case 4 -> token = in.readEnum();
                    default -> in.skipField(field);
                }
            }
            in.popLimit(limit);
            if (start < 0 || end < start || end > utf8.length) throw new IOException("token outside the text");
            if (token == ICONST || token == FCONST || token == SCONST) {
                if (count == starts.length) {
                    starts = java.util.Arrays.copyOf(starts, count * 2);
                    ends = java.util.Arrays.copyOf(ends, count * 2);
                    minus = java.util.Arrays.copyOf(minus, count * 2);
                    kinds = java.util.Arrays.copyOf(kinds, count * 2);
                }
                if (count > 0 && start < ends[count - 1]) throw new IOException("tokens out of order");
                starts[count] = start;
                ends[count] = end;
                minus[count] = previousToken == MINUS ? previousStart : -1;
                kinds[count] = token;
                count++;
            }
            previousToken = token;
            previousStart = start;
        }
        if (count == 0) return null;
        byte[] key = new byte[utf8.length + 2 * count];
        int k = 0, from = 0;
        for (int i = 0; i < count; i++) {
            int n = starts[i] - from;
            System.arraycopy(utf8, from, key, k, n);
            k += n;
            key[k++] = 0;
            key[k++] = (byte) (kinds[i] - 256); // which kind of constant: the grammar may treat them differently
            from = ends[i];
        }
        System.arraycopy(utf8, from, key, k, utf8.length - from);
        k += utf8.length - from;
        return new StatementShape(utf8, new String(key, 0, k, StandardCharsets.ISO_8859_1),
                java.util.Arrays.copyOf(starts, count), java.util.Arrays.copyOf(ends, count),
                java.util.Arrays.copyOf(minus, count));
    }

    int constants() {
        return starts.length;
    }

    /**
     * The byte offset in this text of {@code offset} in {@code other}, a text of the same shape; offsets
     * between constants only (a statement's start or end).
     */
    int mapFrom(StatementShape other, int offset) {
        int shift = 0;
        for (int i = 0; i < other.starts.length && other.ends[i] <= offset; i++) {
            shift += (ends[i] - starts[i]) - (other.ends[i] - other.starts[i]);
        }
        return offset + shift;
    }

    /**
     * Whether no taken-out constant's value can change what {@code stmt} (this text's one statement, a
     * {@code {"SelectStmt": ...}} wrapper) is: every one of them is at a place {@link StatementShape}
     * lists.
     */
    boolean inert(JsonNode stmt) {
        Set<Integer> locations = new HashSet<>();
        collect(stmt, Place.OTHER, locations);
        for (int i = 0; i < starts.length; i++) {
            if (locations.contains(starts[i])) continue;
            if (minusBefore[i] >= 0 && locations.contains(minusBefore[i])) continue;
            return false;
        }
        return true;
    }

    /** What a constant directly at a place is to the statement. */
    private enum Place {
        /** Its value cannot change the analysis. */
        VALUE,
        /** A {@code List} here holds values: an IN or BETWEEN list, a VALUES row. */
        VALUE_LIST,
        OTHER
    }

    private static void collect(JsonNode node, Place place, Set<Integer> out) {
        if (node.isArray()) {
            for (JsonNode n : node) collect(n, place, out);
            return;
        }
        if (!node.isObject() || node.size() != 1) {
            // a plain field object (not a node wrapper): its fields are no operand of anything
            for (JsonNode n : node) collect(n, Place.OTHER, out);
            return;
        }
        Map.Entry<String, JsonNode> only = node.properties().iterator().next();
        String type = only.getKey();
        JsonNode body = only.getValue();
        if (type.equals("A_Const")) {
            if (place == Place.VALUE && body.path("location").isInt()) out.add(body.get("location").asInt());
            return;
        }
        if (!body.isObject() || type.isEmpty() || !Character.isUpperCase(type.charAt(0))) {
            collect(body, Place.OTHER, out); // a one-field object that is not a node
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = body.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            Place child = switch (type) {
                case "A_Expr" -> field.getKey().equals("lexpr") ? Place.VALUE
                        : field.getKey().equals("rexpr") ? Place.VALUE_LIST : Place.OTHER;
                case "List" -> field.getKey().equals("items") && place == Place.VALUE_LIST ? Place.VALUE : Place.OTHER;
                case "SelectStmt" -> switch (field.getKey()) {
                    case "valuesLists" -> Place.VALUE_LIST;
                    case "limitCount", "limitOffset" -> Place.VALUE;
                    default -> Place.OTHER;
                };
                default -> Place.OTHER;
            };
            // an A_Expr's right operand is a value itself, or a list of them
            if (child == Place.VALUE_LIST && field.getValue().has("A_Const")) child = Place.VALUE;
            collect(field.getValue(), child, out);
        }
    }
}
