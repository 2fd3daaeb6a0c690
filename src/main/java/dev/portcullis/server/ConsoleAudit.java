package dev.portcullis.server;

import dev.portcullis.core.Identity;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.recording.ConnectionSession;
import java.time.Instant;

/**
 * What the console records in the trail: people signing in and out (each a recorded session of the
 * {@code admin} connection, protocol {@code console}, with who, their groups and where from), refused
 * sign-ins, and refused requests that concerned an approval. Approval decisions themselves are recorded
 * by the approval service, with the person's identity.
 */
interface ConsoleAudit {
    /** A refusal before anyone was known (a forged state, a CSRF failure...); {@code reason} is a short label. */
    void refused(String clientAddress, String reason, String message);

    /** @throws GateUnavailableException when the trail cannot record it: the sign-in must not stand */
    void signedIn(Identity who, String clientAddress, Instant until) throws GateUnavailableException;

    void signedOut(Identity who, String clientAddress);

    ConsoleAudit NONE = new ConsoleAudit() {
        @Override
        public void refused(String clientAddress, String reason, String message) {
        }

        @Override
        public void signedIn(Identity who, String clientAddress, Instant until) {
        }

        @Override
        public void signedOut(Identity who, String clientAddress) {
        }
    };

    static ConsoleAudit of(Gate gate) {
        return new ConsoleAudit() {
            @Override
            public void refused(String clientAddress, String reason, String message) {
                gate.recordRefusedLogin("admin", "console", clientAddress, reason, message);
            }

            @Override
            public void signedIn(Identity who, String clientAddress, Instant until) throws GateUnavailableException {
                try (ConnectionSession s = gate.openSession(who, "admin", "console", clientAddress)) {
                    s.end("signed in to the console, session until " + until);
                }
            }

            @Override
            public void signedOut(Identity who, String clientAddress) {
                try (ConnectionSession s = gate.openSession(who, "admin", "console", clientAddress)) {
                    s.end("signed out of the console");
                } catch (GateUnavailableException e) {
                    org.slf4j.LoggerFactory.getLogger(ConsoleAudit.class).error("console: {}'s sign-out could not be recorded: {}",
                            who.subject(), e.getMessage());
                }
            }
        };
    }
}
