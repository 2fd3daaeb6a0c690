package dev.portcullis.config;

import java.util.List;

/**
 * A configuration (or policy test) file is wrong. The message has one line per problem, each
 * {@code file:line:column: field.path: what was expected}, so every mistake can be fixed in one pass.
 */
public final class ConfigException extends Exception {

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** One entry per problem, in file order. */
    public List<String> problems() {
        return problems;
    }
}
