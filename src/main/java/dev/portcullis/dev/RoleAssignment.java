package dev.portcullis.dev;

import java.time.Instant;

/** A standard admin role assigned to a user (Okta Role Assignment API, {@code assignmentType: USER}). */
record RoleAssignment(String id, StandardRole role, Instant created) {

    /** Okta's standard role types and the labels Okta shows for them. */
    enum StandardRole {
        SUPER_ADMIN("Super Administrator"),
        ORG_ADMIN("Organizational Administrator"),
        APP_ADMIN("Application Administrator"),
        USER_ADMIN("Group Administrator"),
        HELP_DESK_ADMIN("Help Desk Administrator"),
        READ_ONLY_ADMIN("Read-only Administrator"),
        MOBILE_ADMIN("Mobile Administrator"),
        API_ACCESS_MANAGEMENT_ADMIN("API Access Management Administrator"),
        REPORT_ADMIN("Report Administrator"),
        GROUP_MEMBERSHIP_ADMIN("Group Membership Administrator"),
        ACCESS_CERTIFICATIONS_ADMIN("Access Certifications Administrator"),
        ACCESS_REQUESTS_ADMIN("Access Requests Administrator"),
        API_ADMIN("API Administrator");

        final String label;

        StandardRole(String label) {
            this.label = label;
        }
    }
}
