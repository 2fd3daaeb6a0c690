package dev.portcullis.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class LargeBodyMaskingTest {
    private static final MaskPlan PLAN = new MaskPlan(List.of("profile.login"), EnumSet.allOf(Detector.class));

    @Test
    void tenThousandOktaUsersAreAllMaskedAndKeepTheirShape() throws Exception {
        OktaUsersBody body = new OktaUsersBody(10_000, i -> {});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new JsonMasker().mask(body, out, PLAN);

        assertThat(body.bytesRead()).isGreaterThan(5_000_000);
        String masked = out.toString(StandardCharsets.UTF_8);
        assertThat(masked.indexOf('@')).as("position of a raw '@' in the output").isEqualTo(-1);
        JsonNode users = new ObjectMapper().readTree(masked);
        assertThat(users.size()).isEqualTo(10_000);
        for (int i = 0; i < users.size(); i++) {
            JsonNode user = users.get(i);
            JsonNode profile = user.get("profile");
            assertThat(user.get("id").asText()).isEqualTo("00u%07dabcdEFGH".formatted(i));
            assertThat(user.get("created").asText()).isEqualTo("2026-11-23T10:00:00.000Z");
            assertThat(user.get("loginCount").asInt()).isEqualTo(i);
            assertThat(profile.get("login").asText()).isEqualTo("[masked]");
            assertThat(profile.get("email").asText()).isEqualTo("[email]");
            assertThat(profile.get("secondEmail").asText()).isEqualTo("[email]");
            assertThat(profile.get("mobilePhone").asText()).isEqualTo("[phone]");
            assertThat(profile.get("primaryPhone").asText()).isEqualTo("[phone]");
            assertThat(profile.get("notes").asText()).isEqualTo("Backup contact [email], desk [phone]");
        }
    }

    /**
     * Streams a body far larger than what the masker may hold, generated lazily on one side and
     * discarded on the other, and samples the live heap (after a GC) as it goes: the heap must stay
     * flat, far below the body size, which it could not if anything kept the body or the output.
     */
    @Test
    void memoryStaysFlatWhateverTheBodySize() throws Exception {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long[] peakLive = {0};
        memory.gc();
        long baseline = memory.getHeapMemoryUsage().getUsed();
        OktaUsersBody body = new OktaUsersBody(60_000, i -> {
            if (i % 5_000 == 4_999) {
                memory.gc();
                peakLive[0] = Math.max(peakLive[0], memory.getHeapMemoryUsage().getUsed());
            }
        });
        LeakCountingSink sink = new LeakCountingSink();

        new JsonMasker().mask(body, sink, PLAN);

        long growth = peakLive[0] - baseline;
        assertThat(body.bytesRead()).isGreaterThan(30_000_000);
        assertThat(sink.bytes).isGreaterThan(20_000_000);
        assertThat(sink.atSigns).as("raw emails in the output").isZero();
        assertThat(growth).as("live heap growth while masking %d bytes", body.bytesRead())
                .isLessThan(4L << 20)
                .isLessThan(body.bytesRead() / 20);
    }

    /** Keeps nothing: counts bytes and any '@' (every email in the body must be masked). */
    private static final class LeakCountingSink extends OutputStream {
        long bytes;
        long atSigns;

        @Override
        public void write(int b) {
            bytes++;
            if (b == '@') atSigns++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes += len;
            for (int i = off; i < off + len; i++) if (b[i] == '@') atSigns++;
        }
    }
}
