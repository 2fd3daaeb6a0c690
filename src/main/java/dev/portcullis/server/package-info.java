/**
 * Wiring: loads the validated configuration, opens the store, starts the token verifier, one
 * listener per connection (through its protocol adapter) and the admin listener
 * ({@code /healthz}, {@code /readyz}, {@code /metrics}, admin API).
 */
package dev.portcullis.server;
