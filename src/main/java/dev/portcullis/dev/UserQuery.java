package dev.portcullis.dev;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The subset of Okta's user {@code q}, {@code filter} and {@code search} parameters the demo understands:
 * {@code q} is a prefix of firstName, lastName or email; {@code filter}/{@code search} are clauses
 * {@code attribute eq|sw|co "value"} joined by {@code and}, on {@code id}, {@code status} or {@code profile.*}.
 */
final class UserQuery {
    private static final Pattern CLAUSE =
            Pattern.compile("\\s*(id|status|profile\\.[A-Za-z0-9_]+)\\s+(eq|sw|co)\\s+\"((?:[^\"\\\\]|\\\\.)*)\"\\s*");

    private UserQuery() {
    }

    /** Empty when an expression is outside the supported subset. */
    static Optional<Predicate<OktaUser>> parse(Optional<String> q, Optional<String> filter, Optional<String> search) {
        Predicate<OktaUser> all = user -> true;
        if (q.isPresent()) {
            String prefix = q.get().toLowerCase(Locale.ROOT);
            all = all.and(user -> startsWith(user, "firstName", prefix) || startsWith(user, "lastName", prefix)
                    || startsWith(user, "email", prefix));
        }
        for (Optional<String> expression : List.of(filter, search)) {
            if (expression.isPresent()) {
                Optional<Predicate<OktaUser>> clauses = clauses(expression.get());
                if (clauses.isEmpty()) {
                    return Optional.empty();
                }
                all = all.and(clauses.get());
            }
        }
        if (filter.isEmpty() && search.isEmpty()) {
            // Okta leaves deprovisioned users out of the unfiltered list
            all = all.and(user -> user.status() != OktaUser.Status.DEPROVISIONED);
        }
        return Optional.of(all);
    }

    private static Optional<Predicate<OktaUser>> clauses(String expression) {
        List<Predicate<OktaUser>> parts = new ArrayList<>();
        for (String clause : expression.split("(?i)\\s+and\\s+")) {
            Matcher m = CLAUSE.matcher(clause);
            if (!m.matches()) {
                return Optional.empty();
            }
            String attribute = m.group(1);
            String op = m.group(2);
            String value = m.group(3).replaceAll("\\\\(.)", "$1").toLowerCase(Locale.ROOT);
            parts.add(user -> {
                String actual = attribute(user, attribute).toLowerCase(Locale.ROOT);
                return switch (op) {
                    case "eq" -> actual.equals(value);
                    case "sw" -> actual.startsWith(value);
                    default -> actual.contains(value);
                };
            });
        }
        return Optional.of(parts.stream().reduce(user -> true, Predicate::and));
    }

    private static String attribute(OktaUser user, String attribute) {
        return switch (attribute) {
            case "id" -> user.id();
            case "status" -> user.status().name();
            default -> user.profile().path(attribute.substring("profile.".length())).asText("");
        };
    }

    private static boolean startsWith(OktaUser user, String field, String prefix) {
        return user.profile().path(field).asText("").toLowerCase(Locale.ROOT).startsWith(prefix);
    }
}
