package dev.portcullis.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The ceilings' stand-in for Portcullis's recording write: 1.5 KB appended to a file per call, one
 * {@code write()} under a lock, as the trail does.
 */
final class CeilingTrail {
    private static final byte[] RECORD = record();

    private final FileChannel file;
    private final String name;

    private CeilingTrail(FileChannel file, String name) {
        this.file = file;
        this.name = name;
    }

    /** {@code trail FILE} at {@code args[at]}: the trail to append to; null without it. */
    static CeilingTrail fromArgs(String[] args, int at) throws IOException {
        if (args.length <= at + 1 || !args[at].equals("trail")) return null;
        return new CeilingTrail(FileChannel.open(Path.of(args[at + 1]), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND), args[at + 1]);
    }

    String name() {
        return name;
    }

    synchronized void append() {
        try {
            ByteBuffer b = ByteBuffer.wrap(RECORD);
            while (b.hasRemaining()) file.write(b);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] record() {
        byte[] record = new byte[1536];
        Arrays.fill(record, (byte) 'x');
        record[record.length - 1] = '\n';
        return record;
    }
}
