package dev.portcullis.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The pinned kubectl builds of Debian's kubectl package ({@code kubectl.1.27} ... {@code kubectl.1.33}). */
public final class Kubectl {
    private Kubectl() {
    }

    /** The path of {@code kubectl.VERSION}; fails saying how to install it. */
    public static String binary(String version) {
        for (Path dir : List.of(Path.of("/usr/lib/google-cloud-sdk/bin"), Path.of("/usr/bin"), Path.of("/usr/local/bin"))) {
            Path p = dir.resolve("kubectl." + version);
            if (Files.isExecutable(p)) return p.toString();
        }
        throw new IllegalStateException("kubectl." + version + " is not installed: apt-get install kubectl (bin/setup does)");
    }
}
