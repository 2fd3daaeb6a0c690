package dev.portcullis.config;

import dev.portcullis.policy.Policy;
import java.net.InetSocketAddress;

/**
 * A connection's section as a {@link ProtocolModule} gets it: its keys (checked against the module's),
 * and the common ones already parsed.
 *
 * @param name           null when invalid (a problem was reported)
 * @param listen         null when invalid
 * @param policy         null when invalid
 * @param problemsBefore how many problems the file had before this section: more at the end means return null
 */
public record ConnectionSection(ConfigReader reader, YamlTree.Obj keys, String name, InetSocketAddress listen,
                                Policy policy, int problemsBefore) {

    /** Whether this section (common keys included) has a problem so far. */
    public boolean hasProblems() {
        return reader.tree().problemCount() > problemsBefore;
    }
}
