/**
 * Configuration: one YAML file read once at start-up into validated records.
 *
 * <pre>
 *  okta.yaml ─▶ snakeyaml node tree (line/column of every value)
 *            ─▶ ${VAR} / ${VAR:-default} substituted in scalar values
 *            ─▶ ConfigLoader: typed records + every problem, "file:line:col: field.path: expected ..."
 *            ─▶ GatewayConfig(identity, store, recording, admin, connections[policy])
 * </pre>
 *
 * {@link dev.portcullis.config.PolicyTestRunner} runs policy test files against a config without its secrets.
 */
package dev.portcullis.config;
