package dev.portcullis.recording;

/**
 * Output recorded from a program that had no terminal (an SSH exec or shell without a pty, a Kubernetes
 * exec without {@code tty}): its lines end in a bare line feed, which a terminal player would show as a
 * staircase. A terminal's line discipline turns them into CR LF ({@code onlcr}); so does this, on the
 * recorded copy only, across chunk boundaries. What the agent received is untouched.
 */
public final class WithoutTerminal {
    private boolean lastWasCarriageReturn;

    /** The chunk with each line feed not already preceded by a carriage return made CR LF. */
    public String translate(String chunk) {
        StringBuilder out = null;
        for (int i = 0; i < chunk.length(); i++) {
            char c = chunk.charAt(i);
            boolean previousCr = i == 0 ? lastWasCarriageReturn : chunk.charAt(i - 1) == '\r';
            if (c == '\n' && !previousCr) {
                if (out == null) out = new StringBuilder(chunk.length() + 16).append(chunk, 0, i);
                out.append('\r');
            }
            if (out != null) out.append(c);
        }
        if (!chunk.isEmpty()) lastWasCarriageReturn = chunk.charAt(chunk.length() - 1) == '\r';
        return out == null ? chunk : out.toString();
    }
}
