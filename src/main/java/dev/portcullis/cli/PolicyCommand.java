package dev.portcullis.cli;

import dev.portcullis.config.PolicyTestRunner;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "policy", mixinStandardHelpOptions = true, description = "Work with policies.",
        subcommands = PolicyCommand.Test.class)
final class PolicyCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = "Run a policy test file: each case is an identity and an operation with the verdict and rule expected "
                    + "(like 'opa test'). Needs no secrets. Exit 1 when a case fails.")
    static final class Test implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "Test file, e.g. examples/okta-policy-test.yaml")
        Path file;

        @Override
        public Integer call() throws Exception {
            PolicyTestRunner.Report report = PolicyTestRunner.run(file, System.getenv());
            for (PolicyTestRunner.CaseResult c : report.cases()) {
                if (c.passed()) {
                    System.out.printf("PASS  %s  (%s by %s%s)%n", c.name(), c.actualAction(), c.actualRule(),
                            c.reason().startsWith("masked columns") || c.reason().startsWith("refused") ? "; " + c.reason() : "");
                } else {
                    System.out.printf("FAIL  %s%n      expected %s by %s, got %s by %s%s%n", c.name(),
                            c.expectedAction(), c.expectedRule().isEmpty() ? "any rule" : c.expectedRule(),
                            c.actualAction(), c.actualRule(), c.reason() == null || c.reason().isEmpty() ? "" : ": " + c.reason());
                }
            }
            System.out.printf("%d passed, %d failed%n", report.passed(), report.failed());
            return report.failed() == 0 ? 0 : 1;
        }
    }
}
