package dev.portcullis.postgres;

import java.util.Objects;

/**
 * One typed message as it came off the wire, undecoded: the type byte and the payload without the
 * length word. Lets a relay pass through messages it does not need to understand, byte for byte.
 */
public record RawMessage(byte type, byte[] payload) {

    public RawMessage {
        Objects.requireNonNull(payload, "payload");
    }

    /** The type as a character, e.g. {@code 'D'}, for switches and messages. */
    public char typeChar() {
        return (char) (type & 0xff);
    }

    @Override
    public String toString() {
        return "RawMessage['" + PayloadReader.printable(type) + "', " + payload.length + " bytes]";
    }
}
