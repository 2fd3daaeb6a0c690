package dev.portcullis.dev;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.net.URI;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;

/** Okta's JSON shapes (Users API, Role Assignment API, error object), written field by field to a generator. */
final class OktaJson {
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    /** The org's default user type. */
    static final String DEFAULT_USER_TYPE_ID = "oty1demoDefaultType0";

    private OktaJson() {
    }

    static void writeUser(JsonGenerator json, OktaUser user, URI orgUrl) throws IOException {
        json.writeStartObject();
        json.writeStringField("id", user.id());
        json.writeStringField("status", user.status().name());
        writeTime(json, "created", Optional.of(user.created()));
        writeTime(json, "activated", user.activated());
        writeTime(json, "statusChanged", Optional.of(user.statusChanged()));
        writeTime(json, "lastLogin", user.lastLogin());
        writeTime(json, "lastUpdated", Optional.of(user.lastUpdated()));
        writeTime(json, "passwordChanged", user.passwordChanged());
        json.writeObjectFieldStart("type");
        json.writeStringField("id", DEFAULT_USER_TYPE_ID);
        json.writeEndObject();
        json.writeFieldName("profile");
        json.writeTree(user.profile());
        json.writeObjectFieldStart("credentials");
        if (user.hasPassword()) {
            json.writeObjectFieldStart("password");
            json.writeEndObject();
        }
        json.writeObjectFieldStart("provider");
        json.writeStringField("type", "OKTA");
        json.writeStringField("name", "OKTA");
        json.writeEndObject();
        json.writeEndObject();
        String self = orgUrl + "/api/v1/users/" + user.id();
        json.writeObjectFieldStart("_links");
        writeLink(json, "self", self, Optional.empty());
        if (user.status() != OktaUser.Status.DEPROVISIONED) {
            writeLink(json, "deactivate", self + "/lifecycle/deactivate", Optional.of("POST"));
        }
        json.writeEndObject();
        json.writeEndObject();
    }

    static void writeRole(JsonGenerator json, RoleAssignment role, String userId, URI orgUrl) throws IOException {
        json.writeStartObject();
        json.writeStringField("id", role.id());
        json.writeStringField("label", role.role().label);
        json.writeStringField("type", role.role().name());
        json.writeStringField("status", "ACTIVE");
        writeTime(json, "created", Optional.of(role.created()));
        writeTime(json, "lastUpdated", Optional.of(role.created()));
        json.writeStringField("assignmentType", "USER");
        json.writeObjectFieldStart("_links");
        writeLink(json, "assignee", orgUrl + "/api/v1/users/" + userId, Optional.empty());
        json.writeEndObject();
        json.writeEndObject();
    }

    static void writeRoles(JsonGenerator json, List<RoleAssignment> roles, String userId, URI orgUrl) throws IOException {
        json.writeStartArray();
        for (RoleAssignment role : roles) {
            writeRole(json, role, userId, orgUrl);
        }
        json.writeEndArray();
    }

    /** Okta's error object; {@code causes} become {@code errorCauses[].errorSummary}. */
    static void writeError(JsonGenerator json, OktaError error, String errorId) throws IOException {
        json.writeStartObject();
        json.writeStringField("errorCode", error.code());
        json.writeStringField("errorSummary", error.summary());
        json.writeStringField("errorLink", error.code());
        json.writeStringField("errorId", errorId);
        json.writeArrayFieldStart("errorCauses");
        for (String cause : error.causes()) {
            json.writeStartObject();
            json.writeStringField("errorSummary", cause);
            json.writeEndObject();
        }
        json.writeEndArray();
        json.writeEndObject();
    }

    private static void writeLink(JsonGenerator json, String rel, String href, Optional<String> method) throws IOException {
        json.writeObjectFieldStart(rel);
        json.writeStringField("href", href);
        if (method.isPresent()) {
            json.writeStringField("method", method.get());
        }
        json.writeEndObject();
    }

    private static void writeTime(JsonGenerator json, String field, Optional<Instant> time) throws IOException {
        if (time.isPresent()) {
            json.writeStringField(field, TIMESTAMP.format(time.get()));
        } else {
            json.writeNullField(field);
        }
    }
}
