//! The worked example of `../shared/data/engine/` end to end, as a user runs it: a fresh server,
//! `import focus`, `pricing import`, `rate`, `totals`, `lines`, `explain`, through the CLI (which
//! uses the REST API), every figure of example-expected.md to the last digit.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;

use crate::process::{Server, TempDir, command, free_port};

pub fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

/// `serve` on a fresh SQLite data directory with one organization, and a signed-in CLI profile.
pub struct Fresh {
    _server: Server,
    home: TempDir,
    pub dir: TempDir,
    /// The server's address (the console and the API).
    pub url: String,
}

const PASSWORD: &[u8] = b"a very good password\n";
/// The administrator of [`Fresh`]'s organization.
pub const EMAIL: &str = "ops@msp.example";

impl Fresh {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// [`Fresh::start`] with more server settings (`BILLING_ENGINE_*` variables).
    pub fn start_with(settings: &[(&str, String)]) -> Self {
        let dir = TempDir::new("rating");
        let port = free_port();
        let env = |c: &mut std::process::Command| {
            c.env("BILLING_ENGINE_DATA_DIR", &dir.0)
                .env("BILLING_ENGINE_LISTEN", format!("127.0.0.1:{port}"))
                .env("BILLING_ENGINE_LOG_FORMAT", "text");
            for (k, v) in settings {
                c.env(k, v);
            }
        };
        let mut create = command();
        create.args([
            "orgs",
            "create",
            "MSP",
            "--admin-email",
            "ops@msp.example",
            "--password-stdin",
        ]);
        env(&mut create);
        let mut child = create
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(PASSWORD)
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut serve = command();
        serve.arg("serve");
        env(&mut serve);
        let server = Server::spawn(serve);
        server.wait_stderr("listening");
        let url = format!("http://127.0.0.1:{port}");
        let home = TempDir::new("rating-home");
        let mut login = command();
        login
            .args([
                "login",
                "--url",
                &url,
                "--email",
                "ops@msp.example",
                "--password-stdin",
            ])
            .env("XDG_CONFIG_HOME", &home.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = login.spawn().expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(PASSWORD)
            .expect("write");
        assert!(child.wait_with_output().expect("wait").status.success());
        Self {
            _server: server,
            home,
            dir,
            url,
        }
    }

    /// Run a client command; returns (success, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = command()
            .args(args)
            .env("XDG_CONFIG_HOME", &self.home.0)
            .stdin(Stdio::null())
            .output()
            .expect("run");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let (ok, out, err) = self.run(args);
        assert!(ok, "{args:?} failed: {err}");
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {out}"))
    }
}

/// family -> (ProviderCost, BilledCost, Profit), exact text.
fn by_family(totals: &Value) -> Vec<(String, String, String, String)> {
    totals["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("(none)").to_string();
            (s("family"), s("ProviderCost"), s("BilledCost"), s("Profit"))
        })
        .collect()
}

fn row(
    family: &str,
    provider: &str,
    billed: &str,
    profit: &str,
) -> (String, String, String, String) {
    (family.into(), provider.into(), billed.into(), profit.into())
}

#[test]
fn the_worked_example_through_the_cli_and_the_api() {
    let s = Fresh::start();
    let csv = shared("data/engine/example-focus.csv");
    let config = shared("data/engine/example-config.json");

    let (ok, out, err) = s.run(&[
        "import",
        "focus",
        csv.to_str().expect("path"),
        "--source",
        "Example",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("2026-10") && out.contains(" 8 ") && out.contains(" 700 "),
        "one period of 8 rows: {out}"
    );
    assert!(
        out.contains("x_ExampleRow"),
        "unknown x_ columns are kept and said so: {out}"
    );

    let dry = s.json(&[
        "pricing",
        "import",
        config.to_str().expect("path"),
        "--dry-run",
        "--json",
    ]);
    assert_eq!(dry["dry_run"], true);
    assert!(
        dry["changes"].as_array().expect("changes").len() >= 5,
        "{dry}"
    );
    assert_eq!(
        s.json(&["pricing", "history", "--json"])["items"]
            .as_array()
            .expect("items")
            .len(),
        0,
        "a dry run changes nothing"
    );
    let imported = s.json(&[
        "pricing",
        "import",
        config.to_str().expect("path"),
        "--json",
    ]);
    assert_eq!(imported["version"], 1);
    let again = s.json(&[
        "pricing",
        "import",
        config.to_str().expect("path"),
        "--json",
    ]);
    assert_eq!(
        (
            again["version"].clone(),
            again["changes"].as_array().expect("changes").len()
        ),
        (Value::from(1), 0),
        "importing twice changes nothing"
    );
    let (ok, exported, _) = s.run(&["pricing", "export"]);
    assert!(ok);
    let exported: Value = serde_json::from_str(&exported).expect("json");
    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("read")).expect("json");
    assert_eq!(exported, original, "the example exports unchanged");

    let (ok, out, err) = s.run(&["rate", "2026-10"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("rated 2026-10") && out.contains("BilledCost 441.2125"),
        "{out}"
    );

    // Scenario A, every figure.
    let totals = s.json(&["totals", "2026-10", "--by", "family", "--json"]);
    assert_eq!(
        by_family(&totals),
        vec![
            row("(none)", "10", "10", "0"),
            row("Contoso", "510", "256.2125", "-253.7875"),
            row("Fabrikam", "180", "175", "-5")
        ]
    );
    let total = &totals["totals"][0];
    assert_eq!(
        (
            total["ProviderCost"].as_str(),
            total["BilledCost"].as_str(),
            total["EffectiveCost"].as_str(),
            total["Profit"].as_str()
        ),
        (
            Some("700"),
            Some("441.2125"),
            Some("441.2125"),
            Some("-258.7875")
        )
    );
    let rules = s.json(&["totals", "2026-10", "--by", "rule", "--json"]);
    let effects: Vec<(String, String)> = rules["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["stage"].as_str().expect("stage").to_string(),
                r["Effect"].as_str().expect("effect").to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("credits (hidden)", "20"),
        ("commitments (unshared)", "-290"),
        ("Standard / Markup 10%", "22"),
        ("Standard / Storage discount", "-2.75"),
        ("Standard / Support fee", "16.9625"),
        ("Gold / SQL discount", "-40"),
        ("Gold / Onboarding", "15"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(effects, expected);
    let subs = s.json(&[
        "totals",
        "2026-10",
        "--by",
        "sub-account",
        "--show-rules",
        "--json",
    ]);
    let sub_c = subs["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["sub_account_id"] == "sub-C")
        .expect("sub-C");
    assert_eq!(
        (
            sub_c["BilledCost"].as_str(),
            sub_c["Gold / SQL discount"].as_str()
        ),
        (Some("175"), Some("-40")),
        "{sub_c}"
    );

    // Analysis: BilledCost by CostCenter (Web 66, Batch 44, Data 160, unallocated 171.2125).
    let a = s.json(&[
        "analysis",
        "--from",
        "2026-10",
        "--to",
        "2026-10",
        "--group-by",
        "CostCenter",
        "--json",
    ]);
    let cc: Vec<(Option<String>, String)> = a["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["keys"][0].as_str().map(str::to_string),
                r["values"][1].as_str().expect("billed").to_string(),
            )
        })
        .collect();
    assert_eq!(a["columns"][1], "BilledCost");
    assert_eq!(
        cc,
        vec![
            (None, "171.2125".into()),
            (Some("Data".into()), "160".into()),
            (Some("Web".into()), "66".into()),
            (Some("Batch".into()), "44".into())
        ],
        "largest first: {a}"
    );
    let a = s.json(&[
        "analysis",
        "--from",
        "2026-10",
        "--to",
        "2026-10",
        "--group-by",
        "BillingFamilyName",
        "--group-by",
        "ServiceName",
        "--filter",
        "ChargeCategory=Usage|Purchase",
        "--measure",
        "BilledCost",
        "--json",
    ]);
    let contoso = a["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["keys"] == serde_json::json!(["Contoso"]))
        .expect("Contoso subtotal");
    assert_eq!(
        (contoso["subtotal"].as_bool(), contoso["values"][0].as_str()),
        (Some(true), Some("239.25")),
        "usage and purchases only: no fee line"
    );
    let (ok, csv, _) = s.run(&[
        "analysis",
        "--from",
        "2026-10",
        "--to",
        "2026-10",
        "--group-by",
        "Plan",
        "--show-rules",
        "--format",
        "csv",
    ]);
    assert!(
        ok && csv.starts_with("row,Plan,BillingCurrency,")
            && csv.contains("Standard / Markup 10%")
            && csv.contains("total,,USD,700,441.2125"),
        "{csv}"
    );
    // A saved view, reopened by name; an asset group applied to it.
    s.json(&[
        "analysis",
        "--from",
        "2026-10",
        "--to",
        "2026-10",
        "--group-by",
        "CostCenter",
        "--save",
        "By cost center",
        "--json",
    ]);
    let again = s.json(&["analysis", "--view", "By cost center", "--json"]);
    assert_eq!(
        again["rows"][0]["values"][1], "171.2125",
        "the saved view gives the same table"
    );
    let (ok, out, err) = s.run(&[
        "asset-groups",
        "create",
        "Contoso only",
        "--filter",
        "BillingFamilyName=Contoso",
    ]);
    assert!(ok && out.contains("created"), "{err}");
    let contoso = s.json(&[
        "analysis",
        "--view",
        "By cost center",
        "--asset-group",
        "Contoso only",
        "--json",
    ]);
    assert_eq!(
        contoso["totals"][0]["values"][1], "256.2125",
        "the view under the asset group: {contoso}"
    );
    let d = s.json(&["dashboard", "--asset-group", "none", "--json"]);
    let oct = d["trend"]
        .as_array()
        .expect("trend")
        .iter()
        .find(|m| m["period"] == "2026-10")
        .expect("October in the trend");
    assert_eq!(
        (oct["billed_cost"].as_str(), oct["profit"].as_str()),
        (Some("441.2125"), Some("-258.7875"))
    );
    let tops: Vec<(&str, &str)> = d["top_families"]
        .as_array()
        .expect("tops")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or("(none)"),
                r["billed_cost"].as_str().unwrap_or(""),
            )
        })
        .collect();
    if d["top_period"] == "2026-10" {
        assert_eq!(
            tops,
            [
                ("Contoso", "256.2125"),
                ("Fabrikam", "175"),
                ("(none)", "10")
            ]
        );
    }
    let d = s.json(&["dashboard", "--asset-group", "Contoso only", "--json"]);
    let oct = d["trend"]
        .as_array()
        .expect("trend")
        .iter()
        .find(|m| m["period"] == "2026-10")
        .expect("October");
    assert_eq!(
        oct["billed_cost"], "256.2125",
        "the dashboard under the asset group"
    );
    let (ok, _, err) = s.run(&["asset-groups", "create", "Bad", "--filter", "Region=west"]);
    assert!(!ok && err.contains("dimension_unknown"), "{err}");

    let (ok, _, err) = s.run(&[
        "analysis",
        "--from",
        "2026-10",
        "--to",
        "2026-10",
        "--group-by",
        "Servicename",
    ]);
    assert!(!ok && err.contains("Did you mean ServiceName?"), "{err}");

    // A table for people: currency, grouped digits, two decimals.
    let (ok, table, _) = s.run(&["totals", "2026-10"]);
    assert!(
        ok && table.contains("USD 256.21")
            && table.contains("USD -253.79")
            && table.contains("TOTAL"),
        "{table}"
    );

    // Explain the Web share of r1 (ProviderCost 60 -> BilledCost 66).
    let lines = s.json(&[
        "lines", "2026-10", "--family", "Contoso", "--limit", "100", "--json",
    ]);
    let web = lines["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|l| l["provider_cost"] == "60")
        .unwrap_or_else(|| panic!("the Web share of r1: {lines}"));
    let e = s.json(&["explain", web["line_id"].as_str().expect("id"), "--json"]);
    assert_eq!(
        (e["provider_cost"].as_str(), e["billed_cost"].as_str()),
        (Some("60"), Some("66"))
    );
    assert_eq!(e["splits"][0]["value"], "Web");
    assert_eq!(e["splits"][0]["percent"], "60");
    let applied: Vec<(&str, &str)> = e["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter_map(|st| Some((st["label"].as_str()?, st["effect"].as_str()?)))
        .collect();
    assert_eq!(applied, [("Standard / Markup 10%", "6")]);
    let source_row = e["source"].as_array().expect("the source row is shown");
    assert!(
        source_row
            .iter()
            .any(|c| c[0] == "x_ExampleRow" && c[1] == "r1"),
        "{e}"
    );
    let (ok, text, _) = s.run(&["explain", web["line_id"].as_str().expect("id")]);
    assert!(
        ok && text.contains("Markup 10%") && text.contains("CostCenter = Web (60 %)"),
        "{text}"
    );

    // What-if: Markup 10% at 12 % raises Contoso's rows by 4.35 (r1 +2, r3 +1.4, and r2 +0.95 after
    // the storage discount), so the Support fee's basis is 243.6 (10 + 5 % of 143.6 = 17.18): 260.78.
    // Moving sub-D into Contoso puts its row under Standard (10 -> 11) and the fee's basis at 250.25
    // (17.5125): 267.7625. Nothing is saved.
    let w = s.json(&[
        "what-if",
        "2026-10",
        "--rule-percent",
        "Markup 10%=12",
        "--json",
    ]);
    let fam = |w: &Value, f: &str| {
        w["by_family"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["key"][0] == f)
            .map(|r| {
                (
                    r["before"].as_str().unwrap_or("").to_string(),
                    r["after"].as_str().unwrap_or("").to_string(),
                )
            })
            .expect("family")
    };
    assert_eq!(
        fam(&w, "Contoso"),
        ("256.2125".into(), "260.78".into()),
        "{w}"
    );
    assert_eq!(fam(&w, "Fabrikam"), ("175".into(), "175".into()));
    let support = w["by_rule"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["key"][0] == "Standard / Support fee")
        .expect("support fee changed");
    assert_eq!(
        (support["before"].as_str(), support["after"].as_str()),
        (Some("16.9625"), Some("17.18"))
    );
    let w = s.json(&["what-if", "2026-10", "--move", "sub-D=Contoso", "--json"]);
    assert_eq!(fam(&w, "Contoso").1, "267.7625", "{w}");
    let (ok, table, _) = s.run(&["what-if", "2026-10", "--rule-percent", "Markup 10%=12"]);
    assert!(
        ok && table.contains("USD 260.78") && table.contains("nothing was changed"),
        "{table}"
    );
    assert_eq!(
        s.json(&["totals", "2026-10", "--json"])["rows"][1]["BilledCost"],
        "256.2125",
        "nothing saved"
    );

    // A month-to-date style preview of an allocation before it is saved: the example's CostCenter
    // with Batch at 50 % instead of 40 % (Web 60 -> 50): r1's BilledCost 110 splits 55 / 55.
    let mut cc: Value = original["allocations"][0].clone();
    cc["entries"][0]["values"] =
        serde_json::json!([{"value": "Web", "percent": "50"}, {"value": "Batch", "percent": "50"}]);
    let cc_file = s.dir.0.join("cc.json");
    std::fs::write(&cc_file, cc.to_string()).expect("write");
    let preview = s.json(&[
        "allocations",
        "preview",
        cc_file.to_str().expect("path"),
        "--period",
        "2026-10",
        "--json",
    ]);
    let value = |v: Option<&str>| {
        preview["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["value"].as_str() == v)
            .map(|r| r["billed_cost"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        (
            value(Some("Web")),
            value(Some("Batch")),
            value(Some("Data"))
        ),
        (Some("55".into()), Some("55".into()), Some("160".into())),
        "{preview}"
    );
    assert_eq!(
        value(None),
        Some("139.25".into()),
        "unallocated rows, new lines aside (171.2125 - 16.9625 - 15): {preview}"
    );
    cc["entries"][0]["values"] = serde_json::json!([{"value": "Web", "percent": "50"}, {"value": "Batch", "percent": "49.99"}]);
    std::fs::write(&cc_file, cc.to_string()).expect("write");
    let (ok, _, err) = s.run(&[
        "allocations",
        "preview",
        cc_file.to_str().expect("path"),
        "--period",
        "2026-10",
    ]);
    assert!(
        !ok && err.contains("99.99") && err.contains("allocation_split_sum"),
        "{err}"
    );
    assert_eq!(
        s.json(&["pricing", "history", "--json"])["items"]
            .as_array()
            .expect("items")
            .len(),
        1,
        "previews save nothing"
    );

    // The volume tier variant: only the Support fee changes (11.9625).
    let volume = std::fs::read_to_string(&config)
        .expect("read")
        .replace("\"graduated\"", "\"volume\"");
    let volume_file = s.dir.0.join("volume.json");
    std::fs::write(&volume_file, volume).expect("write");
    let changed = s.json(&[
        "pricing",
        "import",
        volume_file.to_str().expect("path"),
        "--json",
    ]);
    assert_eq!(
        changed["changes"].as_array().expect("changes").len(),
        1,
        "{changed}"
    );
    let (ok, _, err) = s.run(&["rate", "2026-10"]);
    assert!(ok, "{err}");
    let totals = s.json(&["totals", "2026-10", "--json"]);
    assert_eq!(
        by_family(&totals)[1],
        row("Contoso", "510", "251.2125", "-258.7875")
    );

    // Scenario B: the same rules without strategies.
    let mut b: Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("read")).expect("json");
    b["strategies"] = Value::Array(vec![]);
    let b_file = s.dir.0.join("b.json");
    std::fs::write(&b_file, b.to_string()).expect("write");
    s.json(&[
        "pricing",
        "import",
        b_file.to_str().expect("path"),
        "--json",
    ]);
    let (ok, _, err) = s.run(&["rate", "2026-10"]);
    assert!(ok, "{err}");
    let totals = s.json(&["totals", "2026-10", "--json"]);
    assert_eq!(
        by_family(&totals),
        vec![
            row("(none)", "10", "10", "0"),
            row("Contoso", "510", "591.1625", "81.1625"),
            row("Fabrikam", "180", "155", "-25")
        ]
    );
    assert_eq!(totals["totals"][0]["EffectiveCost"], "393.1625");
}

#[test]
fn bad_files_are_refused_with_file_line_and_column() {
    let s = Fresh::start();
    let good = std::fs::read_to_string(shared("data/engine/example-focus.csv")).expect("read");
    let bad_value = good.replacen(",100.00,100.00,120.00,", ",1O0.00,100.00,120.00,", 1);
    let file = s.dir.0.join("bad.csv");
    std::fs::write(&file, bad_value).expect("write");
    let (ok, _, err) = s.run(&["import", "focus", file.to_str().expect("path")]);
    assert!(!ok);
    assert!(
        err.contains("bad.csv:2:")
            && err.contains("BilledCost")
            && err.contains("import_bad_value"),
        "{err}"
    );

    let header = good
        .lines()
        .next()
        .expect("header")
        .replace("ContractedCost,", "");
    let missing: String = std::iter::once(header)
        .chain(good.lines().skip(1).map(str::to_string))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&file, missing).expect("write");
    let (ok, _, err) = s.run(&["import", "focus", file.to_str().expect("path")]);
    assert!(
        !ok && err.contains("ContractedCost") && err.contains("import_missing_column"),
        "{err}"
    );

    let (ok, _, err) = s.run(&["totals", "2026-10"]);
    assert!(
        !ok && err.contains("period_not_rated"),
        "nothing was imported: {err}"
    );

    let config = s.dir.0.join("config.json");
    std::fs::write(&config, r#"{"version":1,"plans":[{"name":"P","rules":[{"name":"m","kind":"markup","percent":"1000000000"}]}]}"#).expect("write");
    let (ok, _, err) = s.run(&["pricing", "import", config.to_str().expect("path")]);
    assert!(
        !ok && err.contains("plans[0].rules[0].percent") && err.contains("at most 1000"),
        "{err}"
    );
}
