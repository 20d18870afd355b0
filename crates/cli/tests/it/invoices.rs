//! Invoices on the worked example, as a user runs them through the CLI: a draft run with its
//! numbers-to-be, finalize (numbers, lock), immutability after a configuration change, the
//! tie-out, the re-rate of the locked period into a credit note, downloads.

use serde_json::Value;

use crate::rating::{Fresh, shared};

fn invoice<'a>(run: &'a Value, customer: &str) -> &'a Value {
    run["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .find(|i| i["customer_key"] == customer)
        .unwrap_or_else(|| panic!("no invoice for {customer}: {run}"))
}

/// The worked example imported, priced and rated.
fn rated() -> Fresh {
    let s = Fresh::start();
    let csv = shared("data/engine/example-focus.csv");
    let config = shared("data/engine/example-config.json");
    for args in [
        vec!["import", "focus", csv.to_str().expect("path"), "--source", "Example"],
        vec!["pricing", "import", config.to_str().expect("path")],
        vec!["rate", "2026-10"],
    ] {
        let (ok, _, err) = s.run(&args);
        assert!(ok, "{args:?}: {err}");
    }
    s
}

#[test]
fn invoices_of_the_worked_example_from_draft_to_credit_note() {
    let s = rated();

    // A draft: Contoso 256.21 (exact 256.2125) and Fabrikam 175.00, numbers still to be taken.
    let (ok, table, err) = s.run(&["invoices", "run", "--from", "2026-10", "--to", "2026-10", "--issue-date", "2026-11-05"]);
    assert!(ok, "{err}");
    assert!(
        table.contains("USD 256.21") && table.contains("USD 175.00") && table.contains("INV-000001 (to be)"),
        "{table}"
    );
    assert!(table.contains("Support fee") && table.contains("USD 16.96"), "the rule's line: {table}");
    let draft = s.json(&["invoices", "run", "--from", "2026-10", "--issue-date", "2026-11-05", "--param", "Contract=C-1042", "--json"]);
    let contoso = invoice(&draft, "Contoso");
    assert_eq!((contoso["total"].as_str(), contoso["exact_total"].as_str()), (Some("256.21"), Some("256.2125")));
    assert_eq!(invoice(&draft, "Fabrikam")["total"], "175");
    assert_eq!(draft["state"], "draft");
    assert!(contoso["number"].is_null(), "no number before finalization: {contoso}");
    let run = draft["id"].as_str().expect("id").to_string();

    // Finalize: gapless numbers, the period locked.
    let fin = s.json(&["invoices", "finalize", &run, "--json"]);
    assert_eq!(fin["state"], "final");
    let mut numbers: Vec<&str> = fin["invoices"].as_array().expect("invoices").iter().filter_map(|i| i["number"].as_str()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, ["INV-000001", "INV-000002"]);
    let (ok, _, err) = s.run(&["invoices", "finalize", &run]);
    assert!(!ok && err.contains("invoice_run_not_draft"), "finalized once only: {err}");
    let (_, locks, _) = s.run(&["invoices", "locks"]);
    assert!(locks.contains("2026-10") && locks.contains("invoiced"), "{locks}");
    let shown = s.json(&["invoices", "show", "INV-000001", "--json"]);
    assert_eq!(shown["document"]["header_fields"][0], serde_json::json!(["Contract", "C-1042"]));
    assert_eq!(shown["document"]["sources"]["periods"][0]["period"], "2026-10");

    // The tie-out: provider 700, outside every family -10, the stages, rounding -0.0025, 431.21.
    let tie = s.json(&["invoices", "tie-out", "2026-10", "--json"]);
    let usd = &tie["currencies"][0];
    assert_eq!((usd["provider_total"].as_str(), usd["invoiced_total"].as_str()), (Some("700"), Some("431.21")), "{tie}");
    assert_eq!(usd["reconciled"], true, "{tie}");
    let rounding = usd["steps"].as_array().expect("steps").iter().find(|st| st["kind"] == "rounding").expect("rounding step");
    assert_eq!(rounding["amount"], "-0.0025");

    // A configuration change (volume tiers: the Support fee 16.9625 -> 11.9625) waits: the
    // locked period keeps its rating and its invoices.
    let volume = std::fs::read_to_string(shared("data/engine/example-config.json")).expect("read").replace("\"graduated\"", "\"volume\"");
    let volume_file = s.dir.0.join("volume.json");
    std::fs::write(&volume_file, volume).expect("write");
    let (ok, _, err) = s.run(&["pricing", "import", volume_file.to_str().expect("path")]);
    assert!(ok, "{err}");
    let locks = s.json(&["invoices", "locks", "--json"]);
    assert!(locks["items"][0]["pending_since"].is_string(), "a change waits: {locks}");
    assert_eq!(s.json(&["totals", "2026-10", "--json"])["rows"][1]["BilledCost"], "256.2125", "the locked rating stays");
    assert_eq!(s.json(&["invoices", "show", "INV-000001", "--json"])["total"], "256.21");

    // Re-rate: a dry run shows the difference and issues nothing; then a credit note of -5.00.
    let dry = s.json(&["invoices", "rerate", "2026-10", "--dry-run", "--json"]);
    assert_eq!(dry["applied"], false);
    let change = &dry["changes"][0];
    assert_eq!(
        (change["number"].as_str(), change["difference"].as_str(), change["settled_by"].as_str()),
        (Some("INV-000001"), Some("-5"), Some("credit_note")),
        "{dry}"
    );
    assert_eq!(dry["changes"].as_array().expect("changes").len(), 1, "Fabrikam is unchanged: {dry}");
    assert_eq!(s.json(&["invoices", "list", "--json"])["items"].as_array().expect("items").len(), 2, "a dry run issues nothing");
    let (ok, out, err) = s.run(&["invoices", "rerate", "2026-10"]);
    assert!(ok && out.contains("CN-000001") && out.contains("-5.00"), "{out}{err}");
    let list = s.json(&["invoices", "list", "--json"]);
    let note = list["items"].as_array().expect("items").iter().find(|i| i["kind"] == "credit_note").expect("credit note");
    assert_eq!((note["number"].as_str(), note["total"].as_str()), (Some("CN-000001"), Some("-5")));
    assert_eq!(s.json(&["totals", "2026-10", "--json"])["rows"][1]["BilledCost"], "251.2125", "re-rated");
    let again = s.json(&["invoices", "rerate", "2026-10", "--dry-run", "--json"]);
    assert_eq!(again["changes"].as_array().expect("changes").len(), 0, "the note settles it: {again}");
    let tie = s.json(&["invoices", "tie-out", "2026-10", "--json"]);
    assert_eq!(tie["currencies"][0]["invoiced_total"], "426.21", "invoices and the note: {tie}");
    assert_eq!(tie["currencies"][0]["reconciled"], true, "{tie}");
}

#[test]
fn bad_invoice_requests_say_what_to_do() {
    let s = rated();
    let (ok, _, err) = s.run(&["invoices", "run", "--from", "2026-13"]);
    assert!(!ok && err.contains("period"), "{err}");
    let (ok, _, err) = s.run(&["invoices", "run", "--from", "2026-10", "--issue-date", "5/11/2026"]);
    assert!(!ok && err.contains("issue_date"), "{err}");
    let (ok, _, err) = s.run(&["invoices", "run", "--from", "2026-10", "--template", "Nope"]);
    assert!(!ok && err.contains("template"), "{err}");
    let (ok, _, err) = s.run(&["invoices", "rerate", "2026-10"]);
    assert!(!ok && err.contains("period_not_locked"), "{err}");
    let (ok, _, err) = s.run(&["invoices", "templates", "copy", "Standard", "--name", ""]);
    assert!(!ok && err.contains("name"), "{err}");
    let (ok, _, err) = s.run(&["invoices", "customers", "set", "Contoso", "--name", "Contoso Ltd", "--email", "not-an-address"]);
    assert!(!ok && err.contains("emails[0]"), "{err}");
}
