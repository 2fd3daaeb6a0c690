/**
 * The Kubernetes protocol module ({@code type: kubernetes}): kubectl and client-go tools through the
 * gateway, on the HTTP data path with a dialect of their own.
 *
 * <ul>
 *   <li>{@link dev.portcullis.kubernetes.KubernetesProtocol}: the connection section, {@code when.kubernetes}
 *       ({@link dev.portcullis.kubernetes.KubeCondition}), policy test cases, the built-in discovery rule;</li>
 *   <li>{@link dev.portcullis.kubernetes.KubeDialect}: each request as a {@link dev.portcullis.core.KubeRequest},
 *       refusals as {@link dev.portcullis.kubernetes.KubeStatus} objects, JSON asked of the API server
 *       ({@link dev.portcullis.kubernetes.KubeHeaders}), Secret values masked in every response
 *       ({@link dev.portcullis.kubernetes.SecretMasking}, streamed by {@code SecretStreamMasker}), watches and
 *       followed logs streamed, exec/attach/port-forward as byte streams, {@code kubectl auth can-i} answered
 *       from policy ({@code SelfReview});</li>
 *   <li>{@code ExecRecorder}: an exec or attach stream (WebSocket or SPDY) recorded as an asciicast.</li>
 * </ul>
 */
package dev.portcullis.kubernetes;
