package dev.portcullis.dev;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/**
 * Without a logback-test.xml on the classpath Logback logs everything at DEBUG, including Jetty's per-buffer
 * traces and the HTTP client's wire log (with Authorization headers). Tests here call this first.
 */
final class TestLogging {
    private TestLogging() {
    }

    static void quiet() {
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(Level.INFO);
    }
}
