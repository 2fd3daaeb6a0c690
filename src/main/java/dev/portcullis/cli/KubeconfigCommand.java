package dev.portcullis.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Writes a kubeconfig for a Kubernetes connection of the gateway: the cluster is the gateway's address,
 * the user an exec credential plugin ({@code portcullis kube-credentials}) that hands kubectl the agent's
 * own token. No credential is written into the file.
 */
@Command(name = "kubeconfig", mixinStandardHelpOptions = true,
        header = "Write a kubeconfig that points kubectl at a Kubernetes connection of the gateway.",
        description = {"Writes a kubeconfig whose cluster is the gateway's connection and whose user is an exec credential "
                + "plugin ('portcullis kube-credentials') that hands kubectl the agent's own OIDC token. "
                + "The file holds no credential."})
final class KubeconfigCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--server", required = true, paramLabel = "URL", description = "The connection's address, e.g. https://127.0.0.1:16443.")
    URI server;

    @Option(names = "--connection", required = true, paramLabel = "NAME", description = "The connection's name (names the cluster and context).")
    String connection;

    @Option(names = "--ca-file", paramLabel = "PEM", description = "The CA certificate (PEM) that signed the listener's certificate, embedded in the kubeconfig.")
    Path caFile;

    @Option(names = "--token-env", paramLabel = "VAR", description = "Where the plugin finds the agent's token (default: ${DEFAULT-VALUE}).",
            defaultValue = KubeCredentialsCommand.DEFAULT_TOKEN_ENV)
    String tokenEnv;

    @Option(names = "--token-file", paramLabel = "FILE", description = "A file the plugin reads the token from instead.")
    Path tokenFile;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write it (default: standard output).")
    Path output;

    @Option(names = "--command", paramLabel = "PATH", description = "The portcullis command kubectl runs (default: this one).")
    String command;

    @Override
    public Integer call() throws Exception {
        String scheme = server.getScheme() == null ? "" : server.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http") || server.getHost() == null) {
            spec.commandLine().getErr().println("portcullis kubeconfig: --server must be an http(s) URL, e.g. https://127.0.0.1:16443");
            return 2;
        }
        String name = "portcullis-" + connection;
        String text = kubeconfig(server, connection, caFile == null ? null : Files.readAllBytes(caFile), tokenEnv, tokenFile,
                command != null ? command : selfCommand());
        if (output == null) {
            spec.commandLine().getOut().print(text);
            spec.commandLine().getOut().flush();
        } else {
            Files.writeString(output, text);
            try {
                Files.setPosixFilePermissions(output, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: kubectl warns about nothing there
            }
            spec.commandLine().getErr().println("wrote " + output + " (context " + name + "); try: kubectl --kubeconfig "
                    + output + " get pods -n dev");
        }
        return 0;
    }

    /**
     * A kubeconfig for connection {@code connection} at {@code server} whose user is the exec credential plugin
     * ({@code command kube-credentials}), reading the agent's token from {@code tokenFile} when given, else from
     * the environment variable {@code tokenEnv}; {@code caPem}: the listener's CA certificate, embedded (null: none).
     */
    static String kubeconfig(URI server, String connection, byte[] caPem, String tokenEnv, Path tokenFile, String command)
            throws java.io.IOException {
        String name = "portcullis-" + connection;
        ObjectMapper yaml = new ObjectMapper(YAMLFactory.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).build());
        ObjectNode config = yaml.createObjectNode();
        config.put("apiVersion", "v1");
        config.put("kind", "Config");
        ObjectNode cluster = config.putArray("clusters").addObject();
        cluster.put("name", name);
        ObjectNode c = cluster.putObject("cluster");
        c.put("server", server.toString());
        if (caPem != null) c.put("certificate-authority-data", Base64.getEncoder().encodeToString(caPem));
        ObjectNode user = config.putArray("users").addObject();
        user.put("name", name + "-agent");
        ObjectNode exec = user.putObject("user").putObject("exec");
        exec.put("apiVersion", KubeCredentialsCommand.API_VERSION);
        exec.put("command", command);
        ArrayNode args = exec.putArray("args").add("kube-credentials");
        if (tokenFile != null) args.add("--token-file").add(tokenFile.toAbsolutePath().toString());
        else args.add("--token-env").add(tokenEnv);
        exec.put("interactiveMode", "Never");
        exec.put("provideClusterInfo", false);
        ObjectNode context = config.putArray("contexts").addObject();
        context.put("name", name);
        ObjectNode ctx = context.putObject("context");
        ctx.put("cluster", name);
        ctx.put("user", name + "-agent");
        config.put("current-context", name);

        return yaml.writeValueAsString(config);
    }

    /** bin/portcullis when run through it (it sets PORTCULLIS_HOME), else plain "portcullis" on the PATH. */
    static String selfCommand() {
        String home = System.getenv("PORTCULLIS_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "portcullis"))) {
            return Path.of(home, "bin", "portcullis").toAbsolutePath().toString();
        }
        return "portcullis";
    }
}
