package dev.portcullis.recording;

/** Where an operation's time went, in microseconds. {@code upstreamMicros} is 0 when not forwarded. */
public record Timings(long decideMicros, long upstreamMicros, long totalMicros) {
    public Timings {
        if (decideMicros < 0 || upstreamMicros < 0 || totalMicros < 0) {
            throw new IllegalArgumentException("durations must be >= 0");
        }
    }
}
