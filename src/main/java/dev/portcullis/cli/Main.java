package dev.portcullis.cli;

import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/portcullis}: one binary for the gateway and the people who run it. */
@Command(name = "portcullis", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Identity-aware access gateway for AI agents, CI jobs and bots.",
        subcommands = {
                ServeCommand.class,
                DevCommand.class,
                DevIssuerCommand.class,
                DevKubeApiCommand.class,
                DevStandInsCommand.class,
                SessionsCommand.class,
                ReplayCommand.class,
                AuditCommand.class,
                ConfigCommand.class,
                PolicyCommand.class,
                ApprovalsCommand.class,
                ApproveCommand.class,
                DenyCommand.class,
                RevokeCommand.class,
                KubeconfigCommand.class,
                KubeCredentialsCommand.class,
                SshLoginCommand.class,
                AgentCommand.class,
                AgentsCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    public static void main(String[] args) {
        quietBufferLeakDetection();
        System.exit(commandLine().execute(args));
    }

    /**
     * Netty's leak detector, by default, records a stack trace for one buffer in 128: 1.5% of the gateway's
     * CPU on the HTTP data path (bench/http.sh, perf). A diagnostic, not a safeguard, so the gateway runs
     * without it unless asked ({@code -Dio.netty.leakDetection.level=simple} in {@code PORTCULLIS_JAVA_OPTS});
     * the test suite keeps Netty's default, so a leak still shows there.
     */
    static void quietBufferLeakDetection() {
        if (System.getProperty("io.netty.leakDetection.level") == null && System.getProperty("io.netty.leakDetectionLevel") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
    }

    /** The CLI, with errors reported as one readable message (a config error lists every problem). */
    static CommandLine commandLine() {
        return commandLine(System.getenv());
    }

    /** As {@link #commandLine()}, with the environment the commands read (tests pass their own). */
    static CommandLine commandLine(Map<String, String> env) {
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == ApprovalServer.class) return cls.cast(new ApprovalServer(env));
                if (cls == KubeCredentialsCommand.class) return cls.cast(new KubeCredentialsCommand(env));
                return defaults.create(cls);
            }
        };
        return new CommandLine(new Main(), factory)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("portcullis: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                    return 1;
                });
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"portcullis " + (v == null ? "development build" : v)};
        }
    }
}
