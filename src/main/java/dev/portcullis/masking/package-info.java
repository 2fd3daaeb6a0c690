/**
 * Masking: what an agent reads back from a target passes through here before it leaves the gateway;
 * what it sends is recorded as sent, minus secrets ({@link dev.portcullis.masking.Redactor}).
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
 * string value (email, phone, card with Luhn, SSN, IBAN with mod-97, JWT, API keys, PEM private keys)
 * and replace it with {@code [email]}, {@code [card]}, ...
 *
 * <p>The agent's own request is its action, not data it reads: the recording and approvers see it
 * as sent. The {@link dev.portcullis.masking.Redactor} replaces only secrets with {@code [redacted]}:
 * password, token and key fields (defaults plus the connection's {@code redact} list), JWTs, API keys
 * and private keys found by content, and SQL's {@code PASSWORD '...'} literals.
 *
 * <p>Everything streams: memory is bounded by the largest token or line, not the body. Detectors
 * use cheap pre-checks before any regex and patterns that cannot backtrack for long. Masking fails
 * closed: malformed JSON raises {@link dev.portcullis.masking.MaskingException} and the caller aborts
 * the response; what was written before is masked, never raw.
 */
package dev.portcullis.masking;
