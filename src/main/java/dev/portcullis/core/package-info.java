/**
 * The protocol-blind model every adapter translates into.
 *
 * <p>An adapter (http, postgres, ...) decodes its wire format into an {@link dev.portcullis.core.Operation}
 * and the verified caller into an {@link dev.portcullis.core.Identity}. Everything downstream (policy,
 * approvals, masking, recording) sees only these types, never raw bytes or raw tokens.
 *
 * <p>{@link dev.portcullis.core.Tunnels} is how an adapter reaches an upstream through a network agent
 * ({@code upstream.via: agent NAME}) without knowing how the tunnel is made (see {@code dev.portcullis.netagent}).
 */
package dev.portcullis.core;
