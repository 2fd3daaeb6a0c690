package dev.portcullis.cli;

import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.VerifyReport;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "audit", mixinStandardHelpOptions = true, description = "Audit trail integrity.",
        subcommands = AuditCommand.Verify.class)
final class AuditCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Recompute every hash chain; report edited, reordered or deleted events and sessions. Exit 1 when anything is wrong.")
    static final class Verify implements Callable<Integer> {
        @Mixin
        StoreOption storeOption;

        @Override
        public Integer call() throws Exception {
            VerifyReport report;
            try (AuditStore store = storeOption.open()) {
                report = AuditVerifier.verify(store);
            }
            for (VerifyReport.Problem p : report.problems()) System.out.println("TAMPERED  " + p);
            System.out.println(report.summary());
            return report.ok() ? 0 : 1;
        }
    }
}
