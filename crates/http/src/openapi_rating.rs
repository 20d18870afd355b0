//! The OpenAPI paths and schemas of pricing, sources and rating (merged into [`crate::openapi`]).

use serde_json::{Map, Value, json};

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description})
}

fn query(name: &str, ty: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": {"type": ty}, "description": description})
}

/// A write answered 204, with the errors every pricing change can give.
fn change(id: &str, summary: &str, params: Vec<Value>, request: Option<&str>) -> Value {
    let mut op = json!({
        "operationId": id, "summary": summary, "parameters": params,
        "responses": {
            "204": {"description": "Changed. A new configuration version is saved and the periods it affects are queued for rating."},
            "400": error("The body is not acceptable JSON (`malformed_json`, `unknown_field`, `missing_field`, `invalid_field`)."),
            "401": error("No valid API token."),
            "404": error("No such family, plan, rule, strategy set or allocation (`pricing_item_not_found`)."),
            "409": error("The change conflicts (`family_has_plan`, `pricing_busy`)."),
            "415": error("The body is not JSON (`unsupported_media_type`)."),
            "422": error("A value is not valid; each problem names its field (`invalid_fields` lists several)."),
        }
    });
    if let Some(schema) = request {
        op["requestBody"] = body(schema);
    }
    op
}

fn read(id: &str, summary: &str, params: Vec<Value>, response: &str, not_found: &str) -> Value {
    json!({
        "operationId": id, "summary": summary, "parameters": params,
        "responses": {
            "200": ok(summary, response),
            "400": error("A query parameter is not valid."),
            "401": error("No valid API token."),
            "404": error(not_found),
            "422": error("A value is not valid (for example `period_invalid`, `totals_by_invalid`, `line_id_invalid`)."),
        }
    })
}

pub(crate) fn paths() -> Map<String, Value> {
    let id = path_param("id", "The object's ID.");
    let period = path_param("period", "A billing period, YYYY-MM.");
    let not_rated = "The period has no rating (`period_not_rated`, `period_without_data`).";
    let mut m = Map::new();
    m.insert("/pricing".into(), json!({"get": read("getPricing", "The pricing configuration, with IDs", vec![], "Pricing", "Never.")}));
    m.insert(
        "/pricing/history".into(),
        json!({"get": read("pricingHistory", "The configuration's versions, newest first", vec![query("limit", "integer", "At most this many (1 to 500).")], "PricingHistory", "Never.")}),
    );
    m.insert(
        "/pricing/export".into(),
        json!({"get": {
            "operationId": "exportPricing", "summary": "The configuration as a rules-as-code file",
            "parameters": [query("format", "string", "json (default) or yaml.")],
            "responses": {"200": {"description": "The file.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ConfigFile"}}, "application/yaml": {}}},
                          "400": error("A query parameter is not valid."), "401": error("No valid API token."), "422": error("Unknown format (`format_invalid`).")}
        }}),
    );
    m.insert(
        "/pricing/import".into(),
        json!({"post": {
            "operationId": "importPricing",
            "summary": "Replace the configuration with a rules-as-code file (JSON or YAML); idempotent; dry_run=true only lists the differences",
            "parameters": [query("dry_run", "boolean", "Change nothing; list what would change."), query("format", "string", "json or yaml (default: the Content-Type).")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ConfigFile"}}, "application/yaml": {}}},
            "responses": {"200": ok("What changed (or would).", "PricingImport"), "400": error("The body is not UTF-8 or a parameter is not valid."),
                          "401": error("No valid API token."), "409": error("Changed by someone else at the same moment (`pricing_busy`)."),
                          "413": error("The file is larger than 8 MiB."), "422": error("The file is not valid: `config_file_invalid` (syntax, with line), or each problem with its path (`invalid_fields`).")}
        }}),
    );
    m.insert(
        "/families".into(),
        json!({"post": {"operationId": "createFamily", "summary": "Create a family", "requestBody": body("NameInput"),
            "responses": {"201": ok("The family.", "Created"), "400": error("Bad JSON."), "401": error("No valid API token."), "409": error("Concurrent change."),
                          "415": error("Not JSON."), "422": error("Invalid or taken name (`name_empty`, `family_name_taken`, ...).")}}}),
    );
    m.insert(
        "/families/{id}".into(),
        json!({"patch": change("renameFamily", "Rename a family", vec![id.clone()], Some("NameInput")),
               "delete": change("deleteFamily", "Delete a family (refused while a plan is assigned to it)", vec![id.clone()], None)}),
    );
    m.insert(
        "/families/{id}/members".into(),
        json!({"post": change("addFamilyMembers", "Put sub-accounts into a family from a period (default: the current one); they leave any other family then", vec![id.clone()], Some("MembersInput"))}),
    );
    m.insert(
        "/families/{id}/members/{sub}".into(),
        json!({"delete": change("removeFamilyMember", "Take a sub-account out of a family from a period on", vec![id.clone(), path_param("sub", "The sub-account ID."), query("from", "string", "First period without it (default: the current one).")], None)}),
    );
    m.insert(
        "/plans".into(),
        json!({"post": {"operationId": "createPlan", "summary": "Create a plan", "requestBody": body("NameInput"),
            "responses": {"201": ok("The plan.", "Created"), "400": error("Bad JSON."), "401": error("No valid API token."), "409": error("Concurrent change."),
                          "415": error("Not JSON."), "422": error("Invalid or taken name.")}}}),
    );
    m.insert(
        "/plans/{id}".into(),
        json!({"patch": change("renamePlan", "Rename a plan", vec![id.clone()], Some("NameInput")),
               "delete": change("deletePlan", "Delete a plan with its rules and assignments", vec![id.clone()], None)}),
    );
    m.insert("/plans/{id}/assignments".into(), json!({"post": change("assignPlan", "Assign a plan to a family or a sub-account from a period (a sub-account's own plan wins over its family's)", vec![id.clone()], Some("AssignTo"))}));
    m.insert("/plans/{id}/unassign".into(), json!({"post": change("unassignPlan", "End a plan's assignment from a period on", vec![id.clone()], Some("AssignTo"))}));
    m.insert(
        "/plans/{id}/rules".into(),
        json!({"post": {"operationId": "addRule", "summary": "Add a rule to a plan (the rules-as-code shape)", "parameters": [id.clone(), query("position", "integer", "Insert at this position (0-based); at the end without it.")],
            "requestBody": body("Rule"),
            "responses": {"201": ok("The rule.", "RuleView"), "400": error("Bad JSON."), "401": error("No valid API token."), "404": error("No such plan."),
                          "409": error("Concurrent change."), "415": error("Not JSON."), "422": error("Invalid rule; each problem names its field (a percent out of range, tiers out of order, an unknown dimension, an invalid regular expression, an amount finer than its currency).")}}}),
    );
    m.insert(
        "/rules/{id}".into(),
        json!({"put": {"operationId": "updateRule", "summary": "Replace a rule's definition", "parameters": [id.clone()], "requestBody": body("Rule"),
                       "responses": {"200": ok("The rule.", "RuleView"), "400": error("Bad JSON."), "401": error("No valid API token."), "404": error("No such rule."),
                                     "409": error("Concurrent change."), "415": error("Not JSON."), "422": error("Invalid rule.")}},
               "patch": change("patchRule", "Move a rule (`position`, 0-based) and/or enable or disable it", vec![id.clone()], Some("RuleState")),
               "delete": change("deleteRule", "Delete a rule", vec![id.clone()], None)}),
    );
    m.insert("/strategies".into(), json!({"put": change("setStrategies", "Set the strategies effective from a period", vec![], Some("Strategy"))}));
    m.insert("/strategies/{from}".into(), json!({"delete": change("deleteStrategies", "Remove the strategy set starting in a period", vec![path_param("from", "YYYY-MM")], None)}));
    m.insert(
        "/allocations/{key}".into(),
        json!({"put": {"operationId": "putAllocation", "summary": "Create or replace an allocation assignment (split shares must sum to exactly 100)", "parameters": [path_param("key", "The allocation key, such as CostCenter.")],
                       "requestBody": body("Allocation"),
                       "responses": {"200": ok("The allocation.", "Allocation"), "400": error("Bad JSON."), "401": error("No valid API token."), "409": error("Concurrent change."),
                                     "415": error("Not JSON."), "422": error("Invalid allocation (`allocation_split_sum` names the sum, `allocation_key_reserved`, ...).")}},
               "delete": change("deleteAllocation", "Delete an allocation assignment", vec![path_param("key", "The allocation key.")], None)}),
    );
    m.insert(
        "/allocations/{key}/preview".into(),
        json!({"post": {"operationId": "previewAllocation", "summary": "What an allocation assignment (unsaved) gives on a period: the cost each value receives and the cost left unallocated",
            "parameters": [path_param("key", "The allocation key."), query("period", "string", "YYYY-MM; default: the current month so far.")],
            "requestBody": body("Allocation"),
            "responses": {"200": ok("Per value and currency.", "AllocationPreview"), "400": error("Bad JSON."), "401": error("No valid API token."),
                          "404": error("No data in the period (`period_without_data`)."), "409": error("Rating is not available."), "415": error("Not JSON."),
                          "422": error("Invalid allocation (`allocation_split_sum` names the sum).")}}}),
    );
    m.insert("/sources".into(), json!({"get": read("listSources", "Data sources (synced connections, FOCUS imports) with their periods, and the sub-accounts seen in the data", vec![], "Sources", "Never.")}));
    m.insert("/sources/{id}".into(), json!({"delete": {"operationId": "deleteImportSource", "summary": "Delete an import source and its data; its periods are rated again", "parameters": [id.clone()],
        "responses": {"204": {"description": "Deleted."}, "401": error("No valid API token."), "404": error("No such import source (`source_not_found`).")}}}));
    m.insert(
        "/imports".into(),
        json!({"post": {
            "operationId": "importFocus",
            "summary": "Import a FOCUS 1.0-1.2 file (CSV, gzip CSV or Parquet; the body is the file, streamed). Each billing period in it replaces the source's period atomically, then is rated.",
            "parameters": [query("source", "string", "The source's name (created when new); default \"FOCUS import\"."), query("filename", "string", "The file's name, used in error messages.")],
            "requestBody": {"required": true, "content": {"application/octet-stream": {}, "text/csv": {}, "application/gzip": {}}},
            "responses": {"201": ok("The periods imported.", "ImportResult"), "400": error("The upload was interrupted."), "401": error("No valid API token."),
                          "409": error("Rating is not available (`rating_unavailable`)."), "413": error("Larger than 50 GiB."),
                          "422": error("Refused with file, line and column: `import_missing_column` (names the column), `import_bad_value`, `ingest_malformed_csv`, `import_empty_file`."),
                          "500": error("The server could not store the data.")}
        }}),
    );
    m.insert("/periods".into(), json!({"get": read("listRatedPeriods", "Every period with data, its current rating and whether one is pending", vec![], "PeriodRatingList", "Never.")}));
    m.insert("/periods/{period}".into(), json!({"get": read("getRatedPeriod", "A period's rating", vec![period.clone()], "PeriodRating", not_rated)}));
    m.insert(
        "/periods/{period}/rate".into(),
        json!({"post": {"operationId": "rateNow", "summary": "Rate a period now (a persistent job)", "parameters": [period.clone()],
            "responses": {"202": ok("Queued.", "PeriodRating"), "401": error("No valid API token."), "404": error(not_rated), "409": error("Rating is not available (`rating_unavailable`)."), "422": error("Not a period.")}}}),
    );
    m.insert(
        "/periods/{period}/totals".into(),
        json!({"get": read("periodTotals", "Totals of a rated period by family, sub-account or rule; show_rules adds one column per strategy and rule (exact decimals as strings; currencies never summed together)",
            vec![period.clone(), query("by", "string", "family (default), sub-account or rule."), query("show_rules", "boolean", "One column per stage.")], "Totals", not_rated)}),
    );
    m.insert(
        "/periods/{period}/lines".into(),
        json!({"get": read("ratedLines", "Rated lines of a period (new lines first), to explain one", vec![period.clone(), query("family", "string", "Only this family."), query("sub_account_id", "string", "Only this sub-account."), query("new_lines", "boolean", "Only the lines rules added."), query("limit", "integer", "At most this many (1 to 1000; default 100).")], "RatedLineList", not_rated)}),
    );
    m.insert(
        "/periods/{period}/what-if".into(),
        json!({"post": {"operationId": "whatIf", "summary": "Preview unsaved changes on a real period: differences per family, sub-account and rule; nothing is stored", "parameters": [period.clone()],
            "requestBody": body("WhatIfInput"),
            "responses": {"200": ok("Before and after.", "WhatIf"), "400": error("Bad JSON."), "401": error("No valid API token."), "404": error(not_rated), "409": error("Rating is not available."),
                          "415": error("Not JSON."), "422": error("A change is not valid (`what_if_invalid`, or the rule's own codes).")}}}),
    );
    m.insert(
        "/analysis".into(),
        json!({"post": {"operationId": "analysis",
            "summary": "A pivot over the rated periods of a range: group by any dimension (nested, with subtotals), filter like rules, measures, one column per rule, sort, top N with others, totals per currency",
            "parameters": [query("format", "string", "json (default), csv or parquet (the same table, exact decimals; money as Decimal128(38, 24) in Parquet).")],
            "requestBody": body("AnalysisQuery"),
            "responses": {"200": ok("The table.", "AnalysisTable"), "400": error("Bad JSON."), "401": error("No valid API token."), "409": error("Rating is not available."),
                          "415": error("Not JSON."), "422": error("A value is not valid (`period_invalid`, `dimension_unknown`, `measure_unknown`, `sort_unknown`, `format_invalid`, a condition's own codes).")}}}),
    );
    let view_errors = |ok_code: &str, ok_desc: &str| {
        let mut r = json!({"400": error("Bad JSON."), "401": error("No valid API token."), "404": error("No such view (`view_not_found`)."),
                           "409": error("Another view has the name (`view_name_taken`)."), "415": error("Not JSON."), "422": error("A value is not valid.")});
        r[ok_code] = ok(ok_desc, "SavedView");
        r
    };
    m.insert(
        "/views".into(),
        json!({"get": read("listViews", "Saved analysis views, shared in the organization", vec![], "SavedViewList", "Never."),
               "post": {"operationId": "createView", "summary": "Save an analysis view (name and query)", "requestBody": body("ViewInput"), "responses": view_errors("201", "The view.")}}),
    );
    m.insert(
        "/views/{id}".into(),
        json!({"get": read("getView", "A saved view", vec![id.clone()], "SavedView", "No such view."),
               "put": {"operationId": "updateView", "summary": "Replace a saved view's name and query", "parameters": [id.clone()], "requestBody": body("ViewInput"), "responses": view_errors("200", "The view.")},
               "delete": {"operationId": "deleteView", "summary": "Delete a saved view", "parameters": [id.clone()],
                          "responses": {"204": {"description": "Deleted."}, "401": error("No valid API token."), "404": error("No such view.")}}}),
    );
    m.insert(
        "/asset-groups".into(),
        json!({"get": read("listAssetGroups", "Asset groups (saved filter sets for the dashboard and the analysis)", vec![], "SavedViewList", "Never."),
               "post": {"operationId": "createAssetGroup", "summary": "Save an asset group (name, filter, is_default)", "requestBody": body("AssetGroupInput"), "responses": view_errors("201", "The asset group.")}}),
    );
    m.insert(
        "/asset-groups/{id}".into(),
        json!({"put": {"operationId": "updateAssetGroup", "summary": "Replace an asset group", "parameters": [id.clone()], "requestBody": body("AssetGroupInput"), "responses": view_errors("200", "The asset group.")},
               "delete": {"operationId": "deleteAssetGroup", "summary": "Delete an asset group", "parameters": [id.clone()],
                          "responses": {"204": {"description": "Deleted."}, "401": error("No valid API token."), "404": error("No such asset group.")}}}),
    );
    m.insert(
        "/dashboard".into(),
        json!({"get": read("dashboard", "This month and last, the 13-month trend, top families, sub-accounts and services, cost by category, freshness; under an asset group",
            vec![query("asset_group", "string", "An asset group's ID; empty for none; absent for the default one.")], "Dashboard", "No such asset group.")}),
    );
    m.insert(
        "/explain".into(),
        json!({"get": read("explainLine", "A rated line: its source row and each stage's effect, in order", vec![json!({"name": "line", "in": "query", "required": true, "schema": {"type": "string"}, "description": "A line ID such as 2026-10/3f2a1b4c/17."})], "Explanation", "No such line (`line_not_found`) or period not rated.")}),
    );
    m
}

fn object(description: &str) -> Value {
    json!({"type": "object", "description": description})
}

pub(crate) fn schemas() -> Map<String, Value> {
    let mut m = Map::new();
    for (name, description) in [
        (
            "Pricing",
            "The configuration (rules-as-code shapes with IDs): version, updated_at, strategies, families, allocations, plans with assigned_to and rules.",
        ),
        (
            "PricingHistory",
            "{items: [{version, summary, created_by, created_at}]}.",
        ),
        (
            "ConfigFile",
            "A rules-as-code file: version, strategies, families, allocations, plans (see ../shared/data/engine/example-config.json).",
        ),
        (
            "PricingImport",
            "{dry_run, changes: [\"+ family ...\", \"~ plan ...\"], version}.",
        ),
        ("NameInput", "{name}."),
        ("Created", "{id, name}."),
        ("MembersInput", "{sub_account_ids: [..], from?: YYYY-MM}."),
        ("AssignTo", "{family_id | sub_account_id, from?: YYYY-MM}."),
        (
            "Rule",
            "A rule in the rules-as-code shape: {name, kind, percent? | tiers?, scope?, minimum?, maximum?, amount?, currency?, period?, from?, to?, when?, enabled?}.",
        ),
        ("RuleView", "A rule with its id."),
        ("RuleState", "{position?: 0-based, enabled?: bool}."),
        (
            "Strategy",
            "{from, credits: show|hide, commitments: shared|unshared, on_demand_basis: contracted|list, taxes: keep|remove}.",
        ),
        (
            "Allocation",
            "{key, entries: [{when: [[condition, ...], ...], values: [{value, percent}]}]}.",
        ),
        (
            "AllocationPreview",
            "{period, key, rows: [{value (null: unallocated), currency, rows, provider_cost, billed_cost, effective_cost}]}.",
        ),
        (
            "Sources",
            "{sources: [{id, kind, name, periods}], sub_accounts: [{sub_account_id, name, billing_account_id, source, first_period, last_period, family}]}.",
        ),
        (
            "ImportResult",
            "{source, format, periods: [{period, rows, bytes, billed_total, effective_total}], missing_columns, extensions, ignored_columns, rounded_values}.",
        ),
        ("PeriodRatingList", "{items: [PeriodRating]}."),
        (
            "PeriodRating",
            "{period, pending, current: run?, latest: run?}; a run has id, state, pricing_version, rows_rated, new_lines, billed_total, error_code, error_message, started_at, finished_at.",
        ),
        (
            "Totals",
            "{period, by, rating_run, stages, rows: [{<key columns>, currency, ProviderCost, ListCost, BilledCost, EffectiveCost, Profit, margin_percent, <stage labels>...}], totals: [per currency]}.",
        ),
        (
            "RatedLineList",
            "{items: [{line_id, family, sub_account_id, service, description, currency, provider_cost, billed_cost}]}.",
        ),
        (
            "WhatIfInput",
            "{changes: [{config: ConfigFile} | {rule_percent: {rule_id, percent}} | {add_rule: {plan_id, rule}} | {move_sub_account: {sub_account_id, family_id|null}}]}.",
        ),
        (
            "WhatIf",
            "{period, by_family, by_sub_account, by_rule, before_total}: rows of {key, currency, before, after, difference}.",
        ),
        (
            "AnalysisQuery",
            "{from, to (YYYY-MM), group_by: [dimension: a FOCUS column, BillingFamilyName, Plan, an allocation key, tag:KEY, x_...], filter: [[condition]], measures: [ProviderCost, ListCost, BilledCost, EffectiveCost, Profit, Margin, ConsumedQuantity, PricingQuantity], show_rules, sort, ascending, top}.",
        ),
        (
            "AnalysisTable",
            "{query, periods, unrated, group_by, columns, stages, rows: [{level, keys, currency, values, margin, rows, subtotal, others}], totals: [per currency]}.",
        ),
        (
            "SavedView",
            "{id, kind: analysis|asset_group, name, document (the query, or {filter}), is_default, updated_at}.",
        ),
        ("SavedViewList", "{items: [SavedView]}."),
        ("ViewInput", "{name, query: AnalysisQuery}."),
        (
            "AssetGroupInput",
            "{name, filter: [[condition]], is_default?}.",
        ),
        (
            "Dashboard",
            "{asset_group, this_month, last_month, trend: [{period, currency, provider_cost, billed_cost, profit, margin}], top_families, top_sub_accounts, top_services, by_category: [{name, currency, billed_cost, provider_cost, profit}], freshness: [{connection_id, account, state, last_pull, periods}]}.",
        ),
        (
            "Explanation",
            "{line_id, period, rated: [[column, value]], source: [[column, value]]|null, source_note, provider_cost, billed_cost, effective_cost, splits, stages: [{label, kind, effect, billed_after}]}.",
        ),
    ] {
        m.insert(name.into(), object(description));
    }
    m
}
