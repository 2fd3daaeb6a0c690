package dev.portcullis.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The protocol modules the gateway has: the only place that lists them. Modules are found with
 * {@link ServiceLoader} (one line each in {@code META-INF/services/dev.portcullis.config.ProtocolModule}),
 * so a new protocol registers from its own jar or source tree. Type names and operation keys are unique.
 */
public final class ProtocolRegistry {
    private static volatile ProtocolRegistry installed;

    private final Map<String, ProtocolModule> byType = new LinkedHashMap<>();
    private final Map<String, ProtocolModule> byOperationKey = new LinkedHashMap<>();

    /** @throws IllegalArgumentException two modules claim one type name or operation key */
    public ProtocolRegistry(List<? extends ProtocolModule> modules) {
        for (ProtocolModule m : modules) {
            ProtocolModule t = byType.putIfAbsent(m.type(), m);
            if (t != null) {
                throw new IllegalArgumentException("protocol modules " + t.getClass().getName() + " and "
                        + m.getClass().getName() + " both serve connection type '" + m.type() + "'");
            }
            ProtocolModule k = byOperationKey.putIfAbsent(m.operationKey(), m);
            if (k != null) {
                throw new IllegalArgumentException("protocol modules " + k.getClass().getName() + " and "
                        + m.getClass().getName() + " both use the condition block '" + m.operationKey() + "'");
            }
        }
    }

    /** The modules on the class path. */
    public static ProtocolRegistry installed() {
        ProtocolRegistry r = installed;
        if (r == null) {
            List<ProtocolModule> found = new ArrayList<>();
            ServiceLoader.load(ProtocolModule.class, ProtocolRegistry.class.getClassLoader()).forEach(found::add);
            found.sort(java.util.Comparator.comparing(ProtocolModule::type));
            installed = r = new ProtocolRegistry(found);
        }
        return r;
    }

    /** These modules and {@code more}: e.g. the installed ones with a protocol under test. */
    public ProtocolRegistry with(ProtocolModule... more) {
        List<ProtocolModule> all = new ArrayList<>(byType.values());
        all.addAll(List.of(more));
        return new ProtocolRegistry(all);
    }

    public Optional<ProtocolModule> module(String type) {
        return Optional.ofNullable(byType.get(type));
    }

    /** The module whose connections {@code connection} belongs to. */
    public ProtocolModule moduleOf(ConnectionConfig connection) {
        ProtocolModule m = byType.get(connection.type());
        if (m == null) throw new IllegalStateException("no protocol module serves connection type " + connection.type());
        return m;
    }

    public Optional<ProtocolModule> byOperationKey(String key) {
        return Optional.ofNullable(byOperationKey.get(key));
    }

    public List<String> types() {
        return List.copyOf(byType.keySet());
    }

    public List<String> operationKeys() {
        return List.copyOf(byOperationKey.keySet());
    }

    public List<ProtocolModule> modules() {
        return List.copyOf(byType.values());
    }
}
