package dev.portcullis.server;

import dev.portcullis.config.AdminConfig;
import dev.portcullis.core.Identity;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who may read what was recorded (sessions and replays, the trail's health, the policies): members of
 * {@code admin.auditors} or {@code admin.session-admins}. One place for the rule and its refusal.
 */
record Auditors(AdminConfig config) {

    boolean include(Identity caller) {
        return config.mayAudit(caller.groups());
    }

    /** The 403 that refuses {@code caller} reading {@code what}, or empty when they may. */
    Optional<SessionsApi.Reply> refuse(Identity caller, String what) {
        if (include(caller)) return Optional.empty();
        return Optional.of(SessionsApi.problem(403, "Not an auditor", caller.subject() + " may not read " + what + ": " + describe()));
    }

    String describe() {
        Set<String> groups = new TreeSet<>(config.auditors());
        groups.addAll(config.sessionAdmins());
        return groups.isEmpty() ? "no group may: set admin.auditors in the configuration"
                : "members of admin.auditors or admin.session-admins may (" + String.join(", ", groups) + ")";
    }
}
