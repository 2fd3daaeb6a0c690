package dev.portcullis.config;

import dev.portcullis.policy.Policy;
import java.net.InetSocketAddress;

/** One target agents reach through the gateway; one implementation per adapter type. */
public sealed interface ConnectionConfig permits HttpConnectionConfig, PostgresConnectionConfig {

    String name();

    /** Where the gateway listens for this connection (unresolved). */
    InetSocketAddress listen();

    Policy policy();
}
