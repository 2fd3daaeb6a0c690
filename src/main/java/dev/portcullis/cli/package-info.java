/**
 * {@code bin/portcullis}: the one binary (picocli). {@code serve} and {@code dev} run the gateway;
 * {@code sessions}, {@code replay} and {@code audit verify} read the recordings straight from the
 * store (another process may be writing it); {@code config check} and {@code policy test} need no
 * running gateway; {@code approvals}, {@code approve}, {@code deny} and {@code revoke} talk to a running
 * gateway's admin API as the person whose token is in {@code PORTCULLIS_TOKEN} (over https verifying
 * the gateway's certificate against {@code --cacert}, or the JVM's trust store). Each command has
 * {@code --help}.
 */
package dev.portcullis.cli;
