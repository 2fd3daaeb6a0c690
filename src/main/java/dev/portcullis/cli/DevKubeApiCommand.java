package dev.portcullis.cli;

import ch.qos.logback.classic.Level;
import dev.portcullis.dev.KubeApiStandIn;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code portcullis dev-kube-api}: only the Kubernetes API stand-in, for examples/kubernetes.yaml and benchmarks. */
@Command(name = "dev-kube-api", mixinStandardHelpOptions = true,
        header = "Run only the Kubernetes API stand-in (NOT A CLUSTER) with a small demo cluster.",
        description = {"A Kubernetes API stand-in that speaks the API's wire format (discovery, CRUD with resourceVersion,",
                "watches, Tables, pods' logs) over plain HTTP on 127.0.0.1, seeded with pods, a deployment, a ConfigMap",
                "and Secrets in dev and staging. For trying examples/kubernetes.yaml or benchmarking. Runs until killed."})
final class DevKubeApiCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "16080", description = "Port on 127.0.0.1; 0 for any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "The bearer token every request must carry (what KUBE_TOKEN is for the gateway); none: any request is served.")
    String token;

    @Option(names = "--log-level", defaultValue = "info", paramLabel = "LEVEL")
    String logLevel;

    @Override
    public Integer call() throws Exception {
        Logging.configure(Logging.Format.text, Level.toLevel(logLevel, Level.INFO));
        KubeApiStandIn api = KubeApiStandIn.start(port, token).seedDemo();
        System.out.println("Kubernetes API stand-in (NOT A CLUSTER) at " + api.url() + (token == null ? "; any request is served" : "; requests need 'Authorization: Bearer <--token>'"));
        System.out.flush();
        ServeCommand.awaitShutdown(api);
        return 0;
    }
}
