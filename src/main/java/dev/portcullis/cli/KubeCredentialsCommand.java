package dev.portcullis.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jwt.JWTParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * kubectl's exec credential plugin (client.authentication.k8s.io/v1 ExecCredential): hands kubectl the
 * agent's own OIDC token, read from an environment variable or a file each time kubectl asks, with the
 * token's expiry so that kubectl keeps it until then and asks again after. Never prompts
 * ({@code interactiveMode: Never}). The gateway verifies the token; this only reads its {@code exp}.
 */
@Command(name = "kube-credentials", mixinStandardHelpOptions = true,
        header = "Print the agent's token for kubectl, as its exec credential plugin (ExecCredential).",
        description = {"kubectl's exec credential plugin (written into a kubeconfig by 'portcullis kubeconfig'): prints the "
                + "agent's OIDC token, from --token-env (default " + KubeCredentialsCommand.DEFAULT_TOKEN_ENV
                + ") or --token-file, as a client.authentication.k8s.io/v1 ExecCredential with the token's expiry."})
final class KubeCredentialsCommand implements Callable<Integer> {
    static final String DEFAULT_TOKEN_ENV = "PORTCULLIS_AGENT_TOKEN";
    static final String API_VERSION = "client.authentication.k8s.io/v1";

    @Spec
    CommandSpec spec;

    @Option(names = "--token-env", paramLabel = "VAR", description = "The environment variable holding the token (default: ${DEFAULT-VALUE}).",
            defaultValue = DEFAULT_TOKEN_ENV)
    String tokenEnv;

    @Option(names = "--token-file", paramLabel = "FILE", description = "A file holding the token (read each time; it wins over --token-env).")
    Path tokenFile;

    private final Map<String, String> env;

    KubeCredentialsCommand() {
        this(System.getenv());
    }

    KubeCredentialsCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        String token;
        String source;
        if (tokenFile != null) {
            source = "file " + tokenFile;
            if (!Files.isReadable(tokenFile)) {
                spec.commandLine().getErr().println("portcullis kube-credentials: cannot read the token " + source);
                return 1;
            }
            token = Files.readString(tokenFile).strip();
        } else {
            source = "$" + tokenEnv;
            token = env.getOrDefault(tokenEnv, "").strip();
        }
        if (token.isEmpty()) {
            spec.commandLine().getErr().println("portcullis kube-credentials: no agent token in " + source
                    + "; put the agent's OIDC access token there (kubectl cannot prompt for it)");
            return 1;
        }
        ObjectNode credential = new ObjectMapper().createObjectNode();
        credential.put("apiVersion", API_VERSION);
        credential.put("kind", "ExecCredential");
        ObjectNode status = credential.putObject("status");
        status.put("token", token);
        Date expiry = expiry(token);
        if (expiry != null) {
            status.put("expirationTimestamp", DateTimeFormatter.ISO_INSTANT.format(expiry.toInstant().truncatedTo(ChronoUnit.SECONDS)));
        }
        spec.commandLine().getOut().println(credential);
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** The token's {@code exp}, read without verifying (the gateway verifies); null when it is not a JWT or has none. */
    private static Date expiry(String token) {
        try {
            return JWTParser.parse(token).getJWTClaimsSet().getExpirationTime();
        } catch (ParseException e) {
            return null; // not a JWT: kubectl then keeps it for the process's life, and the gateway refuses it if bad
        }
    }
}
