/**
 * Configuration: one YAML file read once at start-up into validated records.
 *
 * <pre>
 *  okta.yaml ─▶ snakeyaml node tree (line/column of every value)
 *            ─▶ ${VAR} / ${VAR:-default} substituted in scalar values
 *            ─▶ ConfigLoader: typed records + every problem, "file:line:col: field.path: expected ..."
 *                 a connection's own keys and a rule's protocol block go to its ProtocolModule
 *            ─▶ GatewayConfig(identity, store, recording, admin, connections[policy])
 * </pre>
 *
 * {@link dev.portcullis.config.ProtocolModule} is the interface every protocol implements (its YAML
 * section, its condition block, its policy-test operations, its start-up check, its listener);
 * {@link dev.portcullis.config.ProtocolRegistry} finds the modules with {@link java.util.ServiceLoader},
 * so this package, the server and the CLI name no protocol. {@link dev.portcullis.config.ConfigReader} is
 * the toolkit every section is read with.
 *
 * {@link dev.portcullis.config.PolicyTestRunner} runs policy test files against a config without its secrets.
 */
package dev.portcullis.config;
