//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`. A test calls every operation it
//! lists, so a documented path that does not exist fails the build.

use serde_json::{Value, json};

/// A name as `AccountName` and `TokenName` accept it: something besides spaces, no control
/// characters (the length is checked after trimming, so `maxLength` bounds the raw text).
pub(crate) const NAME_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn json_body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}})
}

/// The document.
pub fn document() -> Value {
    let mut doc = base_document();
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(crate::openapi_rating::paths());
        paths.extend(crate::openapi_users::paths());
        paths.extend(crate::openapi_invoicing::paths());
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.extend(crate::openapi_rating::schemas());
        schemas.extend(crate::openapi_users::schemas());
        schemas.extend(crate::openapi_invoicing::schemas());
    }
    paginate(&mut doc);
    complete_errors(&mut doc);
    doc
}

/// The list operations, each a page at a time (`api/page.rs`), with their order.
const PAGINATED: &[(&str, &str)] = &[
    ("/tokens", "newest first"),
    ("/accounts", "by name, ignoring case"),
    ("/connectable-accounts", "by name, ignoring case"),
    ("/administration", "by account name, ignoring case"),
    ("/connections", "oldest first"),
    ("/connections/{id}/jobs", "newest first"),
    ("/periods", "newest period first"),
    ("/views", "by name, ignoring case"),
    ("/asset-groups", "by name, ignoring case"),
    ("/audit", "newest first"),
    ("/users", "by e-mail address"),
    ("/invites", "newest first"),
    ("/invoice-templates", "by name, ignoring case"),
    ("/customers", "by key"),
    ("/invoice-runs", "newest first"),
    ("/invoices", "newest issue date first"),
    ("/period-locks", "newest period first"),
    ("/invoice-schedules", "by name, ignoring case"),
    ("/pricing/history", "newest version first"),
];

/// Add `limit` and `cursor` to every list operation and `next_cursor` to its answer.
fn paginate(doc: &mut Value) {
    let limit = json!({"name": "limit", "in": "query", "required": false,
        "description": "Items per page (default 100).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}});
    let cursor = json!({"name": "cursor", "in": "query", "required": false,
        "description": "The `next_cursor` of the previous page, as it was given.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"}});
    let mut lists = Vec::new();
    for (path, order) in PAGINATED {
        let op = &mut doc["paths"][*path]["get"];
        if !op.is_object() {
            continue;
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let mut params: Vec<Value> = params
            .into_iter()
            .filter(|p| p["name"] != "limit" && p["name"] != "cursor")
            .collect();
        params.push(limit.clone());
        params.push(cursor.clone());
        op["parameters"] = Value::Array(params);
        let summary = op["summary"].as_str().unwrap_or_default().to_string();
        op["description"] = json!(format!(
            "{summary}. A page at a time, {order}: pass `next_cursor` as `cursor` for the next page; `next_cursor` is null on the last page."
        ));
        if let Some(r) =
            op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].as_str()
        {
            lists.push(r.trim_start_matches("#/components/schemas/").to_string());
        }
    }
    for name in lists {
        let schema = &mut doc["components"]["schemas"][name.as_str()];
        if schema["properties"].is_object() {
            schema["properties"]["next_cursor"] = json!({"type": ["string", "null"],
                "description": "The cursor of the next page; null on the last page."});
            if let Some(req) = schema["required"].as_array_mut()
                && !req.iter().any(|r| r == "next_cursor")
            {
                req.push(json!("next_cursor"));
            }
        }
    }
}

/// Every operation documents the errors every route can give: a refused parameter (400), no or
/// a bad token (401), a role too low (403), and, with a body, 400, 413 and 415; `default` covers
/// the rest. Every error is the `Error` schema.
fn complete_errors(doc: &mut Value) {
    let security_default = doc["security"].clone();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                continue;
            }
            let secured = op.get("security").unwrap_or(&security_default) != &json!([]);
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op["responses"].as_object_mut() else {
                continue;
            };
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| error_response(description));
            };
            add(
                "400",
                "A parameter or the body is not acceptable: codes `invalid_parameter` (a path or query parameter), `malformed_json`, `unknown_field`, `missing_field`, `invalid_field`.",
            );
            if secured {
                add(
                    "401",
                    "No valid API token (code `unauthenticated` or `invalid_token`).",
                );
                add(
                    "403",
                    "The token's role may not do this (code `forbidden`).",
                );
            }
            if has_body {
                add(
                    "413",
                    "The body is larger than the limit (code `payload_too_large`).",
                );
                add(
                    "415",
                    "The body is not sent with the media type this operation reads (code `unsupported_media_type`).",
                );
            }
            add(
                "default",
                "Any other error, with its stable code (for example `not_found`, `method_not_allowed`, `too_many_attempts`, `service_unavailable`, `internal_error`).",
            );
        }
    }
}

fn base_document() -> Value {
    let unauthenticated =
        error_response("No valid API token (code `unauthenticated` or `invalid_token`).");
    let bad_request = error_response(
        "The body is not acceptable JSON: codes `malformed_json`, `unknown_field`, `missing_field`, `invalid_field`.",
    );
    let unsupported =
        error_response("The body is not sent as JSON (code `unsupported_media_type`).");
    let too_large = error_response("The body is larger than 64 KiB (code `payload_too_large`).");
    let not_found =
        error_response("No such account in your organization (code `account_not_found`).");
    let invalid_name = error_response(
        "The name is not valid: codes `account_name_empty`, `account_name_too_long`, `account_name_invalid`.",
    );
    let taken = error_response(
        "Another account in the organization has this name, ignoring case (code `account_name_taken`).",
    );
    let conn_not_found =
        error_response("No such connection in your organization (code `connection_not_found`).");
    let details_conflict = error_response(
        "`billing_account_already_connected`: another connection of the organization holds this billing account (the message names its account and connection). `connection_has_data`: the change of tenant, agreement type or billing account would mix another billing account's months with the stored ones; send `replace_data: true` to remove them and backfill.",
    );
    let upstream = error_response(
        "Azure refused the credentials (422; codes `azure_tenant_not_found`, `azure_app_not_found`, `azure_secret_invalid`, `azure_secret_expired`, `azure_app_disabled`, ...) or could not answer (503; `azure_throttled`, `azure_unavailable`, `azure_unreachable`). The message says what to do.",
    );
    let invalid_details = error_response(
        "A value is not valid (codes such as `tenant_id_invalid`, `client_id_invalid`, `billing_account_id_agreement_mismatch`, `client_secret_is_secret_id`); several at once answer `invalid_fields` with an `errors` list.",
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Billing Engine API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Billing Engine's REST API. Authenticate with 'Authorization: Bearer <API token>'; create a token in the console under API tokens, with `billing-engine login`, or with POST /api/v1/auth/tokens. Every error is JSON with a stable `code`, a `message` a person can act on, and the `field` it concerns when there is one. Everything is scoped to the token's organization: another organization's objects answer 404. Each operation needs a role (owner > billing_admin > analyst > viewer; see the `Role` schema); a role below it answers 403 `forbidden`."
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/auth/tokens": {
                "post": {
                    "operationId": "createTokenWithPassword",
                    "summary": "Exchange an e-mail address and password for a new API token",
                    "security": [],
                    "requestBody": json_body("PasswordExchange"),
                    "responses": {
                        "201": ok("The new token; `token_value` is shown only in this response.", "IssuedToken"),
                        "400": bad_request, "401": error_response("Wrong e-mail or password (code `invalid_credentials`)."),
                        "429": error_response("Too many failed sign-ins for this address in 15 minutes (code `too_many_attempts`)."),
                        "413": too_large, "415": unsupported,
                    }
                }
            },
            "/me": {
                "get": {
                    "operationId": "me", "summary": "Who the token belongs to",
                    "responses": {"200": ok("The caller.", "Me"), "401": unauthenticated}
                }
            },
            "/tokens": {
                "get": {
                    "operationId": "listTokens", "summary": "Your API tokens (never their values)",
                    "responses": {"200": ok("The tokens.", "TokenList"), "401": unauthenticated}
                },
                "post": {
                    "operationId": "createToken", "summary": "Create an API token",
                    "requestBody": json_body("TokenInput"),
                    "responses": {
                        "201": ok("The new token; `token_value` is shown only in this response.", "IssuedToken"),
                        "400": bad_request, "401": unauthenticated,
                        "422": error_response("The name is not valid: codes `token_name_empty`, `token_name_invalid`."),
                    }
                }
            },
            "/tokens/{id}": {
                "delete": {
                    "operationId": "revokeToken", "summary": "Revoke an API token",
                    "parameters": [id_param()],
                    "responses": {"204": {"description": "Revoked."}, "401": unauthenticated,
                                  "404": error_response("No such token of yours (code `token_not_found`).")}
                }
            },
            "/accounts": {
                "get": {
                    "operationId": "listAccounts", "summary": "The organization's accounts, by name",
                    "responses": {"200": ok("The accounts.", "AccountList"), "401": unauthenticated}
                },
                "post": {
                    "operationId": "createAccount", "summary": "Create an account",
                    "requestBody": json_body("AccountInput"),
                    "responses": {
                        "201": {"description": "Created. `Location` names the new account.",
                                "headers": {"Location": {"schema": {"type": "string"}}},
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Account"}}}},
                        "400": bad_request, "401": unauthenticated, "409": taken.clone(), "413": too_large,
                        "415": unsupported, "422": invalid_name.clone(),
                    }
                }
            },
            "/accounts/{id}/registrations": {
                "post": {
                    "operationId": "registerProduct", "summary": "Record an account's Cost Intelligence registration (Billing Engine registrations come from connecting)",
                    "parameters": [id_param()], "requestBody": json_body("RegistrationInput"),
                    "responses": {"204": {"description": "Recorded."}, "400": bad_request.clone(), "401": unauthenticated.clone(), "404": not_found.clone(),
                                  "409": error_response("The account is already connected (code `account_already_connected`)."),
                                  "422": error_response("Unknown product (code `product_invalid`).")}
                }
            },
            "/connectable-accounts": {
                "get": {
                    "operationId": "listConnectableAccounts", "summary": "Accounts not yet connected to Azure for any product",
                    "responses": {"200": ok("The accounts.", "AccountList"), "401": unauthenticated.clone()}
                }
            },
            "/administration": {
                "get": {
                    "operationId": "administration", "summary": "Every account with the products it is registered for and its connection",
                    "parameters": [{"name": "product", "in": "query", "required": false, "schema": {"type": "string", "enum": ["billing_engine", "cost_intelligence"]}}],
                    "responses": {"200": ok("The accounts.", "AdministrationList"), "401": unauthenticated.clone(), "422": error_response("Unknown product (code `product_invalid`).")}
                }
            },
            "/connections": {
                "get": {
                    "operationId": "listConnections", "summary": "The organization's cloud connections",
                    "responses": {"200": ok("The connections.", "ConnectionList"), "401": unauthenticated.clone()}
                },
                "post": {
                    "operationId": "startConnection", "summary": "Wizard steps 1-3: start connecting an account to Azure for Billing Engine (a draft)",
                    "requestBody": json_body("StartConnection"),
                    "responses": {"201": ok("The draft connection.", "Connection"), "400": bad_request.clone(), "401": unauthenticated.clone(),
                                  "404": not_found.clone(),
                                  "409": error_response("The account is already connected to Azure for some product (code `account_already_connected`)."),
                                  "422": error_response("Unsupported provider or product (codes `provider_unsupported`, `product_not_connectable`).")}
                }
            },
            "/connections/{id}": {
                "get": {
                    "operationId": "getConnection", "summary": "One connection (never its secret)", "parameters": [id_param()],
                    "responses": {"200": ok("The connection.", "Connection"), "401": unauthenticated.clone(), "404": conn_not_found.clone()}
                },
                "patch": {
                    "operationId": "setConnectionDetails", "summary": "Wizard step 5: tenant ID, client ID, agreement type, billing account ID (any subset)",
                    "parameters": [id_param()], "requestBody": json_body("ConnectionDetails"),
                    "responses": {"200": ok("The connection.", "Connection"), "400": bad_request.clone(), "401": unauthenticated.clone(),
                                  "404": conn_not_found.clone(), "409": details_conflict.clone(), "422": invalid_details.clone()}
                },
                "delete": {
                    "operationId": "deleteConnection", "summary": "Delete a connection and its data; `confirm` must repeat the account's name",
                    "parameters": [id_param(), {"name": "confirm", "in": "query", "required": true, "schema": {"type": "string"}}],
                    "responses": {"204": {"description": "Deleted."}, "401": unauthenticated.clone(), "404": conn_not_found.clone(),
                                  "422": error_response("The confirmation does not match the account name (code `confirmation_mismatch`).")}
                }
            },
            "/connections/{id}/secret": {
                "put": {
                    "operationId": "setConnectionSecret",
                    "summary": "Wizard step 6, or rotation: the client secret (stored encrypted, never returned) and its optional expiry date. On a validated connection the new secret must sign in before it replaces the old one.",
                    "parameters": [id_param()], "requestBody": json_body("SecretInput"),
                    "responses": {"200": ok("The connection (without the secret).", "Connection"), "400": bad_request.clone(), "401": unauthenticated.clone(),
                                  "404": conn_not_found.clone(), "422": invalid_details.clone(), "503": upstream.clone()}
                }
            },
            "/connections/{id}/role-grant": {
                "get": {
                    "operationId": "getRoleGrant",
                    "summary": "Wizard step 7: the EnrollmentReader call (EA) or the portal steps (MCA), with the service principal's object ID read from a token",
                    "parameters": [id_param()],
                    "responses": {"200": ok("How to grant read access.", "RoleGrant"), "401": unauthenticated.clone(), "404": conn_not_found.clone(),
                                  "422": upstream.clone(), "503": upstream.clone()}
                }
            },
            "/connections/{id}/validate": {
                "post": {
                    "operationId": "validateConnection", "summary": "Wizard step 8: run the checks in order; all passing connects and queues the first sync",
                    "parameters": [id_param()],
                    "responses": {"200": ok("Each check with its outcome, cause and fix.", "Validation"), "401": unauthenticated.clone(),
                                  "404": conn_not_found.clone(), "409": details_conflict.clone(), "422": error_response("A wizard step is missing (code `connection_incomplete`).")}
                }
            },
            "/connections/{id}/pause": {
                "post": {
                    "operationId": "pauseConnection", "summary": "Stop syncing a connected connection", "parameters": [id_param()],
                    "responses": {"200": ok("The connection.", "Connection"), "401": unauthenticated.clone(), "404": conn_not_found.clone(),
                                  "409": error_response("Not connected (code `connection_not_connected`).")}
                }
            },
            "/connections/{id}/resume": {
                "post": {
                    "operationId": "resumeConnection", "summary": "Validate a paused connection again and resume syncing if it passes", "parameters": [id_param()],
                    "responses": {"200": ok("The checks.", "Validation"), "401": unauthenticated.clone(), "404": conn_not_found.clone(),
                                  "409": error_response("Not paused (code `connection_not_paused`).")}
                }
            },
            "/connections/{id}/jobs": {
                "get": {
                    "operationId": "listConnectionJobs", "summary": "The connection's sync jobs, newest first (the last 50)", "parameters": [id_param()],
                    "responses": {"200": ok("The jobs.", "JobList"), "401": unauthenticated.clone(), "404": conn_not_found.clone()}
                }
            },
            "/connections/{id}/sync": {
                "get": {
                    "operationId": "getSync", "summary": "Data freshness, stored periods with their reconciliation, the waiting or running sync, and the sync history",
                    "parameters": [id_param()],
                    "responses": {"200": ok("The sync status.", "SyncStatus"), "401": unauthenticated.clone(), "404": conn_not_found.clone()}
                },
                "post": {
                    "operationId": "syncNow", "summary": "Sync now (queues the connection's sync to run at once)", "parameters": [id_param()],
                    "responses": {"202": ok("The queued sync.", "Job"), "401": unauthenticated.clone(), "404": conn_not_found.clone(),
                                  "409": error_response("Not connected (code `connection_not_connected`).")}
                }
            },
            "/accounts/{id}": {
                "get": {
                    "operationId": "getAccount", "summary": "One account",
                    "parameters": [id_param()],
                    "responses": {"200": ok("The account.", "Account"), "401": unauthenticated, "404": not_found}
                },
                "patch": {
                    "operationId": "renameAccount", "summary": "Rename an account",
                    "parameters": [id_param()],
                    "requestBody": json_body("AccountInput"),
                    "responses": {
                        "200": ok("The renamed account.", "Account"), "400": bad_request, "401": unauthenticated,
                        "404": not_found, "409": taken, "415": unsupported, "422": invalid_name,
                    }
                },
                "delete": {
                    "operationId": "deleteAccount", "summary": "Delete an account",
                    "parameters": [id_param()],
                    "responses": {"204": {"description": "Deleted."}, "401": unauthenticated, "404": not_found}
                }
            }
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API token (be_...)."}},
            "schemas": {
                "Error": {
                    "type": "object", "required": ["code", "message"], "additionalProperties": false,
                    "properties": {
                        "code": {"type": "string", "description": "Stable machine code."},
                        "message": {"type": "string", "description": "What went wrong and what to do, for a person."},
                        "field": {"type": "string", "description": "The input field concerned, when there is one."},
                        "errors": {"type": "array", "description": "With code `invalid_fields`: every field that needs attention, each with its own code and message.",
                            "items": {"type": "object", "required": ["field", "code", "message"], "additionalProperties": false,
                                "properties": {"field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}}
                    }
                },
                "Account": {
                    "type": "object", "required": ["id", "name", "created_at", "updated_at"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "name": {"type": "string", "minLength": 1, "maxLength": 100},
                        "created_at": {"type": "string", "format": "date-time"},
                        "updated_at": {"type": "string", "format": "date-time"}
                    }
                },
                "AccountList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Account"}}}},
                "AccountInput": {
                    "type": "object", "required": ["name"], "additionalProperties": false,
                    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": NAME_PATTERN,
                        "description": "Trimmed; 1 to 100 characters, not only spaces, without control characters; unique in the organization ignoring case."}}
                },
                "Token": {
                    "type": "object", "required": ["id", "name", "prefix", "created_at", "last_used_at"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "name": {"type": "string"},
                        "prefix": {"type": "string", "description": "The token's first characters, to tell tokens apart."},
                        "role": {"$ref": "#/components/schemas/Role"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "last_used_at": {"type": ["string", "null"], "format": "date-time"}
                    }
                },
                "TokenList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}}},
                "IssuedToken": {
                    "allOf": [{"$ref": "#/components/schemas/Token"},
                              {"type": "object", "required": ["token_value"], "properties": {"token_value": {"type": "string", "description": "The secret. Returned only once."}}}]
                },
                "TokenInput": {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {"name": {"type": "string"}, "role": {"$ref": "#/components/schemas/Role"}}},
                "Role": {"type": "string", "enum": ["owner", "billing_admin", "analyst", "viewer"], "description": "owner: everything, users and roles; billing_admin: connections, families, plans, rules, allocations, invoices; analyst: reads everything, saved views, exports; viewer: dashboard and analysis, optionally limited to some families. A token's role defaults to its creator's and may be narrower (`role_too_wide` otherwise)."},
                "PasswordExchange": {
                    "type": "object", "required": ["email", "password"], "additionalProperties": false,
                    "properties": {"email": {"type": "string"}, "password": {"type": "string"}, "name": {"type": "string", "description": "A label for the token; default \"CLI\"."}}
                },
                "RegistrationInput": {"type": "object", "required": ["product"], "additionalProperties": false,
                    "properties": {"product": {"type": "string", "enum": ["cost_intelligence"]}}},
                "StartConnection": {"type": "object", "required": ["account_id"], "additionalProperties": false,
                    "properties": {"account_id": {"type": "string", "format": "uuid"},
                                   "provider": {"type": "string", "enum": ["azure"], "default": "azure"},
                                   "product": {"type": "string", "enum": ["billing_engine"], "default": "billing_engine"}}},
                "ConnectionDetails": {"type": "object", "additionalProperties": false,
                    "description": "Any subset; a field absent or null is left as it is.",
                    "properties": {"tenant_id": {"type": ["string", "null"], "description": "Directory (tenant) ID: a GUID or a verified domain."},
                                   "client_id": {"type": ["string", "null"], "description": "Application (client) ID (a GUID)."},
                                   "agreement_type": {"type": ["string", "null"], "pattern": "^\\s*([Ee][Aa]|[Mm][Cc][Aa])\\s*$",
                                       "description": "EA or MCA, in any case (`ea` is EA); answers always say EA or MCA."},
                                   "billing_account_id": {"type": ["string", "null"], "description": "EA: the enrollment number. MCA: guid:guid_YYYY-MM-DD."},
                                   "replace_data": {"type": "boolean", "default": false, "description": "Confirms a change of tenant, agreement type or billing account on a connection with stored data: its periods are removed now and backfilled from the new billing account after validation. Without it such a change is refused (409 `connection_has_data`)."}}},
                "SecretInput": {"type": "object", "required": ["client_secret"], "additionalProperties": false,
                    "properties": {"client_secret": {"type": "string", "writeOnly": true, "description": "The secret's Value (not its ID)."},
                                   "expires_on": {"type": "string", "format": "date"}}},
                "Check": {"type": "object", "required": ["name", "title", "outcome", "message"],
                    "properties": {"name": {"type": "string", "enum": ["token", "billing_account", "agreement_type", "cost_data"]},
                                   "title": {"type": "string"}, "outcome": {"type": "string", "enum": ["passed", "failed", "skipped"]},
                                   "message": {"type": "string"}, "remedy": {"type": "string"}, "code": {"type": "string"},
                                   "azure_request_id": {"type": "string"}}},
                "Validation": {"type": "object", "required": ["state", "checks"],
                    "properties": {"state": {"$ref": "#/components/schemas/ConnectionState"},
                                   "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}},
                                   "next": {"type": "string", "description": "When data will appear (connected only)."}}},
                "ConnectionState": {"type": "string", "enum": ["draft", "validating", "connected", "failed", "paused"]},
                "Connection": {"type": "object",
                    "required": ["id", "account_id", "provider", "product", "state", "step", "secret", "checks", "created_at", "updated_at"],
                    "properties": {"id": {"type": "string", "format": "uuid"}, "account_id": {"type": "string", "format": "uuid"},
                                   "provider": {"type": "string", "enum": ["azure"]}, "product": {"type": "string", "enum": ["billing_engine"]},
                                   "state": {"$ref": "#/components/schemas/ConnectionState"},
                                   "step": {"type": "string", "enum": ["login", "ids", "secret", "grant", "connect"]},
                                   "tenant_id": {"type": ["string", "null"]}, "tenant_guid": {"type": ["string", "null"]},
                                   "client_id": {"type": ["string", "null"]}, "agreement_type": {"type": ["string", "null"], "enum": ["EA", "MCA", null]},
                                   "billing_account_id": {"type": ["string", "null"]}, "billing_account_name": {"type": ["string", "null"]},
                                   "principal_object_id": {"type": ["string", "null"]},
                                   "secret": {"type": "object", "required": ["set"], "properties": {
                                       "set": {"type": "boolean"}, "set_at": {"type": ["string", "null"], "format": "date-time"},
                                       "expires_on": {"type": ["string", "null"], "format": "date"},
                                       "warning": {"type": ["string", "null"], "description": "Set when the secret expires within 30 days."}}},
                                   "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}},
                                   "last_validated_at": {"type": ["string", "null"], "format": "date-time"},
                                   "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}},
                "ConnectionList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Connection"}}}},
                "RoleGrant": {"type": "object", "required": ["agreement_type", "role_name", "role_definition_id", "principal_object_id", "principal_tenant_id", "billing_account_id", "steps"],
                    "properties": {"agreement_type": {"type": "string", "enum": ["EA", "MCA"]}, "role_name": {"type": "string"},
                                   "role_definition_id": {"type": "string"}, "principal_object_id": {"type": "string"},
                                   "principal_tenant_id": {"type": "string"}, "billing_account_id": {"type": "string"},
                                   "ea_call": {"type": "object", "properties": {"method": {"type": "string"}, "url": {"type": "string"},
                                       "headers": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
                                       "body": {"type": "object"}, "curl": {"type": "string"}, "az_rest": {"type": "string"}}},
                                   "steps": {"type": "array", "items": {"type": "string"}}}},
                "Job": {"type": "object", "properties": {"id": {"type": "string"}, "kind": {"type": "string", "enum": ["sync", "rate"]},
                    "state": {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]},
                    "progress_done": {"type": "integer"}, "progress_total": {"type": "integer"},
                    "run_after": {"type": "string", "format": "date-time"}, "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
                    "created_at": {"type": "string", "format": "date-time"}}},
                "SyncStatus": {"type": "object", "required": ["periods", "failing", "history", "closing_rule"],
                    "properties": {"data_as_of": {"type": ["string", "null"], "format": "date-time"},
                                   "closing_rule": {"type": "string", "description": "When a month is closed (no longer pulled again): MCA when every row carries an invoice ID, EA when its last pull came the configured number of days ([sync] ea_close_days) after month end."},
                                   "failing": {"type": "array", "description": "Periods whose latest pull failed (for example reconciliation_mismatch, with both differences in the message): they keep their previous data (previous_kept) and are pulled again at the next sync.",
                                       "items": {"type": "object", "required": ["period", "at", "code", "message", "remedy", "previous_kept"], "properties": {
                                       "period": {"type": "string"}, "at": {"type": "string", "format": "date-time"}, "code": {"type": "string"},
                                       "message": {"type": "string"}, "remedy": {"type": "string"}, "previous_kept": {"type": "boolean"}}}},
                                   "job": {"oneOf": [{"$ref": "#/components/schemas/Job"}, {"type": "null"}]},
                                   "periods": {"type": "array", "items": {"type": "object", "properties": {
                                       "period": {"type": "string", "description": "YYYY-MM"}, "rows": {"type": "integer"},
                                       "actual_total": {"type": "string", "description": "Exact decimal: the sum of Azure's ActualCost cost column."},
                                       "billed_total": {"type": "string", "description": "Exact decimal: SUM(BilledCost) of the FOCUS data; equals actual_total when reconciled."},
                                       "amortized_total": {"type": "string", "description": "Exact decimal: the sum of Azure's AmortizedCost cost column."},
                                       "effective_total": {"type": "string", "description": "Exact decimal: SUM(EffectiveCost); equals amortized_total when reconciled."},
                                       "currency": {"type": ["string", "null"], "description": "ISO 4217 billing currency of the period's rows (null when unknown or mixed)."},
                                       "reconciled": {"type": "boolean"}, "closed": {"type": "boolean", "description": "Closed by the provider (see closing_rule): not pulled again."},
                                       "pulled_at": {"type": "string", "format": "date-time"}}}},
                                   "history": {"type": "array", "items": {"type": "object", "properties": {
                                       "job_id": {"type": "string"}, "period": {"type": "string"}, "outcome": {"type": "string", "enum": ["running", "succeeded", "failed"]},
                                       "started_at": {"type": "string", "format": "date-time"}, "duration_ms": {"type": ["integer", "null"]},
                                       "rows": {"type": "integer"}, "bytes": {"type": "integer"},
                                       "actual_total": {"type": ["string", "null"]}, "billed_total": {"type": ["string", "null"]},
                                       "amortized_total": {"type": ["string", "null"]}, "effective_total": {"type": ["string", "null"]},
                                       "reconciled": {"type": ["boolean", "null"]}, "error_code": {"type": ["string", "null"]},
                                       "error": {"type": ["string", "null"]}, "remedy": {"type": ["string", "null"]},
                                       "warnings": {"type": "object", "required": ["count", "examples"], "description": "Values the conversion could not use as written but did not need (an optional column that only feeds an x_ extension, stored as null; an unknown charge type, mapped to Adjustment). The period was stored.",
                                           "properties": {"count": {"type": "integer"}, "examples": {"type": "array", "items": {"type": "string"}, "description": "The first few, in file order: file:line:column (header name): reason: value."}}}}}}}},
                "JobList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}},
                "AdministrationList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {
                    "type": "object", "required": ["account", "products"],
                    "properties": {"account": {"$ref": "#/components/schemas/Account"},
                                   "products": {"type": "array", "items": {"type": "string", "enum": ["billing_engine", "cost_intelligence"]}},
                                   "connection": {"oneOf": [{"$ref": "#/components/schemas/Connection"}, {"type": "null"}]}}}}}},
                "Me": {
                    "type": "object", "required": ["user_id", "email", "role", "organization_id", "organization_name"],
                    "properties": {
                        "user_id": {"type": "string", "format": "uuid"}, "email": {"type": "string"},
                        "role": {"type": "string", "enum": ["owner", "billing_admin", "analyst", "viewer"], "description": "The role in force (an API token can carry a narrower role than its creator)."},
                        "organization_id": {"type": "string", "format": "uuid"}, "organization_name": {"type": "string"}
                    }
                }
            }
        }
    })
}
