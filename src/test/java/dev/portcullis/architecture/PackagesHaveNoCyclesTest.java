package dev.portcullis.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * Dependencies point down (adapters → gate → policy / approval / recording → store → core), and nothing
 * points back: a package that needs to tell a higher one something takes a small interface instead.
 * A cycle between two of the main packages fails the build.
 */
class PackagesHaveNoCyclesTest {

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.portcullis");

    @Test
    void thePackagesFormNoCycle() {
        slices().matching("dev.portcullis.(*)..").should().beFreeOfCycles().check(MAIN);
    }

    /** The store persists; it knows nothing of what it stores: not the chain's formula, not approvals, not policy. */
    @Test
    void theStoreDependsOnNothingAboveIt() {
        noClasses().that().resideInAPackage("dev.portcullis.store..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.portcullis.recording..", "dev.portcullis.approval..",
                        "dev.portcullis.policy..", "dev.portcullis.gate..", "dev.portcullis.config..")
                .check(MAIN);
    }

    /**
     * The core protocol-blind path knows no protocol: adapters are found through the registry, never
     * imported. (The admin listener shares the HTTP adapter's plaintext-or-TLS Jetty connector, which is
     * not protocol logic.)
     */
    @Test
    void theCoreKnowsNoProtocolPackage() {
        noClasses().that().resideInAnyPackage("dev.portcullis.core..", "dev.portcullis.gate..", "dev.portcullis.policy..",
                        "dev.portcullis.config..", "dev.portcullis.server..", "dev.portcullis.approval..", "dev.portcullis.recording..")
                .should().dependOnClassesThat(JavaClass.Predicates.resideInAnyPackage("dev.portcullis.http..", "dev.portcullis.postgres..")
                        .and(DescribedPredicate.not(JavaClass.Predicates.equivalentTo(dev.portcullis.http.ListenerConnector.class))))
                .check(MAIN);
    }
}
