package dev.portcullis.masking;

import java.util.List;
import java.util.Set;

/**
 * What to mask in a response.
 *
 * @param fields    field selectors: for JSON a dotted path matched as a suffix of the value's path,
 *                  ignoring array indices ({@code profile.email} matches {@code [3].profile.email});
 *                  for SQL a column name
 * @param detectors content detectors applied to every string value
 */
public record MaskPlan(List<String> fields, Set<Detector> detectors) {
    public MaskPlan {
        fields = List.copyOf(fields);
        detectors = Set.copyOf(detectors);
    }

    public static final MaskPlan NONE = new MaskPlan(List.of(), Set.of());

    public boolean isEmpty() {
        return fields.isEmpty() && detectors.isEmpty();
    }
}
