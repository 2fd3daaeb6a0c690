package dev.portcullis.approval.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * POSTs the notification as JSON, signed Stripe-style so a receiver can check it came from this
 * gateway and refuse replays:
 *
 * <pre>
 * Portcullis-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;
 * Portcullis-Event: approval.requested
 * </pre>
 *
 * Receivers check it with {@link #verify}. Several {@code v1=} values are accepted, so a receiver can
 * be given a new secret before the gateway switches to it.
 */
public final class SignedWebhookChannel implements NotificationChannel {
    public static final String SIGNATURE_HEADER = "Portcullis-Signature";
    public static final String EVENT_HEADER = "Portcullis-Event";
    public static final String APPROVAL_REQUESTED = "approval.requested";
    /** Shorter secrets are refused at start-up: HMAC is only as strong as its key. */
    public static final int MIN_SECRET_BYTES = 16;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HMAC = "HmacSHA256";

    private final URI url;
    private final byte[] secret;
    private final Clock clock;

    public SignedWebhookChannel(URI url, byte[] secret) {
        this(url, secret, Clock.systemUTC());
    }

    public SignedWebhookChannel(URI url, byte[] secret, Clock clock) {
        this.url = WebhookUrls.requireHttp(url, "webhook");
        Objects.requireNonNull(secret, "secret");
        if (secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("webhook secret for " + url.getHost() + " is " + secret.length
                    + " bytes; use at least " + MIN_SECRET_BYTES + " random bytes (32 recommended)");
        }
        this.secret = secret.clone();
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public String name() {
        return "webhook:" + url.getHost();
    }

    @Override
    public HttpRequest request(Notification n) {
        byte[] body = body(n);
        long t = clock.instant().getEpochSecond();
        return HttpRequest.newBuilder(url)
                .header("Content-Type", "application/json")
                .header(EVENT_HEADER, APPROVAL_REQUESTED)
                .header(SIGNATURE_HEADER, "t=" + t + ",v1=" + HexFormat.of().formatHex(mac(secret, t, body)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
    }

    /**
     * True when {@code header} carries a timestamp within {@code tolerance} of {@code clock} (either
     * side) and a {@code v1} HMAC of exactly {@code body} under {@code secret}. False for anything
     * else, malformed headers included.
     */
    public static boolean verify(String header, byte[] body, byte[] secret, Clock clock, Duration tolerance) {
        if (header == null || body == null || secret == null || secret.length == 0) {
            return false;
        }
        Long t = null;
        List<String> candidates = new ArrayList<>();
        for (String part : header.split(",")) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                return false;
            }
            String key = part.substring(0, eq).trim();
            String value = part.substring(eq + 1).trim();
            if (key.equals("t")) {
                if (t != null || value.isEmpty() || value.length() > 18 || !value.chars().allMatch(Character::isDigit)) {
                    return false;
                }
                t = Long.parseLong(value);
            } else if (key.equals("v1")) {
                candidates.add(value);
            }
        }
        if (t == null || candidates.isEmpty()) {
            return false;
        }
        long skewSeconds = Math.abs(clock.instant().getEpochSecond() - t);
        if (skewSeconds > tolerance.toSeconds()) {
            return false;
        }
        byte[] expected = mac(secret, t, body);
        boolean match = false;
        for (String candidate : candidates) {
            byte[] given;
            try {
                given = HexFormat.of().parseHex(candidate);
            } catch (IllegalArgumentException malformed) {
                continue;
            }
            match |= MessageDigest.isEqual(expected, given);
        }
        return match;
    }

    static byte[] body(Notification n) {
        ObjectNode json = JSON.createObjectNode()
                .put("event", APPROVAL_REQUESTED)
                .put("requestId", n.requestId())
                .put("connection", n.connection())
                .put("requesterSubject", n.requesterSubject())
                .put("operationSummary", n.operationSummary())
                .put("operationDetail", n.operationDetail())
                .put("ruleId", n.ruleId())
                .put("reason", n.reason());
        n.approverGroups().forEach(json.putArray("approverGroups")::add);
        json.put("approvalsRequired", n.approvalsRequired());
        // As the approvals API shows it, without "until": that is only known once approved.
        n.grant().ifPresentOrElse(g -> json.putObject("grant").put("duration", g.toString()).put("minutes", g.toMinutes()),
                () -> json.putNull("grant"));
        json.put("createdAt", n.createdAt().toString())
                .put("expiresAt", n.expiresAt().toString())
                .put("approvePageUrl", n.approvePageUrl().toString())
                .put("apiUrl", n.apiUrl().toString());
        try {
            return JSON.writeValueAsBytes(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write a notification as JSON", e);
        }
    }

    private static byte[] mac(byte[] secret, long t, byte[] body) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(secret, HMAC));
            mac.update((t + ".").getBytes(StandardCharsets.US_ASCII));
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    @Override
    public String toString() {
        return name();
    }
}
