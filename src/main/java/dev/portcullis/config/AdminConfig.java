package dev.portcullis.config;

import java.net.InetSocketAddress;
import java.util.Objects;

/** @param listen where /healthz, /readyz, /metrics and the admin API listen (unresolved) */
public record AdminConfig(InetSocketAddress listen) {
    public AdminConfig {
        Objects.requireNonNull(listen, "listen");
    }
}
