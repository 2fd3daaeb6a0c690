package dev.portcullis.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Two Linux network namespaces joined by one veth pair, for end-to-end tests of a network-resident agent. The
 * gateway namespace stands for where the gateway runs; the private namespace stands for a network the
 * gateway cannot reach, whose PostgreSQL listens on that namespace's loopback only: a process inside it (the
 * agent) connects to the database and dials out to the gateway over the veth, while nothing in the gateway
 * namespace can connect to the database, not even through the veth. Nothing is created in the root
 * namespace and both namespaces have forwarding off, so what a test proves about reachability follows from
 * the topology, not from a firewall rule that a host could lack.
 *
 * <p>Needs root and {@code ip netns}; {@link #create()} skips the test otherwise. {@link #close()} (or, if a
 * test never gets there, a shutdown hook) stops everything started here and deletes both namespaces.
 */
public final class PrivateNetwork implements AutoCloseable {
    private static final String IP = "/usr/sbin/ip";
    private static final Path PG_BIN = Path.of("/usr/lib/postgresql/15/bin");
    /** PostgreSQL refuses to run as root, so its files and processes belong to Debian's package account. */
    private static final String PG_ACCOUNT = "postgres";
    /** Interface names are per namespace, so fixed names never collide between instances (and fit in 15 chars). */
    private static final String GATEWAY_LINK = "pc-gw";
    private static final String PRIVATE_LINK = "pc-priv";
    private static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final String gatewayNamespace;
    private final String privateNamespace;
    private final String gatewayAddress;
    private final String privateAddress;
    private final Path workDirectory;
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook = new Thread(this::cleanUp, "private-network-cleanup");
    private volatile Postgres postgres;

    private PrivateNetwork(int instance) throws IOException {
        long pid = ProcessHandle.current().pid();
        gatewayNamespace = "pcgw-" + pid + "-" + instance;
        privateNamespace = "pcpriv-" + pid + "-" + instance;
        // The /30 only has to differ between instances for readable logs: each pair has its own routing tables.
        int subnet = instance % 256;
        gatewayAddress = "10.251." + subnet + ".1";
        privateAddress = "10.251." + subnet + ".2";
        // Traversable by the PostgreSQL account, which owns a subdirectory.
        workDirectory = Files.createTempDirectory("private-network",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Creates both namespaces and the veth between them; skips the test when not root or {@code ip netns} fails. */
    public static PrivateNetwork create() {
        assumeTrue(isRoot(), "PrivateNetwork needs root to create network namespaces; skipped");
        assumeTrue(Files.isExecutable(Path.of(IP)), IP + " is missing (apt-get install iproute2); skipped");
        PrivateNetwork network;
        try {
            network = new PrivateNetwork(INSTANCES.incrementAndGet());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Outcome added = execute(network.ip("netns", "add", network.gatewayNamespace));
            assumeTrue(added.exit() == 0,
                    () -> "ip netns does not work here (" + added.output().strip() + "); skipped");
            network.connect();
            return network;
        } catch (Throwable t) {
            try {
                network.close();
            } catch (RuntimeException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
    }

    private void connect() {
        run(ip("netns", "add", privateNamespace));
        for (String namespace : List.of(gatewayNamespace, privateNamespace)) {
            run(ip("-n", namespace, "link", "set", "lo", "up"));
            run(inNamespace(namespace, "/usr/sbin/sysctl", "-q", "-e", "-w", "net.ipv4.ip_forward=0",
                    "net.ipv6.conf.all.forwarding=0"));
        }
        // Created inside the gateway namespace with its peer placed straight into the private one: the root
        // namespace never holds either end, not even for a moment.
        run(ip("-n", gatewayNamespace, "link", "add", GATEWAY_LINK, "type", "veth", "peer", "name", PRIVATE_LINK,
                "netns", privateNamespace));
        run(ip("-n", gatewayNamespace, "address", "add", gatewayAddress + "/30", "dev", GATEWAY_LINK));
        run(ip("-n", privateNamespace, "address", "add", privateAddress + "/30", "dev", PRIVATE_LINK));
        run(ip("-n", gatewayNamespace, "link", "set", GATEWAY_LINK, "up"));
        run(ip("-n", privateNamespace, "link", "set", PRIVATE_LINK, "up"));
    }

    /** The gateway's end of the veth, where a listener in the gateway namespace is reachable from the private one. */
    public String gatewayAddress() {
        return gatewayAddress;
    }

    /** The private network's end of the veth; PostgreSQL does not listen here. */
    public String privateAddress() {
        return privateAddress;
    }

    public String gatewayNamespace() {
        return gatewayNamespace;
    }

    public String privateNamespace() {
        return privateNamespace;
    }

    /** Runs {@code command} inside the gateway namespace; pass the builder to {@link #start} so close() stops it. */
    public ProcessBuilder inGateway(String... command) {
        return inNamespace(gatewayNamespace, command);
    }

    /** Runs {@code command} inside the private namespace; pass the builder to {@link #start} so close() stops it. */
    public ProcessBuilder inPrivate(String... command) {
        return inNamespace(privateNamespace, command);
    }

    /** Starts {@code builder} and remembers the process, so that close() kills it and its children if still running. */
    public Process start(ProcessBuilder builder) throws IOException {
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /**
     * Starts PostgreSQL 15 in the private namespace on 127.0.0.1:5432 only, with a user {@value Postgres#USER}
     * (password {@value Postgres#PASSWORD}) owning the database {@value Postgres#DATABASE}. TCP logins need the
     * password (scram-sha-256); only the setup's superuser logs in without one, over the unix socket.
     */
    public synchronized Postgres startPostgres() {
        if (postgres != null) throw new IllegalStateException("PostgreSQL already runs in " + privateNamespace);
        assumeTrue(Files.isExecutable(PG_BIN.resolve("pg_ctl")),
                "PostgreSQL 15 is not installed under " + PG_BIN + " (apt-get install postgresql-15); skipped");
        Path directory = workDirectory.resolve("postgres");
        try {
            Files.createDirectory(directory);
            Files.setOwner(directory, directory.getFileSystem().getUserPrincipalLookupService()
                    .lookupPrincipalByName(PG_ACCOUNT));
        } catch (UserPrincipalNotFoundException e) {
            assumeTrue(false, "no '" + PG_ACCOUNT + "' account to run PostgreSQL as (root may not); skipped");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        postgres = new Postgres(directory); // before it starts, so that close() stops it whatever happens next
        postgres.start();
        return postgres;
    }

    /** A throwaway PostgreSQL inside the private namespace, stopped by the network's close(). */
    public final class Postgres {
        public static final String USER = "app";
        public static final String PASSWORD = "app-secret";
        public static final String DATABASE = "app";
        private final Path directory;
        private final Path data;

        private Postgres(Path directory) {
            this.directory = directory;
            this.data = directory.resolve("data");
        }

        /** Only the private namespace's loopback: the veth address refuses connections. */
        public String host() {
            return "127.0.0.1";
        }

        public int port() {
            return 5432;
        }

        /**
         * Runs {@code sql} in database {@value #DATABASE} as the superuser, to create and seed tables; default
         * privileges grant what it creates to {@value #USER}, so the agent's login can use it.
         */
        public void psqlAsSuperuser(String sql) {
            psql(DATABASE, sql);
        }

        private void psql(String database, String sql) {
            run(asAccount(true, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", directory.toString(),
                    "-p", String.valueOf(port()), "-U", "postgres", "-d", database, "-c", sql));
        }

        private void start() {
            run(asAccount(false, "initdb", "-D", data.toString(), "-U", "postgres", "-E", "UTF8", "--locale=C",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"));
            Path log = directory.resolve("postgres.log");
            Outcome started = execute(asAccount(true, "pg_ctl", "-D", data.toString(), "-l", log.toString(), "-w",
                    "-t", "10", "-o", "-c listen_addresses=" + host() + " -p " + port() + " -k " + directory, "start"));
            if (started.exit() != 0) {
                throw new IllegalStateException("PostgreSQL did not start: " + started.output() + readQuietly(log));
            }
            psql("postgres", "CREATE ROLE " + USER + " LOGIN PASSWORD '" + PASSWORD + "'");
            psql("postgres", "CREATE DATABASE " + DATABASE + " OWNER " + USER);
            psql(DATABASE, "ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO " + USER
                    + "; ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO " + USER);
        }

        private void stop() {
            // pg_ctl signals the postmaster by the pid in its data directory, so it needs no namespace.
            if (Files.exists(data.resolve("postmaster.pid"))) {
                run(asAccount(false, "pg_ctl", "-D", data.toString(), "-m", "immediate", "-w", "-t", "10", "stop"));
            }
        }

        /** A PostgreSQL program run as the unprivileged account, from (and with HOME in) its own directory. */
        private ProcessBuilder asAccount(boolean inPrivateNamespace, String program, String... arguments) {
            Stream<String> namespace = inPrivateNamespace
                    ? Stream.of(IP, "netns", "exec", privateNamespace) : Stream.of();
            List<String> head = Stream.concat(namespace, Stream.of("/usr/bin/setpriv", "--reuid=" + PG_ACCOUNT,
                    "--regid=" + PG_ACCOUNT, "--clear-groups", PG_BIN.resolve(program).toString())).toList();
            ProcessBuilder builder = command(head, arguments);
            builder.directory(directory.toFile()).environment().put("HOME", directory.toString());
            return builder;
        }
    }

    /** Stops PostgreSQL and every process started here or still inside a namespace, then deletes the namespaces. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or about to; cleanUp() runs once either way.
        }
        cleanUp();
    }

    private void cleanUp() {
        if (!closed.compareAndSet(false, true)) return;
        List<RuntimeException> failures = new ArrayList<>();
        attempt(failures, () -> {
            if (postgres != null) postgres.stop();
        });
        for (Process process : processes) attempt(failures, () -> kill(process.toHandle()));
        for (String namespace : List.of(gatewayNamespace, privateNamespace)) {
            // A process left in a namespace would keep it (and the veth) alive after its name is gone.
            if (!Files.exists(Path.of("/run/netns", namespace))) continue;
            attempt(failures, () -> run(ip("netns", "pids", namespace)).lines()
                    .forEach(pid -> ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(PrivateNetwork::kill)));
            attempt(failures, () -> run(ip("netns", "del", namespace)));
        }
        attempt(failures, () -> {
            try (Stream<Path> paths = Files.walk(workDirectory)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        if (!failures.isEmpty()) {
            IllegalStateException failure = new IllegalStateException("could not clean up " + gatewayNamespace
                    + " and " + privateNamespace + " entirely");
            failures.forEach(failure::addSuppressed);
            throw failure;
        }
    }

    private static void attempt(List<RuntimeException> failures, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }

    /** Kills a process and its descendants, listed first since a killed parent's children would be reparented. */
    private static void kill(ProcessHandle process) {
        List<ProcessHandle> all = Stream.concat(process.descendants(), Stream.of(process)).toList();
        all.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        for (ProcessHandle handle : all) {
            while (running(handle.pid())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("process " + handle.pid() + " survived SIGKILL");
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /**
     * Whether {@code pid} still runs. A zombie does not: processes that left their parent (the postmaster,
     * reparented from pg_ctl) are reaped by init, which may take a moment or, in some containers, forever.
     */
    static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    private static ProcessBuilder ip(String... arguments) {
        return command(List.of(IP), arguments);
    }

    private static ProcessBuilder inNamespace(String namespace, String... command) {
        return command(List.of(IP, "netns", "exec", namespace), command);
    }

    private static ProcessBuilder command(List<String> head, String... tail) {
        return new ProcessBuilder(Stream.concat(head.stream(), Stream.of(tail)).toList());
    }

    private record Outcome(int exit, String output) {
    }

    /** The combined output of {@code builder}, which must exit with 0 within the timeout. */
    private static String run(ProcessBuilder builder) {
        Outcome outcome = execute(builder);
        if (outcome.exit() != 0) {
            throw new IllegalStateException(String.join(" ", builder.command()) + " exited with " + outcome.exit()
                    + ": " + outcome.output().strip());
        }
        return outcome.output();
    }

    /** Output goes to a file, not a pipe: a daemon (the postmaster) that inherited a pipe would keep it open. */
    private static Outcome execute(ProcessBuilder builder) {
        Path output = null;
        try {
            output = Files.createTempFile("private-network", ".out");
            Process process = builder.redirectErrorStream(true).redirectOutput(output.toFile()).start();
            process.getOutputStream().close();
            if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                kill(process.toHandle());
                throw new IllegalStateException(String.join(" ", builder.command()) + " did not finish in " + TIMEOUT);
            }
            return new Outcome(process.exitValue(), Files.readString(output));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            if (output != null) output.toFile().delete();
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    /** The owner of {@code /proc/self} is this process's effective user. */
    private static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
