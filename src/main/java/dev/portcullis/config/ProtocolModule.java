package dev.portcullis.config;

import dev.portcullis.core.Identity;
import dev.portcullis.core.Operation;
import dev.portcullis.gate.Gate;
import dev.portcullis.policy.OperationCondition;
import dev.portcullis.policy.Policy;
import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

/**
 * One protocol the gateway speaks (HTTP, PostgreSQL, ...), behind one interface: its connection
 * section of the YAML, its block of policy conditions, its native requests as {@link Operation}s, its
 * listener. The server, the configuration loader, the CLI and {@code policy test} know protocols only
 * through these modules, found by {@link ProtocolRegistry}: adding a protocol is its own package plus
 * one line in {@code META-INF/services/dev.portcullis.config.ProtocolModule}.
 *
 * <p>Everything a module decides nothing about stays in the core: authentication, policy, the approval
 * flow ({@link dev.portcullis.gate.ApprovalFlow}), recording. The listener it starts turns each native
 * request into an {@link Operation}, asks the {@link Gate}, and renders the answer (refusal, hold, notice)
 * in its own dialect. Problems in its sections are reported through the {@link ConfigReader} it is
 * given, with file, line and field, like every other problem of the file.
 */
public interface ProtocolModule {

    /** The connection {@code type:} it serves: {@code http}, {@code postgres}, ... */
    String type();

    /** Its block in a rule's {@code when:} and in a policy test case: {@code http}, {@code sql}, ... */
    String operationKey();

    /** Keys its connection section takes beside {@code name}, {@code type}, {@code listen} and {@code policy}. */
    List<String> connectionKeys();

    /**
     * Parses its connection section; the common keys are parsed already. Problems are reported on
     * {@code section.reader()}; returns null when there were any (in this section or its common keys).
     */
    ConnectionConfig connection(ConnectionSection section);

    /** Parses a rule's {@code when.<operationKey>} block; null when a problem was reported. */
    OperationCondition condition(ConfigReader reader, Node block, String path);

    /**
     * A policy test case's {@code <operationKey>} block as the operations the gateway would judge (a
     * SQL text of several statements is several). Null when a problem was reported on the reader.
     *
     * @throws UnjudgeableException the text is not an operation the gateway could judge (SQL that does
     *                              not parse): the case fails with this message, as the gateway would refuse it
     */
    List<Operation> testOperations(ConfigReader reader, Node block, String path) throws UnjudgeableException;

    /** How a policy test case writes its operation, for the message when a case has none: {@code "SELECT ..."}. */
    String testCaseExample();

    /**
     * How a policy test checks what masking does to a case whose verdict masks (the {@code masked-columns}
     * and {@code refused} expectations); empty when the protocol has no such checks. Called once per test
     * file, with its {@code catalog:} block if any (problems in it are reported on the reader).
     */
    default Optional<TestMasking> testMasking(ConfigReader reader, Optional<Node> catalog) {
        return Optional.empty();
    }

    /** See {@link #testMasking}. */
    interface TestMasking {
        /** {@code masked columns [a, b]} (of the last statement masked) or {@code refused: why}. */
        String outcome(Policy policy, Identity identity, List<Operation> operations);
    }

    /** Why it cannot serve here (a native library missing, ...); empty when it can. Checked before any listener starts. */
    default Optional<String> unavailableBecause() {
        return Optional.empty();
    }

    /** Starts the listener of one of its connections. */
    Listener start(ConnectionConfig connection, ListenerContext context) throws Exception;

    /** A running listener. */
    interface Listener extends AutoCloseable {
        int port();

        /** For the start-up log: scheme, address and where it forwards to, e.g. {@code https://0.0.0.0:8443 → https://acme.okta.com}. */
        String describe();

        /** A listener of {@code running}, bound to {@code port}. */
        static Listener of(AutoCloseable running, int port, String description) {
            return new Listener() {
                @Override
                public int port() {
                    return port;
                }

                @Override
                public String describe() {
                    return description;
                }

                @Override
                public void close() throws Exception {
                    running.close();
                }
            };
        }
    }

    /**
     * What a listener is given: the gate every operation goes through, the gateway's limits, and the
     * tunnels of network agents its upstream may go through.
     */
    record ListenerContext(Gate gate, int maxResponseBytes, dev.portcullis.core.Tunnels tunnels) {
        public ListenerContext(Gate gate, int maxResponseBytes) {
            this(gate, maxResponseBytes, dev.portcullis.core.Tunnels.NONE);
        }
    }

    /** A policy test operation the gateway could not judge at all. */
    final class UnjudgeableException extends Exception {
        public UnjudgeableException(String message) {
            super(message);
        }
    }
}
