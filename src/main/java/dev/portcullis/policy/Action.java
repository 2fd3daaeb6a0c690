package dev.portcullis.policy;

import java.util.Locale;

/** What a rule does when it matches. */
public enum Action {
    ALLOW, DENY, REQUIRE_APPROVAL;

    /** The name used in configuration files: {@code allow}, {@code deny}, {@code require-approval}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** @throws IllegalArgumentException when {@code name} is not a config name */
    public static Action fromConfigName(String name) {
        for (Action a : values()) {
            if (a.configName().equals(name)) return a;
        }
        throw new IllegalArgumentException("unknown action '" + name + "'");
    }
}
