//! Invoices on the worked example, as a user runs them through the CLI: a draft run with its
//! numbers-to-be, finalize (numbers, lock), immutability after a configuration change, the
//! tie-out, the re-rate of the locked period into a credit note, downloads.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::Value;

use crate::rating::{Fresh, shared};

/// A loopback SMTP server that accepts every message and keeps each one's DATA.
fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let keep = messages.clone();
    std::thread::spawn(move || {
        for socket in listener.incoming().flatten() {
            let mut write = socket.try_clone().expect("clone");
            let mut lines = BufReader::new(socket).lines();
            let _ = write.write_all(b"220 test ESMTP\r\n");
            while let Some(Ok(line)) = lines.next() {
                let verb = line.split([' ', ':']).next().unwrap_or("").to_uppercase();
                let answer = match verb.as_str() {
                    "EHLO" => "250-test\r\n250 8BITMIME".to_string(),
                    "DATA" => {
                        let _ = write.write_all(b"354 go ahead\r\n");
                        let data: Vec<String> = lines
                            .by_ref()
                            .map_while(Result::ok)
                            .take_while(|l| l != ".")
                            .collect();
                        keep.lock().expect("lock").push(data.join("\n"));
                        "250 2.0.0 Ok: queued as 7".into()
                    }
                    "QUIT" => {
                        let _ = write.write_all(b"221 bye\r\n");
                        break;
                    }
                    _ => "250 Ok".into(),
                };
                let _ = write.write_all(format!("{answer}\r\n").as_bytes());
            }
        }
    });
    (port, messages)
}

/// The text of a PDF, by poppler's pdftotext (as a reader would copy it).
fn pdf_text(pdf: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The attachment's bytes in a MIME message (base64, one part).
fn attachment(message: &str) -> Vec<u8> {
    let part = message
        .split("Content-Type: application/pdf")
        .nth(1)
        .expect("a PDF part");
    let body = part.split("\n\n").nth(1).expect("part body");
    let b64: String = body.lines().take_while(|l| !l.starts_with("--")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .expect("base64")
}

fn invoice<'a>(run: &'a Value, customer: &str) -> &'a Value {
    run["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .find(|i| i["customer_key"] == customer)
        .unwrap_or_else(|| panic!("no invoice for {customer}: {run}"))
}

/// The worked example imported, priced and rated.
pub(crate) fn rated() -> Fresh {
    rated_with(&[])
}

fn rated_with(settings: &[(&str, String)]) -> Fresh {
    let s = Fresh::start_with(settings);
    let csv = shared("data/engine/example-focus.csv");
    let config = shared("data/engine/example-config.json");
    for args in [
        vec![
            "import",
            "focus",
            csv.to_str().expect("path"),
            "--source",
            "Example",
        ],
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
    let (smtp, messages) = smtp_server();
    let s = rated_with(&[
        (
            "BILLING_ENGINE_MAIL_SMTP_URL",
            format!("smtp://127.0.0.1:{smtp}"),
        ),
        (
            "BILLING_ENGINE_MAIL_FROM",
            "Billing <billing@msp.example>".into(),
        ),
    ]);

    // A draft: Contoso 256.21 (exact 256.2125) and Fabrikam 175.00, numbers still to be taken.
    let (ok, table, err) = s.run(&[
        "invoices",
        "run",
        "--from",
        "2026-10",
        "--to",
        "2026-10",
        "--issue-date",
        "2026-11-05",
    ]);
    assert!(ok, "{err}");
    assert!(
        table.contains("USD 256.21")
            && table.contains("USD 175.00")
            && table.contains("INV-000001 (to be)"),
        "{table}"
    );
    assert!(
        table.contains("Support fee") && table.contains("USD 16.96"),
        "the rule's line: {table}"
    );
    let draft = s.json(&[
        "invoices",
        "run",
        "--from",
        "2026-10",
        "--issue-date",
        "2026-11-05",
        "--param",
        "Contract=C-1042",
        "--json",
    ]);
    let contoso = invoice(&draft, "Contoso");
    assert_eq!(
        (contoso["total"].as_str(), contoso["exact_total"].as_str()),
        (Some("256.21"), Some("256.2125"))
    );
    assert_eq!(invoice(&draft, "Fabrikam")["total"], "175");
    assert_eq!(draft["state"], "draft");
    assert!(
        contoso["number"].is_null(),
        "no number before finalization: {contoso}"
    );
    let run = draft["id"].as_str().expect("id").to_string();

    // Finalize: gapless numbers, the period locked.
    let fin = s.json(&["invoices", "finalize", &run, "--json"]);
    assert_eq!(fin["state"], "final");
    let mut numbers: Vec<&str> = fin["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .filter_map(|i| i["number"].as_str())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, ["INV-000001", "INV-000002"]);
    let (ok, _, err) = s.run(&["invoices", "finalize", &run]);
    assert!(
        !ok && err.contains("invoice_run_not_draft"),
        "finalized once only: {err}"
    );
    let (_, locks, _) = s.run(&["invoices", "locks"]);
    assert!(
        locks.contains("2026-10") && locks.contains("invoiced"),
        "{locks}"
    );
    let shown = s.json(&["invoices", "show", "INV-000001", "--json"]);
    assert_eq!(
        shown["document"]["header_fields"][0],
        serde_json::json!(["Contract", "C-1042"])
    );
    assert_eq!(
        shown["document"]["sources"]["periods"][0]["period"],
        "2026-10"
    );

    // The documents: the PDF's text and the CSV carry every line and the totals.
    let pdf1 = s.dir.0.join("INV-000001.pdf");
    let (ok, _, err) = s.run(&[
        "invoices",
        "download",
        "INV-000001",
        "--pdf",
        "-o",
        pdf1.to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    let text = pdf_text(&pdf1);
    for expected in [
        "INV-000001",
        "Contoso",
        "110.00",
        "52.25",
        "77.00",
        "Support fee",
        "16.96",
        "256.21",
    ] {
        assert!(text.contains(expected), "{expected} in the PDF:\n{text}");
    }
    let csv_file = s.dir.0.join("INV-000002.csv");
    let (ok, _, err) = s.run(&[
        "invoices",
        "download",
        "INV-000002",
        "--csv",
        "-o",
        csv_file.to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    let csv = std::fs::read_to_string(&csv_file).expect("csv");
    assert!(
        csv.contains("Onboarding") && csv.contains("15.00") && csv.contains("175.00"),
        "{csv}"
    );
    let pdf_bytes = std::fs::read(&pdf1).expect("pdf");

    // E-mail: the customer's recipient gets the same PDF; the server's answer is recorded.
    let (ok, _, err) = s.run(&[
        "invoices",
        "customers",
        "set",
        "Contoso",
        "--name",
        "Contoso Ltd",
        "--email",
        "ap@contoso.example",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = s.run(&["invoices", "send", "INV-000001"]);
    assert!(ok, "{err}");
    let mut delivery = Value::Null;
    for _ in 0..60 {
        delivery = s.json(&["invoices", "show", "INV-000001", "--json"])["deliveries"][0].clone();
        if delivery["state"] != "pending" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(
        (
            delivery["state"].as_str(),
            delivery["server_answer"].as_str()
        ),
        (Some("sent"), Some("250 2.0.0 Ok: queued as 7")),
        "{delivery}"
    );
    let message = messages.lock().expect("lock")[0].clone();
    assert!(
        message.contains("ap@contoso.example") && message.contains("INV-000001"),
        "{message}"
    );
    assert_eq!(
        attachment(&message),
        pdf_bytes,
        "the e-mailed PDF is the invoice's"
    );

    // The tie-out: provider 700, outside every family -10, the stages, rounding -0.0025, 431.21.
    let tie = s.json(&["invoices", "tie-out", "2026-10", "--json"]);
    let usd = &tie["currencies"][0];
    assert_eq!(
        (
            usd["provider_total"].as_str(),
            usd["invoiced_total"].as_str()
        ),
        (Some("700"), Some("431.21")),
        "{tie}"
    );
    assert_eq!(usd["reconciled"], true, "{tie}");
    let rounding = usd["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|st| st["kind"] == "rounding")
        .expect("rounding step");
    assert_eq!(rounding["amount"], "-0.0025");

    // A configuration change (volume tiers: the Support fee 16.9625 -> 11.9625) waits: the
    // locked period keeps its rating and its invoices.
    let volume = std::fs::read_to_string(shared("data/engine/example-config.json"))
        .expect("read")
        .replace("\"graduated\"", "\"volume\"");
    let volume_file = s.dir.0.join("volume.json");
    std::fs::write(&volume_file, volume).expect("write");
    let (ok, _, err) = s.run(&["pricing", "import", volume_file.to_str().expect("path")]);
    assert!(ok, "{err}");
    let locks = s.json(&["invoices", "locks", "--json"]);
    assert!(
        locks["items"][0]["pending_since"].is_string(),
        "a change waits: {locks}"
    );
    assert_eq!(
        s.json(&["totals", "2026-10", "--json"])["rows"][1]["BilledCost"],
        "256.2125",
        "the locked rating stays"
    );
    assert_eq!(
        s.json(&["invoices", "show", "INV-000001", "--json"])["total"],
        "256.21"
    );
    let (ok, _, err) = s.run(&[
        "invoices",
        "download",
        "INV-000001",
        "--pdf",
        "-o",
        pdf1.to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read(&pdf1).expect("pdf"),
        pdf_bytes,
        "a final invoice's PDF never changes"
    );

    // Re-rate: a dry run shows the difference and issues nothing; then a credit note of -5.00.
    let dry = s.json(&["invoices", "rerate", "2026-10", "--dry-run", "--json"]);
    assert_eq!(dry["applied"], false);
    let change = &dry["changes"][0];
    assert_eq!(
        (
            change["number"].as_str(),
            change["difference"].as_str(),
            change["settled_by"].as_str()
        ),
        (Some("INV-000001"), Some("-5"), Some("credit_note")),
        "{dry}"
    );
    assert_eq!(
        dry["changes"].as_array().expect("changes").len(),
        1,
        "Fabrikam is unchanged: {dry}"
    );
    assert_eq!(
        s.json(&["invoices", "list", "--json"])["items"]
            .as_array()
            .expect("items")
            .len(),
        2,
        "a dry run issues nothing"
    );
    let (ok, out, err) = s.run(&["invoices", "rerate", "2026-10"]);
    assert!(
        ok && out.contains("CN-000001") && out.contains("-5.00"),
        "{out}{err}"
    );
    let list = s.json(&["invoices", "list", "--json"]);
    let note = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["kind"] == "credit_note")
        .expect("credit note");
    assert_eq!(
        (note["number"].as_str(), note["total"].as_str()),
        (Some("CN-000001"), Some("-5"))
    );
    let cn = s.dir.0.join("CN-000001.pdf");
    let (ok, _, err) = s.run(&[
        "invoices",
        "download",
        "CN-000001",
        "--pdf",
        "-o",
        cn.to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    let text = pdf_text(&cn);
    assert!(
        text.contains("Credit note") && text.contains("INV-000001") && text.contains("-5.00"),
        "the note names the invoice it corrects:\n{text}"
    );
    assert_eq!(
        s.json(&["totals", "2026-10", "--json"])["rows"][1]["BilledCost"],
        "251.2125",
        "re-rated"
    );
    let again = s.json(&["invoices", "rerate", "2026-10", "--dry-run", "--json"]);
    assert_eq!(
        again["changes"].as_array().expect("changes").len(),
        0,
        "the note settles it: {again}"
    );
    let tie = s.json(&["invoices", "tie-out", "2026-10", "--json"]);
    assert_eq!(
        tie["currencies"][0]["invoiced_total"], "426.21",
        "invoices and the note: {tie}"
    );
    assert_eq!(tie["currencies"][0]["reconciled"], true, "{tie}");
}

#[test]
fn bad_invoice_requests_say_what_to_do() {
    let s = rated();
    let (ok, _, err) = s.run(&["invoices", "run", "--from", "2026-13"]);
    assert!(!ok && err.contains("period"), "{err}");
    let (ok, _, err) = s.run(&[
        "invoices",
        "run",
        "--from",
        "2026-10",
        "--issue-date",
        "5/11/2026",
    ]);
    assert!(!ok && err.contains("issue_date"), "{err}");
    let (ok, _, err) = s.run(&["invoices", "run", "--from", "2026-10", "--template", "Nope"]);
    assert!(!ok && err.contains("template"), "{err}");
    let (ok, _, err) = s.run(&["invoices", "rerate", "2026-10"]);
    assert!(!ok && err.contains("period_not_locked"), "{err}");
    let (ok, _, err) = s.run(&["invoices", "templates", "copy", "Standard", "--name", ""]);
    assert!(!ok && err.contains("name"), "{err}");
    let (ok, _, err) = s.run(&[
        "invoices",
        "customers",
        "set",
        "Contoso",
        "--name",
        "Contoso Ltd",
        "--email",
        "not-an-address",
    ]);
    assert!(!ok && err.contains("emails[0]"), "{err}");
}
