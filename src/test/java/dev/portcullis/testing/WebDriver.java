package dev.portcullis.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** A minimal W3C WebDriver client for a local chromedriver driving headless Chromium; no Selenium. */
public final class WebDriver implements AutoCloseable {
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(15);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Process driver;
    private final Path profile;
    private final URI base;
    private String session;

    /** A web element reference. */
    public record Element(String id) {
    }

    public WebDriver() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        profile = Files.createTempDirectory("portcullis-chromium");
        base = URI.create("http://127.0.0.1:" + port);
        driver = new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port, "--allowed-ips=127.0.0.1")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitReady();
            ObjectNode caps = JSON.createObjectNode();
            ObjectNode always = caps.putObject("capabilities").putObject("alwaysMatch");
            always.put("browserName", "chrome");
            always.putObject("goog:loggingPrefs").put("browser", "ALL");
            ObjectNode chrome = always.putObject("goog:chromeOptions");
            chrome.put("binary", CHROMIUM.toString());
            var args = chrome.putArray("args");
            for (String a : List.of("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--user-data-dir=" + profile)) {
                args.add(a);
            }
            session = call("POST", "/session", caps).path("sessionId").asText();
            if (session.isEmpty()) throw new IllegalStateException("chromedriver gave no session id");
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    private void awaitReady() throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                if (call("GET", "/status", null).path("ready").asBoolean()) return;
            } catch (IOException e) {
                // not listening yet
            }
            if (!driver.isAlive()) throw new IllegalStateException("chromedriver exited: " + driver.exitValue());
            if (System.nanoTime() > deadline) throw new IllegalStateException("chromedriver not ready");
            Thread.sleep(50);
        }
    }

    private JsonNode call(String method, String path, JsonNode body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.toString()));
        if (body != null) b.header("Content-Type", "application/json; charset=utf-8");
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode value = JSON.readTree(r.body()).path("value");
        if (r.statusCode() != 200) {
            throw new WebDriverException(value.path("error").asText(), value.path("message").asText());
        }
        return value;
    }

    static final class WebDriverException extends RuntimeException {
        final String error;

        WebDriverException(String error, String message) {
            super(error + ": " + message);
            this.error = error;
        }
    }

    private String s(String rest) {
        return "/session/" + session + rest;
    }

    public void navigate(String url) throws Exception {
        call("POST", s("/url"), JSON.createObjectNode().put("url", url));
    }

    public Optional<Element> find(String css) throws Exception {
        try {
            return Optional.of(new Element(call("POST", s("/element"),
                    JSON.createObjectNode().put("using", "css selector").put("value", css)).path(ELEMENT).asText()));
        } catch (WebDriverException e) {
            if (e.error.equals("no such element")) return Optional.empty();
            throw e;
        }
    }

    /** Waits until an element matches and is displayed. */
    public Element await(String css) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Optional<Element> e = find(css);
            if (e.isPresent() && call("GET", s("/element/" + e.get().id() + "/displayed"), null).asBoolean()) return e.get();
            if (System.nanoTime() > deadline) throw new AssertionError("no element " + css + " within " + WAIT);
            Thread.sleep(50);
        }
    }

    /** Waits until the first element matching css has text satisfying the condition, and returns it. */
    public String awaitText(String css, Predicate<String> condition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = null;
        while (true) {
            Optional<Element> e = find(css);
            if (e.isPresent()) {
                try {
                    last = text(e.get());
                    if (condition.test(last)) return last;
                } catch (WebDriverException stale) {
                    // re-rendered between find and read
                }
            }
            if (System.nanoTime() > deadline) throw new AssertionError("text of " + css + " never matched; last: " + last);
            Thread.sleep(50);
        }
    }

    public void type(Element e, String text) throws Exception {
        call("POST", s("/element/" + e.id() + "/value"), JSON.createObjectNode().put("text", text));
    }

    public void click(Element e) throws Exception {
        call("POST", s("/element/" + e.id() + "/click"), JSON.createObjectNode());
    }

    public String text(Element e) throws Exception {
        return call("GET", s("/element/" + e.id() + "/text"), null).asText();
    }

    /** Sets the window's outer size (1280×800 a laptop, 390×844 a phone). */
    public void windowSize(int width, int height) throws Exception {
        call("POST", s("/window/rect"), JSON.createObjectNode().put("width", width).put("height", height));
    }

    /** Saves a PNG of the page as it is shown now. */
    public void screenshot(Path file) throws Exception {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, java.util.Base64.getDecoder().decode(call("GET", s("/screenshot"), null).asText()));
    }

    public String currentUrl() throws Exception {
        return call("GET", s("/url"), null).asText();
    }

    /** The browser console's messages since the last call (errors, CSP violations...). */
    public List<String> consoleMessages() throws Exception {
        List<String> out = new java.util.ArrayList<>();
        for (JsonNode entry : call("POST", s("/se/log"), JSON.createObjectNode().put("type", "browser"))) {
            out.add(entry.path("level").asText() + " " + entry.path("message").asText());
        }
        return out;
    }

    /** Runs a synchronous script in the page and answers its result. */
    public JsonNode script(String body) throws Exception {
        ObjectNode req = JSON.createObjectNode().put("script", body);
        req.putArray("args");
        return call("POST", s("/execute/sync"), req);
    }

    @Override
    public void close() {
        if (session != null) {
            try {
                call("DELETE", s(""), null);
            } catch (Exception ignored) {
                // the driver is killed below anyway
            }
            session = null;
        }
        driver.descendants().forEach(ProcessHandle::destroy);
        driver.destroy();
        try {
            if (!driver.waitFor(5, TimeUnit.SECONDS)) driver.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        driver.descendants().forEach(ProcessHandle::destroyForcibly);
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory
        }
    }
}
