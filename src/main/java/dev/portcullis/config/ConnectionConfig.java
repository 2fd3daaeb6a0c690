package dev.portcullis.config;

import dev.portcullis.policy.Policy;
import java.net.InetSocketAddress;

/** One target agents reach through the gateway; each protocol module has its own implementation. */
public interface ConnectionConfig {

    String name();

    /** The protocol module that serves it, as written in {@code type:}. */
    String type();

    /** Where the gateway listens for this connection (unresolved). */
    InetSocketAddress listen();

    Policy policy();

    /** The network agent its upstream connections go through ({@code upstream.via: agent NAME}), if any. */
    default java.util.Optional<String> viaAgent() {
        return java.util.Optional.empty();
    }
}
