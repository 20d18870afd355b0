//! The API contract (issue 12, item 13): schemathesis with every check (`--checks all`) against
//! the running demo must find nothing: every answer is documented (status, media type, schema),
//! data the document allows is accepted and data it forbids refused. Bounded in time by a small
//! number of examples per operation.
//!
//! Scope: the operations of accounts, tokens, connections, users, invitations and the audit trail
//! (`CHECKED`). Not yet the pricing, rating and invoicing operations: their request bodies are
//! documented in prose (`openapi_rating.rs`, `openapi_invoicing.rs`: `{"type": "object"}` with a
//! description), so schemathesis takes `{}` as valid and the API refuses it (400
//! `missing_field`); they need real schemas before they join. `DELETE /tokens/{id}` is left out
//! because the run would revoke its own token.
//!
//! schemathesis comes from PyPI: `scripts/test` installs it into `target/schemathesis-venv` and
//! sets `BILLING_ENGINE_TEST_SCHEMATHESIS`. Without it this test fails and says how to install
//! it (it never passes silently).

use std::{path::PathBuf, process::Command, time::Instant};

use crate::process::start_demo;

/// Examples per operation and phase: enough to hit every documented status on the demo's data,
/// small enough to keep the run near a minute.
const MAX_EXAMPLES: &str = "12";

/// The paths whose every operation the run checks.
const CHECKED: &str = r"^/(me|tokens|accounts|accounts/\{id\}|connectable-accounts|administration|connections|connections/\{id\}|users|invites|invites/\{id\}|audit|audit\.csv)$";

fn schemathesis() -> PathBuf {
    if let Some(p) = std::env::var_os("BILLING_ENGINE_TEST_SCHEMATHESIS") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/schemathesis-venv/bin/schemathesis");
    if venv.is_file() {
        return venv;
    }
    let on_path = Command::new("schemathesis").arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from("schemathesis");
    }
    panic!(
        "schemathesis is not installed, so the API contract was NOT checked. Run scripts/test \
         (it installs schemathesis from PyPI into target/schemathesis-venv), or: \
         python3 -m venv target/schemathesis-venv && target/schemathesis-venv/bin/pip install 'schemathesis>=4,<5'"
    );
}

#[test]
fn schemathesis_finds_nothing_against_the_demo() {
    let st = schemathesis();
    let demo = start_demo();
    let started = Instant::now();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemathesis.toml");
    let out = Command::new(&st)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/api/v1/openapi.json", demo.url)])
        .args(["--url", &format!("{}/api/v1", demo.url)])
        .args(["--checks", "all"])
        .args(["--include-path-regex", CHECKED])
        .args(["--exclude-operation-id", "revokeToken"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", "1"])
        .args(["--request-timeout", "20"])
        // One worker: with threads, hypothesis (on Python 3.11) sometimes stops with a runtime
        // error of its own ("AST constructor recursion depth mismatch"), not a finding.
        .args(["--workers", "1"])
        .args(["-H", &format!("Authorization: Bearer {}", demo.token)])
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found problems ({:?}):\n{stdout}\n{stderr}",
        started.elapsed()
    );
    eprintln!("schemathesis passed in {:?}", started.elapsed());
}
