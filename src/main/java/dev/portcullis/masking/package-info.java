/**
 * Masking: what an agent reads back from a target passes through here before it leaves the gateway.
 *
 * <pre>
 *  upstream body ──▶ JsonMasker (application/json)  ──▶ CappedCapture ──▶ client
 *                    TextStreamMasker (text, XML, CSV)      │ first N bytes
 *                          │ every string value              ▼
 *                          ▼                              recorder
 *                    TextMasker ── Detector × ContentDetectors
 * </pre>
 *
 * A {@link dev.portcullis.masking.MaskPlan} (from the policy's Mask verdict) names fields and
 * detectors. Fields are dotted paths matched as a suffix of a value's path, whole names, array levels
 * ignored; the value becomes {@code "[masked]"}. Detectors find sensitive content anywhere in any
 * string value (email, phone, card with Luhn, SSN, IBAN with mod-97, JWT, API keys) and replace it
 * with {@code [email]}, {@code [card]}, ...
 *
 * <p>Everything streams: memory is bounded by the largest token or line, not the body. Detectors
 * use cheap pre-checks before any regex and patterns that cannot backtrack for long. Masking fails
 * closed: malformed JSON raises {@link dev.portcullis.masking.MaskingException} and the caller aborts
 * the response; what was written before is masked, never raw.
 */
package dev.portcullis.masking;
