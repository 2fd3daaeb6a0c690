/**
 * Wiring: loads the validated configuration, opens the store, starts the token verifier, one
 * listener per connection (through its protocol adapter) and the admin listener
 * ({@code /healthz}, {@code /readyz}, {@code /metrics}, approvals API and page; HTTPS only with
 * {@code admin.tls}, through the same {@link dev.portcullis.http.ListenerConnector} as HTTP connections).
 */
package dev.portcullis.server;
