/**
 * The protocol-blind model every adapter translates into.
 *
 * <p>An adapter (http, postgres, ...) decodes its wire format into an {@link dev.portcullis.core.Operation}
 * and the verified caller into an {@link dev.portcullis.core.Identity}. Everything downstream (policy,
 * approvals, masking, recording) sees only these types, never raw bytes or raw tokens.
 */
package dev.portcullis.core;
