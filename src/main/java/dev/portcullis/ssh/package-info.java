/**
 * The SSH protocol module ({@code type: ssh}, Apache MINA SSHD on both sides): the OpenSSH client through the
 * gateway to a host reached with the gateway's own key.
 *
 * <ul>
 *   <li>{@link dev.portcullis.ssh.SshProtocol}: the connection section, {@code when.ssh}
 *       ({@link dev.portcullis.ssh.SshCondition}), policy test cases;</li>
 *   <li>{@link dev.portcullis.ssh.UserCertificates}: short-lived user certificates for agents' OIDC tokens
 *       (the admin API's exchange, {@code portcullis ssh-login}), and who holds each;</li>
 *   <li>{@link dev.portcullis.ssh.SshListener}: certificate logins, forwarding refused, each exec or shell to
 *       {@code ExecCommand} (judged, held, relayed, recorded as an asciicast), SFTP and scp to {@code SftpGate}
 *       (each file operation judged);</li>
 *   <li>{@link dev.portcullis.ssh.ShellCommandLine}: an exec string read as a POSIX shell reads it, every command
 *       it would run found ({@code ShellLexer}, wrappers looked through by {@code Wrappers}), or why it cannot be
 *       judged.</li>
 * </ul>
 */
package dev.portcullis.ssh;
