/**
 * The Kubernetes protocol module (issue 11, being built): so far {@link dev.portcullis.kubernetes.SecretMasking},
 * which takes Secret values out of API responses wherever the API puts them. The operation model is
 * {@link dev.portcullis.core.KubeRequest}.
 */
package dev.portcullis.kubernetes;
