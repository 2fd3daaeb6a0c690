package dev.portcullis.masking;

import com.fasterxml.jackson.core.JsonStreamContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Dotted field selectors compiled for matching against a parser's context.
 *
 * <p>A selector matches a field when its names equal the last names of the field's path, whole
 * names only, array levels ignored: {@code profile.email} matches {@code [3].profile.email} and
 * {@code _embedded.user.profile.email}, not {@code xprofile.email}. Selectors are indexed by their last
 * name, so the common field costs one hash lookup.
 */
final class FieldSelectors {
    static final FieldSelectors NONE = new FieldSelectors(List.of());

    /** Last name → the other names of each selector ending with it, outermost first. */
    private final Map<String, List<String[]>> byLastName = new HashMap<>();

    FieldSelectors(List<String> selectors) {
        for (String selector : selectors) {
            String[] names = parse(selector);
            String last = names[names.length - 1];
            String[] parents = Arrays.copyOf(names, names.length - 1);
            byLastName.computeIfAbsent(last, k -> new ArrayList<>()).add(parents);
        }
    }

    boolean isEmpty() {
        return byLastName.isEmpty();
    }

    /**
     * Whether the field the parser is positioned on (its FIELD_NAME token, or its value) is selected.
     * {@code context} is the object context holding that field.
     */
    boolean matches(JsonStreamContext context) {
        List<String[]> candidates = byLastName.get(context.getCurrentName());
        if (candidates == null) return false;
        for (String[] parents : candidates) {
            if (parentsMatch(context.getParent(), parents)) return true;
        }
        return false;
    }

    private static boolean parentsMatch(JsonStreamContext ctx, String[] parents) {
        for (int i = parents.length - 1; i >= 0; i--) {
            while (ctx != null && ctx.inArray()) ctx = ctx.getParent();
            if (ctx == null || !ctx.inObject() || !parents[i].equals(ctx.getCurrentName())) return false;
            ctx = ctx.getParent();
        }
        return true;
    }

    /**
     * The first of {@code selectors} that masks the value at {@code names} (a path such as
     * {@code [profile, email]}): one that matches the path itself or any of its ancestors, whose whole
     * value the masker replaces. Names are compared ignoring case: a search condition is judged by what
     * the target might read, and targets such as SCIM read attribute names without case. Null when none.
     */
    static String maskingSelector(List<String> selectors, List<String> names) {
        for (String selector : selectors) {
            String[] wanted = parse(selector);
            for (int end = names.size(); end >= wanted.length; end--) {
                if (endsWith(names.subList(0, end), wanted)) return selector;
            }
        }
        return null;
    }

    private static boolean endsWith(List<String> path, String[] suffix) {
        int offset = path.size() - suffix.length;
        for (int i = 0; i < suffix.length; i++) {
            if (!path.get(offset + i).equalsIgnoreCase(suffix[i])) return false;
        }
        return true;
    }

    /** {@code $.users[*].profile.email} → [users, profile, email]: a leading {@code $} and indices drop out. */
    static String[] parse(String selector) {
        String cleaned = selector.strip().replaceAll("\\[[^\\]]*]", ".");
        List<String> names = new ArrayList<>();
        for (String part : cleaned.split("\\.")) {
            if (!part.isEmpty()) names.add(part);
        }
        if (!names.isEmpty() && names.getFirst().equals("$")) names.removeFirst();
        if (names.isEmpty()) {
            throw new IllegalArgumentException("field selector '" + selector + "' names no field;"
                    + " expected a dotted path such as 'profile.email'");
        }
        return names.toArray(String[]::new);
    }
}
