package dev.portcullis.testprotocol;

import dev.portcullis.core.Operation;
import dev.portcullis.policy.OperationCondition;
import java.util.Optional;
import java.util.Set;

/** {@code when.echo: {verbs: [...], contains: text}}: every part given must hold. */
record EchoCondition(Set<String> verbs, Optional<String> contains) implements OperationCondition {

    @Override
    public String protocol() {
        return "echo";
    }

    @Override
    public boolean matches(Operation operation, boolean everyValue) {
        return operation instanceof EchoCommand c
                && (verbs.isEmpty() || verbs.contains(c.verb()))
                && contains.map(c.text()::contains).orElse(true);
    }
}
