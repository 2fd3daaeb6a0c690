/**
 * The Kubernetes protocol module (issue 11, being built): so far {@link dev.portcullis.kubernetes.SecretMasking},
 * which takes Secret values out of API responses wherever the API puts them, {@link dev.portcullis.kubernetes.KubeStatus},
 * refusals as the API server's Status objects, and {@link dev.portcullis.kubernetes.KubeHeaders} (no impersonation
 * by agents, JSON only upstream). The operation model is
 * {@link dev.portcullis.core.KubeRequest}.
 */
package dev.portcullis.kubernetes;
