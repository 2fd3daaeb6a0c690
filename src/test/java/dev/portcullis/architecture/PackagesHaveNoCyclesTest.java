package dev.portcullis.architecture;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

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
}
