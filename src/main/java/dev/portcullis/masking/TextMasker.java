package dev.portcullis.masking;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Replaces sensitive content found by {@link Detector}s with a placeholder ({@code [email]},
 * {@code [card]}, ...). Immutable and thread-safe; build one per plan and reuse it.
 *
 * <p>The common case is a string with nothing to mask: it is returned as is, after one pass that
 * counts digits and looks for {@code '@'} and {@code '+'}, with no allocation. Where detectors find
 * overlapping spans, their union becomes one placeholder named for the most specific of them (private
 * key, JWT, API key, email, IBAN, card, SSN, phone).
 */
public final class TextMasker {
    /** Most specific first: a JWT or an IBAN contains digit runs a phone detector would also like. */
    private static final List<Detector> PRECEDENCE = List.of(
            Detector.PRIVATE_KEY, Detector.JWT, Detector.API_KEY, Detector.EMAIL, Detector.IBAN, Detector.CARD, Detector.SSN, Detector.PHONE);

    private static final TextMasker NONE = new TextMasker(List.of());

    private final List<Detector> detectors;
    /** What replaces every found value; null: the detector's own placeholder. */
    private final String replacement;

    private TextMasker(List<Detector> detectors) {
        this(detectors, null);
    }

    private TextMasker(List<Detector> detectors, String replacement) {
        this.detectors = detectors;
        this.replacement = replacement;
    }

    /** A masker that replaces whatever {@code detectors} find with the one {@code replacement}. */
    static TextMasker replacingWith(Collection<Detector> detectors, String replacement) {
        Set<Detector> wanted = detectors.isEmpty() ? Set.of() : EnumSet.copyOf(detectors);
        return new TextMasker(PRECEDENCE.stream().filter(wanted::contains).toList(), replacement);
    }

    public static TextMasker of(Collection<Detector> detectors) {
        if (detectors.isEmpty()) return NONE;
        Set<Detector> wanted = EnumSet.copyOf(detectors);
        return BY_SET.computeIfAbsent(wanted, w -> new TextMasker(PRECEDENCE.stream().filter(w::contains).toList()));
    }

    /** At most 2^8 detector sets exist: one masker each. */
    private static final java.util.concurrent.ConcurrentMap<Set<Detector>, TextMasker> BY_SET =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The placeholder that replaces a value found by {@code d}: {@code [api-key]} for API_KEY. */
    public static String placeholder(Detector d) {
        return "[" + d.configName() + "]";
    }

    public boolean isEmpty() {
        return detectors.isEmpty();
    }

    /** {@code text} with every detected value replaced; the same instance when nothing was found. */
    public String mask(String text) {
        if (detectors.isEmpty() || text.length() < 6) return text;
        int hints = ContentDetectors.hints(text);
        Spans spans = null;
        for (Detector d : detectors) {
            if (!ContentDetectors.worthScanning(d, text, hints)) continue;
            if (spans == null) spans = new Spans();
            ContentDetectors.find(d, text, hints, spans);
        }
        return spans == null || spans.found == null ? text : spans.apply(text, replacement);
    }

    /** Found spans, allocated only once something is found; overlapping ones are masked as one. */
    private static final class Spans implements ContentDetectors.SpanSink {
        /** start, end, detector ordinal, order found (lower = more specific detector) */
        private List<int[]> found;

        /** Where each detector's spans begin in {@link #found}; within one detector they are sorted and disjoint. */
        private int[] runs;
        private int runCount;

        @Override
        public void span(int start, int end, Detector kind) {
            if (found == null) {
                found = new ArrayList<>(4);
                runs = new int[PRECEDENCE.size()];
            }
            if (runCount == 0 || found.get(runs[runCount - 1])[2] != kind.ordinal()) runs[runCount++] = found.size();
            found.add(new int[] {start, end, kind.ordinal(), found.size()});
        }

        @Override
        public boolean covers(int index) {
            for (int r = 0; r < runCount; r++) {
                int lo = runs[r], hi = (r + 1 < runCount ? runs[r + 1] : found.size()) - 1;
                while (lo <= hi) {
                    int mid = (lo + hi) >>> 1;
                    int[] f = found.get(mid);
                    if (index < f[0]) hi = mid - 1;
                    else if (index >= f[1]) lo = mid + 1;
                    else return true;
                }
            }
            return false;
        }

        /**
         * Replaces each group of overlapping spans by one placeholder, named for its most specific
         * detector: the union is masked, so a span one detector found is never left half shown
         * because another detector found an overlapping one first.
         */
        String apply(String text, String replacement) {
            found.sort((a, b) -> a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[3], b[3]));
            StringBuilder out = new StringBuilder(text.length());
            int at = 0;
            for (int i = 0; i < found.size(); ) {
                int[] first = found.get(i), named = first;
                int end = first[1];
                for (i++; i < found.size() && found.get(i)[0] < end; i++) {
                    int[] f = found.get(i);
                    end = Math.max(end, f[1]);
                    if (f[3] < named[3]) named = f;
                }
                out.append(text, at, first[0]).append(replacement != null ? replacement : placeholder(Detector.values()[named[2]]));
                at = end;
            }
            return out.append(text, at, text.length()).toString();
        }
    }
}
