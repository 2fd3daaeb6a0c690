package dev.portcullis.approval.notify;

import java.net.URI;
import java.util.Objects;

final class WebhookUrls {
    private WebhookUrls() {
    }

    /** Fails at start-up, naming the channel, rather than on the first held operation. */
    static URI requireHttp(URI url, String channelType) {
        Objects.requireNonNull(url, channelType + " url");
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http") || url.getHost() == null) {
            throw new IllegalArgumentException(channelType + " url must be an absolute http(s) URL with a host, was '"
                    + url.getScheme() + "://" + url.getHost() + "…'");
        }
        return url;
    }

    /** {@code page} with {@code name=value} added to its query; an existing query is kept. */
    static URI withQuery(URI page, String name, String value) {
        String s = page.toString();
        int hash = s.indexOf('#');
        String fragment = hash < 0 ? "" : s.substring(hash);
        String base = hash < 0 ? s : s.substring(0, hash);
        return URI.create(base + (page.getRawQuery() == null ? "?" : "&") + name + "=" + value + fragment);
    }
}
