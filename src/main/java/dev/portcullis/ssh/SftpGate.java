package dev.portcullis.ssh;

import dev.portcullis.core.Identity;
import dev.portcullis.gate.Gate;
import dev.portcullis.gate.GateUnavailableException;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.Excerpt;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.file.FileSystemFactory;
import org.apache.sshd.common.session.SessionContext;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.apache.sshd.sftp.server.DirectoryHandle;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.Handle;
import org.apache.sshd.sftp.server.SftpEventListener;

/**
 * SFTP (and scp, which speaks SFTP since OpenSSH 9): the agent's SFTP session is served by the gateway
 * over the host's own files, reached through the gateway's SFTP connection to the host; every file
 * operation is judged before it happens, as an {@code sftp} command line a rule's patterns can name:
 * {@code sftp read /var/log/syslog}, {@code sftp write /tmp/x}, {@code sftp list /var/log},
 * {@code sftp remove ...}, {@code sftp mkdir ...}, {@code sftp rename FROM TO}, {@code sftp setstat ...},
 * {@code sftp link ...}. Paths are absolute and normalised, so {@code ..} cannot climb out of what a rule
 * names. A refused operation is a permission error for the client; held operations are refused (an SFTP
 * client cannot wait for a person).
 */
final class SftpGate implements SftpEventListener {
    private final SshConnectionConfig config;
    private final Gate gate;

    SftpGate(SshConnectionConfig config, Gate gate) {
        this.config = config;
        this.gate = gate;
    }

    /** The host's files for one agent session: an SFTP file system over the gateway's own connection to the host. */
    static FileSystemFactory files(SshListener.Upstream upstream) {
        return new FileSystemFactory() {
            @Override
            public Path getUserHomeDir(SessionContext session) {
                return null; // the host's home directory, as its SFTP server says
            }

            @Override
            public FileSystem createFileSystem(SessionContext session) throws IOException {
                ClientSession host = upstream.open();
                FileSystem fs = SftpClientFactory.instance().createSftpFileSystem(host);
                if (session instanceof ServerSession s) s.addCloseFutureListener(f -> host.close(true));
                return fs;
            }
        };
    }

    @Override
    public void opening(ServerSession session, String remoteHandle, Handle localHandle) throws IOException {
        if (localHandle instanceof DirectoryHandle) {
            judge(session, "list", localHandle.getFile());
        } else if (localHandle instanceof FileHandle file) {
            var options = file.getOpenOptions();
            boolean writes = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND)
                    || options.contains(StandardOpenOption.CREATE) || options.contains(StandardOpenOption.CREATE_NEW)
                    || options.contains(StandardOpenOption.TRUNCATE_EXISTING);
            judge(session, writes ? "write" : "read", localHandle.getFile());
        }
    }

    @Override
    public void creating(ServerSession session, Path path, Map<String, ?> attrs) throws IOException {
        judge(session, "mkdir", path);
    }

    @Override
    public void removing(ServerSession session, Path path, boolean isDirectory) throws IOException {
        judge(session, "remove", path);
    }

    @Override
    public void moving(ServerSession session, Path srcPath, Path dstPath, java.util.Collection<java.nio.file.CopyOption> opts)
            throws IOException {
        judge(session, "rename", srcPath, dstPath);
    }

    @Override
    public void modifyingAttributes(ServerSession session, Path path, Map<String, ?> attrs) throws IOException {
        judge(session, "setstat", path);
    }

    @Override
    public void linking(ServerSession session, Path source, Path target, boolean symLink) throws IOException {
        judge(session, "link", source, target);
    }

    private void judge(ServerSession session, String action, Path... paths) throws IOException {
        Identity identity = session.getAttribute(SshListener.IDENTITY);
        List<String> args = new java.util.ArrayList<>(List.of(action));
        for (Path p : paths) args.add(p.toAbsolutePath().normalize().toString());
        String line = "sftp " + String.join(" ", args);
        SshCommand operation = new SshCommand(line, new ShellCommandLine(
                List.of(new ShellCommandLine.SimpleCommand("sftp", args, List.of(), List.of())), Optional.empty()), false);
        long start = System.nanoTime();
        Gate.Judged judged;
        try {
            judged = gate.judge(SshListener.recording(session, gate, config, identity), config.name(), identity, operation, config.policy(), "");
        } catch (GateUnavailableException e) {
            throw new AccessDeniedException(args.get(1), null, "Portcullis: " + e.getMessage());
        }
        switch (judged.decision().verdict()) {
            case Verdict.Deny deny -> {
                judged.completeRefused(start);
                throw new AccessDeniedException(args.get(1), null, "Portcullis: refused by rule " + deny.ruleId() + ": " + deny.reason());
            }
            case Verdict.HoldForApproval hold -> {
                judged.completeRefused(start);
                throw new AccessDeniedException(args.get(1), null, "Portcullis: rule " + hold.ruleId()
                        + " needs approval, which an SFTP client cannot wait for; run it as a command instead");
            }
            default -> {
                try {
                    judged.completeForwarded(0, Excerpt.NONE, start);
                } catch (GateUnavailableException e) {
                    throw new AccessDeniedException(args.get(1), null, "Portcullis: " + e.getMessage());
                }
            }
        }
    }
}
