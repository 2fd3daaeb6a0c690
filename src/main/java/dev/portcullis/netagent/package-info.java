/**
 * Network agents: reaching targets in a private network the gateway cannot reach.
 *
 * <p>{@link dev.portcullis.netagent.NetworkAgent} runs beside the targets and dials out to the gateway's
 * {@link dev.portcullis.netagent.AgentListener} over SSH (Apache MINA SSHD): it enrols once with a one-time
 * join token ({@link dev.portcullis.netagent.AgentRegistry}, in the store so every replica knows it), then
 * logs in with a certificate from the agents' CA, heartbeats and renews. The listener is the gateway's
 * {@link dev.portcullis.core.Tunnels}: each upstream connection of a connection that goes {@code via: agent
 * NAME} is one {@code direct-tcpip} channel through the agent's connection (its own SSH window, so one
 * slow stream holds back no other), reached by the adapters through a loopback bridge with one-time
 * tickets. The agent dials only its allow-list; for a database whose credentials it holds it logs in itself
 * ({@link dev.portcullis.postgres.AgentLogin}). Policy, masking and recording stay in the gateway.
 */
package dev.portcullis.netagent;
