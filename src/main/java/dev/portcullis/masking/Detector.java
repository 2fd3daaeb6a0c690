package dev.portcullis.masking;

/** Content detectors: each finds one kind of sensitive value inside any text. Names are used in config. */
public enum Detector {
    EMAIL, PHONE, CARD, SSN, IBAN, JWT, API_KEY,
    /** A PEM private key block ({@code -----BEGIN ... PRIVATE KEY-----}), header to footer. */
    PRIVATE_KEY;

    /** The name used in configuration files: lower case, dashes ({@code api-key}). */
    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    public static Detector fromConfigName(String name) {
        for (Detector d : values()) {
            if (d.configName().equals(name)) return d;
        }
        throw new IllegalArgumentException("unknown detector '" + name + "'");
    }
}
