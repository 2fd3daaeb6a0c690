package dev.portcullis.identity;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How agent tokens are verified.
 *
 * @param issuer          the OIDC issuer; discovery is read from {@code issuer + /.well-known/openid-configuration}
 * @param audience        the required {@code aud} value
 * @param groupsClaim     claim holding the caller's groups (array of strings, or one string)
 * @param algorithms      accepted JWS algorithm names; asymmetric only (RS*, PS*, ES*)
 * @param clockSkew       tolerance for {@code exp} and {@code nbf}
 * @param maxTokenBytes   longer tokens are refused before parsing
 * @param introspection   optional RFC 7662 introspection, for revocation
 * @param jwksMinRefresh  an unknown {@code kid} triggers a JWKS refresh at most this often
 */
public record IdentityConfig(URI issuer, String audience, String groupsClaim, Set<String> algorithms,
                             Duration clockSkew, int maxTokenBytes, Optional<IntrospectionConfig> introspection,
                             Duration jwksMinRefresh) {
    public IdentityConfig {
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(groupsClaim, "groupsClaim");
        algorithms = Set.copyOf(algorithms);
        Objects.requireNonNull(clockSkew, "clockSkew");
        Objects.requireNonNull(introspection, "introspection");
        Objects.requireNonNull(jwksMinRefresh, "jwksMinRefresh");
    }

    /**
     * RFC 7662 token introspection.
     *
     * @param endpoint     introspection endpoint; when absent, taken from discovery's {@code introspection_endpoint}
     * @param clientId     client authenticating to the endpoint (HTTP Basic)
     * @param clientSecret its secret; never logged
     * @param cacheTtl     how long an answer is reused; a revoked token is refused within this time
     */
    public record IntrospectionConfig(Optional<URI> endpoint, String clientId, String clientSecret, Duration cacheTtl) {
        public IntrospectionConfig {
            Objects.requireNonNull(endpoint);
            Objects.requireNonNull(clientId);
            Objects.requireNonNull(clientSecret);
            Objects.requireNonNull(cacheTtl);
        }

        @Override
        public String toString() {
            return "IntrospectionConfig[endpoint=" + endpoint + ", clientId=" + clientId + ", cacheTtl=" + cacheTtl + "]";
        }
    }
}
