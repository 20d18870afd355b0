//! The OpenAPI paths and schemas of users, roles and invitations (owners only).

use serde_json::{Map, Value, json};

fn err(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn id() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}})
}

pub(crate) fn paths() -> Map<String, Value> {
    let denied = err("Your role does not allow this: owners only (code `forbidden`).");
    let unauth = err("No valid API token (code `unauthenticated` or `invalid_token`).");
    let bad = err(
        "The body is not acceptable JSON: codes `malformed_json`, `unknown_field`, `missing_field`, `invalid_field`.",
    );
    let invalid = err(
        "A value is not valid: codes `role_invalid`, `email_invalid`, `families_only_for_viewers`, `family_not_found`.",
    );
    let mut m = Map::new();
    m.insert(
        "/users".into(),
        json!({"get": {
        "operationId": "listUsers", "summary": "The organization's users and their roles",
        "responses": {"200": ok("The users.", "UserList"), "401": unauth, "403": denied}}}),
    );
    m.insert("/users/{id}".into(), json!({
        "patch": {"operationId": "setUserRole", "summary": "Change a user's role (and a viewer's family limit)",
            "parameters": [id()], "requestBody": body("RoleInput"),
            "responses": {"200": ok("The user.", "User"), "400": bad, "401": unauth, "403": denied,
                "404": err("No such user (code `user_not_found`)."),
                "409": err("The organization would have no owner left (code `last_owner`)."), "422": invalid}},
        "delete": {"operationId": "removeUser", "summary": "Remove a user with their sessions and API tokens",
            "parameters": [id()],
            "responses": {"204": {"description": "Removed."}, "401": unauth, "403": denied,
                "404": err("No such user (code `user_not_found`)."),
                "409": err("The last owner cannot be removed (code `last_owner`).")}}}));
    m.insert("/invites".into(), json!({
        "get": {"operationId": "listInvites", "summary": "Pending invitations (never their links)",
            "responses": {"200": ok("The invitations.", "InviteList"), "401": unauth, "403": denied}},
        "post": {"operationId": "inviteUser", "summary": "Invite someone: the answer's `link` (shown once) lets them choose a password and join",
            "requestBody": body("InviteInput"),
            "responses": {"201": ok("The invitation and its link.", "IssuedInvite"), "400": bad, "401": unauth, "403": denied,
                "409": err("The address has a user (`email_taken`) or a pending invitation (`invite_pending`)."), "422": invalid}}}));
    let filters = json!([
        {"name": "kind", "in": "query", "required": false, "schema": {"type": "string", "enum": ["account", "connection", "secret", "family", "plan", "rule", "strategy", "allocation", "invoice", "user", "invite"]}},
        {"name": "action", "in": "query", "required": false, "schema": {"type": "string", "enum": ["create", "update", "delete"]}},
        {"name": "actor", "in": "query", "required": false, "schema": {"type": "string"}, "description": "The e-mail address of who made the change."},
        {"name": "target", "in": "query", "required": false, "schema": {"type": "string"}, "description": "The changed thing's ID."},
        {"name": "from", "in": "query", "required": false, "schema": {"type": "string"}, "description": "A date (YYYY-MM-DD) or RFC 3339 time, included."},
        {"name": "to", "in": "query", "required": false, "schema": {"type": "string"}, "description": "A date or time, excluded."},
        {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 5000}}
    ]);
    let bad_filter = err(
        "A filter is not valid: codes `audit_kind_invalid`, `audit_action_invalid`, `audit_time_invalid`.",
    );
    let audit_denied = err("Your role does not allow this: analysts and above (code `forbidden`).");
    m.insert("/audit".into(), json!({"get": {
        "operationId": "listAudit", "summary": "The audit trail, newest first: who changed what, when, from which address, before and after (secrets: never their value)",
        "parameters": filters.clone(),
        "responses": {"200": ok("The events.", "AuditList"), "401": unauth.clone(), "403": audit_denied.clone(), "422": bad_filter.clone()}}}));
    m.insert("/audit.csv".into(), json!({"get": {
        "operationId": "exportAudit", "summary": "The same events as CSV (before and after as JSON text)",
        "parameters": filters,
        "responses": {"200": {"description": "CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}}, "401": unauth.clone(), "403": audit_denied, "422": bad_filter}}}));
    m.insert("/invites/{id}".into(), json!({"delete": {
        "operationId": "revokeInvite", "summary": "Revoke a pending invitation", "parameters": [id()],
        "responses": {"204": {"description": "Revoked."}, "401": unauth, "403": denied,
            "404": err("No such invitation (code `invite_not_found`).")}}}));
    m
}

pub(crate) fn schemas() -> Map<String, Value> {
    let families = json!({"type": "array", "items": {"type": "string", "format": "uuid"},
        "description": "A viewer's family limit: the dashboard and analysis show only these families' costs. Absent: no limit."});
    let mut m = Map::new();
    m.insert("AuditEvent".into(), json!({"type": "object", "required": ["id", "at", "actor", "kind", "action", "target"], "properties": {
        "id": {"type": "string", "format": "uuid"}, "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "string", "description": "The e-mail address of who made the change."},
        "address": {"type": ["string", "null"], "description": "The client's IP address."},
        "kind": {"type": "string"}, "action": {"type": "string", "enum": ["create", "update", "delete"]},
        "target": {"type": "string"}, "before": {}, "after": {}}}));
    m.insert("AuditList".into(), json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}}}}));
    m.insert(
        "User".into(),
        json!({"type": "object", "required": ["id", "email", "role", "created_at"], "properties": {
        "id": {"type": "string", "format": "uuid"}, "email": {"type": "string"},
        "role": {"$ref": "#/components/schemas/Role"}, "families": families,
        "created_at": {"type": "string", "format": "date-time"}}}),
    );
    m.insert("UserList".into(), json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}}}));
    m.insert("RoleInput".into(), json!({"type": "object", "required": ["role"], "additionalProperties": false, "properties": {
        "role": {"$ref": "#/components/schemas/Role"}, "families": families}}));
    m.insert("InviteInput".into(), json!({"type": "object", "required": ["email", "role"], "additionalProperties": false, "properties": {
        "email": {"type": "string"}, "role": {"$ref": "#/components/schemas/Role"}, "families": families}}));
    m.insert("Invite".into(), json!({"type": "object", "required": ["id", "email", "role", "created_at", "expires_at"], "properties": {
        "id": {"type": "string", "format": "uuid"}, "email": {"type": "string"},
        "role": {"$ref": "#/components/schemas/Role"}, "families": families,
        "created_at": {"type": "string", "format": "date-time"}, "expires_at": {"type": "string", "format": "date-time"}}}));
    m.insert("InviteList".into(), json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Invite"}}}}));
    m.insert("IssuedInvite".into(), json!({"allOf": [{"$ref": "#/components/schemas/Invite"},
        {"type": "object", "required": ["link"], "properties": {"link": {"type": "string", "description": "Open it to join (valid 7 days, once). Shown only in this answer; pass it on yourself."}}}]}));
    m
}
