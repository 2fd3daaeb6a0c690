package dev.portcullis.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * Network agents in tests: the agent listener added to a shipped example, and a join token made as an
 * operator makes it, through the admin API.
 */
public final class JoinTokens {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JoinTokens() {
    }

    /** Adds to an example configuration the agent listener on {@code port}, whose admins are the group platform. */
    public static String withAgentListener(String yaml, int port) {
        return yaml.replace("\nconnections:\n", "\nagents:\n  listen: 127.0.0.1:" + port + "\n  admins: [platform]\n\nconnections:\n");
    }

    /**
     * {@code POST /api/v1/agents/join-tokens} on the admin listener at {@code adminPort} with {@code platformToken}
     * (a member of agents.admins): the answer's {@code token}, {@code gatewayKey}, {@code gateway}.
     */
    public static JsonNode create(int adminPort, String platformToken, String name) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/api/v1/agents/join-tokens"))
                .header("Authorization", "Bearer " + platformToken)
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) throw new AssertionError("no join token for " + name + ": " + r.statusCode() + " " + r.body());
        return JSON.readTree(r.body());
    }
}
