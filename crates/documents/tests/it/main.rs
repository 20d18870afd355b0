//! be-documents: the PDF read back with poppler (pdftotext, pdfinfo, pdftoppm) and the CSV read
//! back with the csv crate. Pictures of the pages land in `tests/pictures/`.

mod csv;
mod pdf;

use base64::Engine as _;
use be_domain::invoicing::{
    CorrectedInvoice, Customer, DocumentKind, FormulaLine, InvoiceDocument, InvoiceLine,
    InvoiceSources, Issuer, Paper, SourcePeriod,
};
use be_domain::{Currency, Email, Exact};

pub fn e(s: &str) -> Exact {
    Exact::parse(s).expect("exact")
}

fn line(values: &[&str], rule: Option<&str>, exact: &str) -> InvoiceLine {
    InvoiceLine {
        values: values.iter().map(|v| v.to_string()).collect(),
        rule: rule.map(String::from),
        amount: e(exact).round(2),
        exact: e(exact),
    }
}

pub fn logo_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode(include_bytes!("logo.png"))
}

/// The worked example's Contoso invoice (engine example A), with a VAT line and a profit figure.
pub fn contoso() -> InvoiceDocument {
    InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: Some("INV-000042".into()),
        issue_date: time::macros::date!(2026 - 11 - 05),
        due_date: time::macros::date!(2026 - 12 - 05),
        period_from: "2026-10".into(),
        period_to: "2026-10".into(),
        currency: Currency::parse("EUR").expect("EUR"),
        issuer: Issuer {
            name: "Northwind Cloud Services GmbH".into(),
            address: vec!["Hafenstraße 12".into(), "20457 Hamburg".into(), "Germany".into()],
            tax_id: Some("DE123456789".into()),
            email: Some("billing@northwind.example".into()),
            logo_base64: Some(logo_base64()),
        },
        customer: Customer {
            key: "Contoso".into(),
            billing_name: "Contoso Ltd".into(),
            address: vec!["1 Contoso Way".into(), "Redmond, WA 98052".into(), "United States".into()],
            emails: vec![Email::parse("ap@contoso.example").expect("email")],
            tax_id: Some("US-98-7654321".into()),
            purchase_order: Some("PO-7781".into()),
            payment_terms_days: None,
        },
        header_fields: vec![("Contract".into(), "MSA-2024-17".into())],
        line_headings: vec!["Sub-account".into(), "Service".into()],
        lines: vec![
            line(&["Contoso Web", "Virtual Machines"], None, "110"),
            line(&["Contoso Web", "Storage"], None, "52.25"),
            line(&["Contoso Batch", "Virtual Machines"], None, "77"),
            line(&["Support fee", ""], Some("Support fee"), "16.9625"),
        ],
        subtotal: e("256.21"),
        formulas: vec![
            FormulaLine {
                label: "VAT 20%".into(),
                formula: "BilledCost * 0.2".into(),
                amount: e("51.24"),
                adds_to_total: true,
            },
            FormulaLine {
                label: "Profit".into(),
                formula: "BilledCost - ProviderCost".into(),
                amount: e("-253.79"),
                adds_to_total: false,
            },
        ],
        total: e("307.45"),
        exact_total: e("256.2125"),
        footer: "Thank you for your business. Bank: DE89 3704 0044 0532 0130 00 (BIC COBADEFFXXX)."
            .into(),
        paper: Paper::A4,
        corrects: None,
        sources: InvoiceSources {
            periods: vec![SourcePeriod {
                period: "2026-10".into(),
                rating_run: "7f1c2a9e-3b4d-4e5f-8a6b-1c2d3e4f5a6b".into(),
                pricing_version: 3,
                inputs_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            }],
        },
        measures: Default::default(),
    }
}

/// A long invoice: `n` lines of one sub-account and service each.
pub fn long(n: usize) -> InvoiceDocument {
    let mut doc = contoso();
    doc.lines = (1..=n)
        .map(|i| {
            let exact = format!("{}.{:04}", 1000 + i * 37, (i * 1234) % 10000);
            line(&[&format!("sub-{i:04}"), &format!("Service {i}")], None, &exact)
        })
        .collect();
    let sum: Exact = doc.lines.iter().map(|l| l.amount).sum();
    doc.subtotal = sum;
    doc.exact_total = doc.lines.iter().map(|l| l.exact).sum();
    doc.formulas.clear();
    doc.total = sum;
    doc
}

/// A credit note correcting INV-000042.
pub fn credit_note() -> InvoiceDocument {
    let mut doc = contoso();
    doc.kind = DocumentKind::CreditNote;
    doc.number = Some("CN-000001".into());
    doc.issue_date = time::macros::date!(2026 - 12 - 10);
    doc.due_date = time::macros::date!(2026 - 12 - 10);
    doc.lines = vec![line(&["Contoso Web", "Storage"], None, "-2.75")];
    doc.subtotal = e("-2.75");
    doc.formulas = vec![FormulaLine {
        label: "VAT 20%".into(),
        formula: "BilledCost * 0.2".into(),
        amount: e("-0.55"),
        adds_to_total: true,
    }];
    doc.total = e("-3.30");
    doc.exact_total = e("-2.75");
    doc.corrects = Some(CorrectedInvoice {
        number: "INV-000042".into(),
        issue_date: time::macros::date!(2026 - 11 - 05),
        total: e("307.45"),
    });
    doc
}

/// A euro amount as the PDF's totals print it (`1,234.50 EUR`).
pub fn view_money(amount: Exact) -> String {
    format!("{} EUR", amount.display_in(None))
}
