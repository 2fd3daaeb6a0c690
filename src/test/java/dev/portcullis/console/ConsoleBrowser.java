package dev.portcullis.console;

import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * A browser at the HTTP level: its own cookie jar, redirects followed one step at a time so each can be
 * looked at. For the sign-in's bad input, which a real browser would not let a test forge.
 */
public final class ConsoleBrowser {
    final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    final HttpClient http;

    public ConsoleBrowser() {
        this(null);
    }

    /** @param tls trusts the admin listener's certificate (an https console); null: the JVM's defaults */
    public ConsoleBrowser(javax.net.ssl.SSLContext tls) {
        HttpClient.Builder b = HttpClient.newBuilder().cookieHandler(cookies).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(5));
        if (tls != null) b.sslContext(tls);
        http = b.build();
    }

    public HttpResponse<String> get(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Follows redirects from {@code uri} until an answer that is not one; answers it. */
    public HttpResponse<String> follow(URI uri) throws Exception {
        HttpResponse<String> r = get(uri);
        for (int i = 0; i < 10 && r.statusCode() / 100 == 3; i++) r = get(r.uri().resolve(r.headers().firstValue("Location").orElseThrow()));
        return r;
    }

    /** A request as the console's script sends it: JSON, with the CSRF token when given, from {@code origin} when given. */
    public HttpResponse<String> send(String method, URI uri, String json, Optional<String> csrf, Optional<String> origin) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).header("Accept", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) b.header("Content-Type", "application/json");
        csrf.ifPresent(t -> b.header("X-CSRF-Token", t));
        // The JDK's client will not set Origin itself; browsers do on cross-origin and on POSTs.
        origin.ifPresent(o -> b.header("Origin", o));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public Optional<HttpCookie> cookie(String name) {
        return cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals(name)).findFirst();
    }

    public void setCookie(URI uri, String name, String value) {
        HttpCookie c = new HttpCookie(name, value);
        c.setPath("/");
        c.setVersion(0);
        cookies.getCookieStore().add(uri, c);
    }
}
