//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`. A test calls every operation it
//! lists, so a documented path that does not exist fails the build.

use serde_json::{Value, json};

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
    let unauthenticated = error_response("No valid API token (code `unauthenticated` or `invalid_token`).");
    let bad_request = error_response(
        "The body is not acceptable JSON: codes `malformed_json`, `unknown_field`, `missing_field`, `invalid_field`.",
    );
    let unsupported = error_response("The body is not sent as JSON (code `unsupported_media_type`).");
    let too_large = error_response("The body is larger than 64 KiB (code `payload_too_large`).");
    let not_found = error_response("No such account in your organization (code `account_not_found`).");
    let invalid_name = error_response(
        "The name is not valid: codes `account_name_empty`, `account_name_too_long`, `account_name_invalid`.",
    );
    let taken = error_response("Another account in the organization has this name, ignoring case (code `account_name_taken`).");
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Billing Engine API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Billing Engine's REST API. Authenticate with 'Authorization: Bearer <API token>'; create a token in the console under API tokens, with `billing-engine login`, or with POST /api/v1/auth/tokens. Every error is JSON with a stable `code`, a `message` a person can act on, and the `field` it concerns when there is one. Everything is scoped to the token's organization: another organization's objects answer 404."
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
                    "type": "object", "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "description": "Stable machine code."},
                        "message": {"type": "string", "description": "What went wrong and what to do, for a person."},
                        "field": {"type": "string", "description": "The input field concerned, when there is one."}
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
                    "properties": {"name": {"type": "string", "description": "Trimmed; 1 to 100 characters; unique in the organization ignoring case."}}
                },
                "Token": {
                    "type": "object", "required": ["id", "name", "prefix", "created_at", "last_used_at"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "name": {"type": "string"},
                        "prefix": {"type": "string", "description": "The token's first characters, to tell tokens apart."},
                        "created_at": {"type": "string", "format": "date-time"},
                        "last_used_at": {"type": ["string", "null"], "format": "date-time"}
                    }
                },
                "TokenList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}}},
                "IssuedToken": {
                    "allOf": [{"$ref": "#/components/schemas/Token"},
                              {"type": "object", "required": ["token_value"], "properties": {"token_value": {"type": "string", "description": "The secret. Returned only once."}}}]
                },
                "TokenInput": {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {"name": {"type": "string"}}},
                "PasswordExchange": {
                    "type": "object", "required": ["email", "password"], "additionalProperties": false,
                    "properties": {"email": {"type": "string"}, "password": {"type": "string"}, "name": {"type": "string", "description": "A label for the token; default \"CLI\"."}}
                },
                "Me": {
                    "type": "object", "required": ["user_id", "email", "role", "organization_id", "organization_name"],
                    "properties": {
                        "user_id": {"type": "string", "format": "uuid"}, "email": {"type": "string"},
                        "role": {"type": "string", "enum": ["admin", "member"]},
                        "organization_id": {"type": "string", "format": "uuid"}, "organization_name": {"type": "string"}
                    }
                }
            }
        }
    })
}
