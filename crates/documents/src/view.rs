//! What a document shows, decided in Rust: every text and figure already formatted. The Typst
//! template only lays these strings out, and reads them as data (JSON), never as markup, so a
//! customer named `#set page(...)` prints as written.

use be_domain::invoicing::{DocumentKind, InvoiceDocument, Paper};
use be_domain::{Currency, Exact};
use serde::Serialize;

/// The JSON the template reads (`/data.json`).
#[derive(Debug, Serialize)]
pub(crate) struct View {
    pub paper: &'static str,
    /// The issue date, also the PDF's creation date.
    pub year: i32,
    pub month: u8,
    pub day: u8,
    /// `Invoice`, `Credit note`, `Debit note`.
    pub title: &'static str,
    /// The number, or `DRAFT`.
    pub number: String,
    pub draft: bool,
    /// The PDF's title and the running footer: `Invoice INV-000042 · Contoso Ltd`.
    pub reference: String,
    pub issuer_name: String,
    pub issuer_lines: Vec<String>,
    /// The logo's path in the template's files, when there is one.
    pub logo: Option<&'static str>,
    pub customer_name: String,
    pub customer_lines: Vec<String>,
    /// Label and value, beside the title: dates, period, terms, purchase order, header fields.
    pub facts: Vec<(String, String)>,
    /// For a credit or debit note: which invoice it corrects.
    pub corrects: Option<String>,
    /// Column headings, the amount's last.
    pub headings: Vec<String>,
    /// One row of cells per line, the amount last.
    pub rows: Vec<Vec<String>>,
    /// Subtotal and the formula lines that add to it.
    pub totals: Vec<(String, String)>,
    /// `Total due` and its amount.
    pub total: (String, String),
    /// Formula lines shown for information only (a profit figure).
    pub notes: Vec<(String, String)>,
    /// The sentence that asks for payment (or announces the credit).
    pub payment: String,
    pub exact: String,
    pub footer: String,
    pub sources: Vec<String>,
}

/// `1,234.50 EUR`; `JPY` has no decimals.
pub(crate) fn money(amount: Exact, currency: Currency) -> String {
    format!("{} {}", number(amount, currency), currency.code())
}

/// `1,234.50`: grouped digits, rounded half-even to the currency's minor units.
pub(crate) fn number(amount: Exact, currency: Currency) -> String {
    // `display_in` writes `EUR 1,234.50`; the code is a word of its own.
    let text = amount.display_in(Some(currency));
    match text.split_once(' ') {
        Some((_, n)) => n.to_string(),
        None => text,
    }
}

/// `2026-11-05`: the same in every country.
pub(crate) fn date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The printed number: the number, or `DRAFT` before finalization.
pub(crate) fn number_or_draft(doc: &InvoiceDocument) -> String {
    doc.number.clone().unwrap_or_else(|| "DRAFT".into())
}

/// The line columns: the template's headings (at least one), as wide as the widest line.
pub(crate) fn line_headings(doc: &InvoiceDocument) -> Vec<String> {
    let width = doc
        .lines
        .iter()
        .map(|l| l.values.len())
        .max()
        .unwrap_or(0)
        .max(doc.line_headings.len())
        .max(1);
    (0..width)
        .map(|i| match doc.line_headings.get(i) {
            Some(h) => h.clone(),
            None if i == 0 => "Description".into(),
            None => String::new(),
        })
        .collect()
}

/// A line's values padded to the headings' width.
pub(crate) fn line_values(values: &[String], width: usize) -> Vec<String> {
    (0..width)
        .map(|i| values.get(i).cloned().unwrap_or_default())
        .collect()
}

pub(crate) fn view(doc: &InvoiceDocument, logo: Option<&'static str>) -> View {
    let c = doc.currency;
    let title = doc.kind.title();
    let number = number_or_draft(doc);
    let headings = line_headings(doc);
    let rows = doc
        .lines
        .iter()
        .map(|l| {
            let mut row = line_values(&l.values, headings.len());
            // A rule's line names its rule in its values; say it when they do not.
            if let Some(rule) = &l.rule
                && !l.values.iter().any(|v| v == rule)
            {
                row[0] = format!("{} ({rule})", row[0]).trim_start().to_string();
            }
            row.push(self::number(l.amount, c));
            row
        })
        .collect();
    let mut all_headings = headings;
    all_headings.push(format!("Amount ({})", c.code()));
    View {
        paper: match doc.paper {
            Paper::A4 => "a4",
            Paper::Letter => "us-letter",
        },
        year: doc.issue_date.year(),
        month: u8::from(doc.issue_date.month()),
        day: doc.issue_date.day(),
        title,
        reference: format!("{title} {number} · {}", doc.customer.billing_name),
        draft: doc.number.is_none(),
        number,
        issuer_name: doc.issuer.name.clone(),
        issuer_lines: issuer_lines(doc),
        logo,
        customer_name: doc.customer.billing_name.clone(),
        customer_lines: customer_lines(doc),
        facts: facts(doc),
        corrects: doc.corrects.as_ref().map(|k| {
            format!(
                "This {} corrects invoice {} of {} (total {}).",
                title.to_lowercase(),
                k.number,
                date(k.issue_date),
                money(k.total, c)
            )
        }),
        headings: all_headings,
        rows,
        totals: totals(doc),
        total: (
            match doc.kind {
                DocumentKind::CreditNote => "Total credited".into(),
                DocumentKind::Invoice | DocumentKind::DebitNote => "Total due".into(),
            },
            money(doc.total, c),
        ),
        notes: doc
            .formulas
            .iter()
            .filter(|f| !f.adds_to_total)
            .map(|f| (f.label.clone(), money(f.amount, c)))
            .collect(),
        payment: payment(doc),
        exact: format!(
            "The lines before rounding add up to {} {}; each line is rounded half-even to the currency's minor unit and the total is the sum of the rounded lines.",
            doc.exact_total,
            c.code()
        ),
        footer: doc.footer.clone(),
        sources: doc
            .sources
            .periods
            .iter()
            .map(|p| {
                format!(
                    "{}: rating run {}, pricing version {}, inputs SHA-256 {}",
                    p.period, p.rating_run, p.pricing_version, p.inputs_sha256
                )
            })
            .collect(),
    }
}

fn issuer_lines(doc: &InvoiceDocument) -> Vec<String> {
    let i = &doc.issuer;
    let mut out = i.address.clone();
    if let Some(t) = &i.tax_id {
        out.push(format!("Tax ID {t}"));
    }
    if let Some(e) = &i.email {
        out.push(e.clone());
    }
    out
}

fn customer_lines(doc: &InvoiceDocument) -> Vec<String> {
    let c = &doc.customer;
    let mut out = c.address.clone();
    if let Some(t) = &c.tax_id {
        out.push(format!("Tax ID {t}"));
    }
    let emails: Vec<String> = c.emails.iter().map(|e| e.to_string()).collect();
    if !emails.is_empty() {
        out.push(emails.join(", "));
    }
    out
}

fn facts(doc: &InvoiceDocument) -> Vec<(String, String)> {
    let period = if doc.period_from == doc.period_to {
        doc.period_from.clone()
    } else {
        format!("{} to {}", doc.period_from, doc.period_to)
    };
    let mut out = vec![("Issue date".to_string(), date(doc.issue_date))];
    // A credit note asks for no payment: no due date, no terms.
    if doc.kind != DocumentKind::CreditNote {
        out.push(("Due date".into(), date(doc.due_date)));
    }
    out.push(("Period".into(), period));
    if doc.kind != DocumentKind::CreditNote {
        out.push(("Payment terms".into(), terms(doc)));
    }
    if let Some(po) = &doc.customer.purchase_order {
        out.push(("Purchase order".into(), po.clone()));
    }
    out.extend(doc.header_fields.iter().cloned());
    out
}

fn terms(doc: &InvoiceDocument) -> String {
    match (doc.due_date - doc.issue_date).whole_days() {
        d if d <= 0 => "Due on receipt".into(),
        1 => "1 day net".into(),
        d => format!("{d} days net"),
    }
}

fn totals(doc: &InvoiceDocument) -> Vec<(String, String)> {
    let c = doc.currency;
    let mut out = vec![("Subtotal".to_string(), money(doc.subtotal, c))];
    out.extend(
        doc.formulas
            .iter()
            .filter(|f| f.adds_to_total)
            .map(|f| (f.label.clone(), money(f.amount, c))),
    );
    out
}

fn payment(doc: &InvoiceDocument) -> String {
    let total = money(doc.total, doc.currency);
    match doc.kind {
        DocumentKind::CreditNote => {
            // A credit note's total may be stored negative; the sentence says how much.
            let credited = if doc.total.is_negative() {
                Exact::ZERO.checked_sub(doc.total).unwrap_or(doc.total)
            } else {
                doc.total
            };
            let credited = money(credited, doc.currency);
            format!("{credited} will be credited to your account; no payment is due.")
        }
        DocumentKind::Invoice | DocumentKind::DebitNote => {
            format!("Please pay {total} by {}.", date(doc.due_date))
        }
    }
}
