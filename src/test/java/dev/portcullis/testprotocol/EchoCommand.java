package dev.portcullis.testprotocol;

import dev.portcullis.core.Operation;
import java.util.List;

/**
 * One line of the echo protocol, {@code <verb> <text>}: {@code say} reads (the target echoes the text
 * back), any other verb ({@code shout}, {@code forget}) may change the target.
 */
record EchoCommand(String verb, String text) implements Operation {

    static EchoCommand parse(String line) {
        int space = line.indexOf(' ');
        return space < 0 ? new EchoCommand(line, "") : new EchoCommand(line.substring(0, space), line.substring(space + 1));
    }

    @Override
    public String protocol() {
        return "echo";
    }

    @Override
    public String summary() {
        return text.isEmpty() ? verb : verb + " " + text;
    }

    @Override
    public List<String> identity() {
        return List.of(verb, text);
    }

    @Override
    public boolean mayChangeTarget() {
        return !verb.equals("say");
    }
}
