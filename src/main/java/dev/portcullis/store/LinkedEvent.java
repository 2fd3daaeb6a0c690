package dev.portcullis.store;

import java.util.Objects;

/** An event to append, with its place in the chains. */
public record LinkedEvent(NewEvent event, ChainLink link) {
    public LinkedEvent {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(link, "link");
    }
}
