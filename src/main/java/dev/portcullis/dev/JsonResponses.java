package dev.portcullis.dev;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;

/** Writes JSON bodies straight to the response stream, so a 10,000-user page is never one giant string. */
final class JsonResponses {
    static final ObjectMapper MAPPER = new ObjectMapper();

    @FunctionalInterface
    interface Body {
        void writeTo(JsonGenerator json) throws IOException;
    }

    private JsonResponses() {
    }

    static void send(Response response, Callback callback, int status, Body body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        try (var out = Content.Sink.asOutputStream(response);
             var json = MAPPER.createGenerator(out)) {
            body.writeTo(json);
        } catch (IOException | RuntimeException e) {
            callback.failed(e);
            return;
        }
        callback.succeeded();
    }

    static void sendNoContent(Response response, Callback callback) {
        response.setStatus(204);
        callback.succeeded();
    }
}
