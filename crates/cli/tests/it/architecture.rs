//! The dependency rules of ARCHITECTURE.md, held by reading `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// For each workspace crate: the workspace crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("be-domain", &[]),
    ("be-azure", &[]),
    ("be-store", &["be-domain"]),
    ("be-app", &["be-azure", "be-domain", "be-store"]),
    ("be-http", &["be-app", "be-domain", "be-store"]),
    (
        "be-cli",
        &[
            "be-app",
            "be-http",
            "be-store",
            "be-azure-sim",
            "be-ingest",
            "be-engine",
            "be-documents",
            "be-mail",
            "be-domain",
        ],
    ),
    ("be-azure-sim", &[]),
    ("be-ingest", &["be-domain"]),
    ("be-engine", &["be-domain", "be-ingest"]),
    ("be-documents", &["be-domain"]),
    ("be-mail", &[]),
];

/// External crates only some workspace crates may know.
const CONFINED: &[(&str, &[&str])] = &[
    ("sqlx", &["be-store"]),
    ("axum", &["be-http", "be-azure-sim"]),
    ("askama", &["be-http"]),
    ("datafusion", &["be-engine"]),
    ("arrow", &["be-ingest", "be-engine"]),
    ("parquet", &["be-ingest", "be-engine"]),
    ("reqwest", &["be-cli", "be-azure"]),
    ("typst", &["be-documents"]),
    ("typst-pdf", &["be-documents"]),
    ("typst-layout", &["be-documents"]),
    ("lettre", &["be-mail"]),
];

fn metadata() -> Value {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Normal (non-dev) dependencies of each workspace package, by package name.
fn edges(meta: &Value) -> BTreeMap<String, BTreeSet<String>> {
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("deps")
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().expect("name").to_string())
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

#[test]
fn workspace_dependencies_point_inward_only() {
    let meta = metadata();
    let edges = edges(&meta);
    let workspace: BTreeSet<&String> = edges.keys().collect();
    for (krate, deps) in &edges {
        let allowed = ALLOWED
            .iter()
            .find(|(k, _)| k == krate)
            .unwrap_or_else(|| {
                panic!("{krate} is not in ARCHITECTURE.md's table (and this test's ALLOWED list)")
            })
            .1;
        for dep in deps.iter().filter(|d| workspace.contains(d)) {
            assert!(
                allowed.contains(&dep.as_str()),
                "forbidden edge: {krate} -> {dep} (see ARCHITECTURE.md)"
            );
        }
    }
}

#[test]
fn heavy_or_edge_crates_stay_where_they_belong() {
    let meta = metadata();
    for (krate, deps) in edges(&meta) {
        for (external, owners) in CONFINED {
            if deps.contains(*external) {
                assert!(
                    owners.contains(&krate.as_str()),
                    "{krate} must not depend on {external} (only {owners:?} may)"
                );
            }
        }
    }
}

#[test]
fn the_domain_does_no_io() {
    let meta = metadata();
    let domain = &edges(&meta)["be-domain"];
    for io in ["tokio", "sqlx", "reqwest", "axum", "hyper", "async-trait"] {
        assert!(!domain.contains(io), "be-domain depends on {io}");
    }
}
