use std::path::{Path, PathBuf};
use std::process::Command;

use be_documents::render_pdf;
use be_domain::invoicing::{InvoiceDocument, Paper};

use crate::{contoso, credit_note, long};

/// A rendered PDF on disk, for poppler's tools.
struct Pdf {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn render(doc: &InvoiceDocument) -> Pdf {
    let bytes = render_pdf(doc).expect("rendered");
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, bytes).expect("written");
    Pdf { _dir: dir, path }
}

fn run(program: &str, args: &[&str], path: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .arg(path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("{program} (apt package poppler-utils): {e}"));
    assert!(out.status.success(), "{program}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The text as laid out (columns kept on their line).
fn text(pdf: &Pdf) -> String {
    run("pdftotext", &["-layout"], &pdf.path)
}

/// The text in the order it was written, on one line (cells that wrap read whole).
fn flat_text(pdf: &Pdf) -> String {
    let raw = run("pdftotext", &["-raw"], &pdf.path);
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn page_text(pdf: &Pdf, page: usize) -> String {
    let p = page.to_string();
    run("pdftotext", &["-layout", "-f", &p, "-l", &p], &pdf.path)
}

/// pdfinfo's `Key: value` lines.
fn info(pdf: &Pdf, key: &str) -> String {
    let out = Command::new("pdfinfo").arg(&pdf.path).output().expect("pdfinfo");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("pdfinfo has no {key}: {text}"))
        .trim()
        .to_string()
}

fn pages(pdf: &Pdf) -> usize {
    info(pdf, "Pages").parse().expect("a page count")
}

/// Keep a picture of a page for people to look at (tests/pictures/NAME.png), and the whole PDF
/// in the target directory (target/tmp/documents/NAME.pdf).
fn picture(pdf: &Pdf, page: usize, name: &str) {
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("documents");
    std::fs::create_dir_all(&kept).expect("kept PDFs dir");
    std::fs::copy(&pdf.path, kept.join(format!("{name}.pdf"))).expect("PDF kept");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pictures");
    std::fs::create_dir_all(&dir).expect("pictures dir");
    let p = page.to_string();
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "72", "-singlefile", "-f", &p, "-l", &p])
        .arg(&pdf.path)
        .arg(dir.join(name))
        .status()
        .expect("pdftoppm");
    assert!(status.success());
}

/// The line of the laid-out text that holds `first`, which must also hold each of `rest`.
fn assert_row(text: &str, first: &str, rest: &[&str]) {
    let found = text
        .lines()
        .any(|l| l.contains(first) && rest.iter().all(|r| l.contains(r)));
    assert!(found, "no line with {first:?} and {rest:?} in:\n{text}");
}

#[test]
fn the_worked_example_reads_back_line_by_line() {
    let pdf = render(&contoso());
    let t = text(&pdf);
    for word in [
        "Invoice",
        "INV-000042",
        "Northwind Cloud Services GmbH",
        "DE123456789",
        "Contoso Ltd",
        "1 Contoso Way",
        "ap@contoso.example",
        "PO-7781",
        "MSA-2024-17",
        "Thank you for your business.",
        "256.2125",
        "Please pay 307.45 EUR by 2026-12-05.",
        "Page 1 of 1",
    ] {
        assert!(t.contains(word), "{word:?} missing in:\n{t}");
    }
    assert_row(&t, "Issue date", &["2026-11-05"]);
    assert_row(&t, "Due date", &["2026-12-05"]);
    assert_row(&t, "Payment terms", &["30 days net"]);
    assert_row(&t, "Sub-account", &["Service", "Amount (EUR)"]);
    assert_row(&t, "Contoso Web", &["Virtual Machines", "110.00"]);
    assert_row(&t, "Contoso Web", &["Storage", "52.25"]);
    assert_row(&t, "Contoso Batch", &["Virtual Machines", "77.00"]);
    assert_row(&t, "Support fee", &["16.96"]);
    assert_row(&t, "Subtotal", &["256.21 EUR"]);
    assert_row(&t, "VAT 20%", &["51.24 EUR"]);
    assert_row(&t, "Total due", &["307.45 EUR"]);
    assert_row(&t, "Profit", &["-253.79 EUR"]);
    assert_eq!(info(&pdf, "Title"), "Invoice INV-000042 · Contoso Ltd");
    picture(&pdf, 1, "invoice-a4");
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    let doc = contoso();
    let one = render_pdf(&doc).expect("one");
    let two = render_pdf(&doc).expect("two");
    assert!(one == two, "two renderings differ");
    let mut other = doc.clone();
    other.number = Some("INV-000043".into());
    assert!(render_pdf(&other).expect("other") != one, "the number is in the bytes");
    // The creation date is the issue date, not the time of rendering.
    let pdf = render(&doc);
    assert!(info(&pdf, "CreationDate").contains("2026"), "{}", info(&pdf, "CreationDate"));
}

#[test]
fn a4_and_letter_pages() {
    let mut doc = contoso();
    assert!(info(&render(&doc), "Page size").contains("595.276 x 841.89 pts"));
    doc.paper = Paper::Letter;
    let pdf = render(&doc);
    assert!(info(&pdf, "Page size").contains("612 x 792 pts"), "{}", info(&pdf, "Page size"));
    assert_row(&text(&pdf), "Total due", &["307.45 EUR"]);
    picture(&pdf, 1, "invoice-letter");
}

#[test]
fn a_long_invoice_runs_over_numbered_pages_with_its_header_repeated() {
    let doc = long(300);
    let pdf = render(&doc);
    let n = pages(&pdf);
    assert!(n >= 5, "300 lines on {n} pages");
    let t = text(&pdf);
    for (i, l) in doc.lines.iter().enumerate() {
        let amount = l.amount.display_in(None);
        assert_row(&t, &format!("sub-{:04} ", i + 1), &[&l.values[1], &amount]);
    }
    for page in 1..=n {
        let p = page_text(&pdf, page);
        assert!(p.contains(&format!("Page {page} of {n}")), "page {page}:\n{p}");
        assert!(p.contains("Invoice INV-000042 · Contoso Ltd"), "running footer");
        if p.contains("sub-") {
            assert_row(&p, "Sub-account", &["Amount (EUR)"]);
        }
    }
    picture(&pdf, 2, "long-invoice-page-2");
    let last = page_text(&pdf, n);
    assert_row(&last, "Total due", &[&crate::view_money(doc.total)]);
    assert!(last.contains("Thank you for your business."), "{last}");
}

#[test]
fn user_text_is_shown_as_written_never_run_as_typst() {
    let hostile = [
        "#set page(width: 2cm)",
        "*bold* _em_ $x^2$ [link] <label> @ref",
        "#panic(\"boom\") \\ // not a comment",
        "`raw` ~ -- --- ... 'q' \"q\" = heading",
    ];
    let mut doc = contoso();
    doc.customer.billing_name = hostile[0].into();
    doc.customer.address = vec![hostile[1].into()];
    doc.lines[0].values = vec![hostile[2].into(), hostile[3].into()];
    doc.footer = hostile.join(" | ");
    doc.header_fields = vec![("#let x = 1".into(), "#x".into())];
    let pdf = render(&doc);
    assert!(info(&pdf, "Page size").contains("595.276 x 841.89 pts"), "the page size held");
    let flat = flat_text(&pdf);
    for h in hostile {
        assert!(flat.contains(h), "{h:?} not shown as written in:\n{flat}");
    }
    let t = text(&pdf);
    assert_row(&t, "#let x = 1", &["#x"]);
    assert_row(&t, "#panic(\"boom\")", &["110.00"]);
}

#[test]
fn a_draft_says_draft() {
    let mut doc = contoso();
    doc.number = None;
    let pdf = render(&doc);
    let t = text(&pdf);
    assert_row(&t, "Invoice", &["DRAFT"]);
    assert!(!t.contains("INV-000042"));
}

#[test]
fn a_credit_note_names_the_invoice_it_corrects() {
    let pdf = render(&credit_note());
    let t = text(&pdf);
    assert_row(&t, "Credit note", &[]);
    assert!(t.contains("CN-000001"));
    let one_line = t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        one_line.contains("This credit note corrects invoice INV-000042 of 2026-11-05 (total 307.45 EUR)."),
        "{one_line}"
    );
    assert_row(&t, "Total credited", &["-3.30 EUR"]);
    assert!(one_line.contains("3.30 EUR will be credited to your account"), "{one_line}");
    assert!(!t.contains("Due date") && !t.contains("Payment terms"), "{t}");
    picture(&pdf, 1, "credit-note");
}

#[test]
fn a_logo_that_is_not_an_image_is_refused_with_its_code() {
    let mut doc = contoso();
    doc.issuer.logo_base64 = Some("not base64!".into());
    let e = render_pdf(&doc).expect_err("bad base64");
    assert_eq!(e.code(), "logo_invalid");
    doc.issuer.logo_base64 = Some("aGVsbG8gd29ybGQ=".into());
    let e = render_pdf(&doc).expect_err("not an image");
    assert_eq!(e.code(), "logo_invalid");
    assert!(e.to_string().contains("PNG"), "{e}");
    doc.issuer.logo_base64 = None;
    assert_row(&text(&render(&doc)), "Total due", &["307.45 EUR"]);
}

#[test]
fn currencies_print_their_own_minor_units() {
    let mut doc = contoso();
    doc.currency = be_domain::Currency::parse("JPY").expect("JPY");
    doc.lines.truncate(1);
    doc.lines[0].amount = crate::e("1234567");
    doc.subtotal = crate::e("1234567");
    doc.formulas.clear();
    doc.total = crate::e("1234567");
    let t = text(&render(&doc));
    assert_row(&t, "Contoso Web", &["1,234,567"]);
    assert_row(&t, "Total due", &["1,234,567 JPY"]);
}

#[test]
fn payment_terms_follow_the_dates() {
    let mut doc = contoso();
    doc.due_date = doc.issue_date;
    assert_row(&text(&render(&doc)), "Payment terms", &["Due on receipt"]);
    doc.kind = be_domain::invoicing::DocumentKind::DebitNote;
    doc.due_date = time::macros::date!(2026 - 11 - 19);
    let t = text(&render(&doc));
    assert_row(&t, "Debit note", &[]);
    assert_row(&t, "Payment terms", &["14 days net"]);
    assert!(t.contains("Please pay 307.45 EUR by 2026-11-19."), "{t}");
}

/// A finalized invoice is rendered again by other processes (and checked against its stored
/// SHA-256): the bytes must not depend on a process's hash seeds or memory layout.
#[test]
fn the_bytes_do_not_depend_on_the_process() {
    const OUT: &str = "BE_DOCUMENTS_TEST_PDF_OUT";
    let doc = long(40);
    if let Ok(path) = std::env::var(OUT) {
        std::fs::write(path, render_pdf(&doc).expect("rendered")).expect("written");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut others = vec![];
    for i in 0..2 {
        let path = dir.path().join(format!("child-{i}.pdf"));
        let status = Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "pdf::the_bytes_do_not_depend_on_the_process"])
            .env(OUT, &path)
            .output()
            .expect("child process")
            .status;
        assert!(status.success());
        others.push(std::fs::read(&path).expect("child's PDF"));
    }
    let here = render_pdf(&doc).expect("rendered");
    assert!(others.iter().all(|o| *o == here), "a child process rendered other bytes");
}
