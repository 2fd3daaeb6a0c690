package dev.portcullis.testprotocol;

import dev.portcullis.config.ConnectionConfig;
import dev.portcullis.policy.Policy;
import java.net.InetSocketAddress;

/** An echo target: where the gateway listens, and the echo server it forwards to. */
record EchoConnectionConfig(String name, InetSocketAddress listen, InetSocketAddress upstream, Policy policy)
        implements ConnectionConfig {

    @Override
    public String type() {
        return "echo";
    }
}
