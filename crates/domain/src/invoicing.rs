//! Invoicing's vocabulary: templates (how rated costs become invoices), formula fields, customers
//! (who is billed for a grouping value), and the rounding rule: each line half-even to the
//! currency's minor unit, the total the sum of the rounded lines (engine.md section 4).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::pricing::Name;
use crate::{Dimension, Email, Exact, FieldError};

/// The cost an invoice bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceMeasure {
    BilledCost,
    EffectiveCost,
    ListCost,
}

impl InvoiceMeasure {
    pub fn column(self) -> &'static str {
        match self {
            Self::BilledCost => "BilledCost",
            Self::EffectiveCost => "EffectiveCost",
            Self::ListCost => "ListCost",
        }
    }
}

/// Paper size of the PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    A4,
    Letter,
}

/// What an invoice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    /// Gives money back: a later rating of a locked period billed less.
    CreditNote,
    /// Asks for more: a later rating billed more.
    DebitNote,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::CreditNote => "credit_note",
            Self::DebitNote => "debit_note",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "invoice" => Self::Invoice,
            "credit_note" => Self::CreditNote,
            "debit_note" => Self::DebitNote,
            _ => return None,
        })
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Invoice => "Invoice",
            Self::CreditNote => "Credit note",
            Self::DebitNote => "Debit note",
        }
    }
}

/// Where an invoice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceState {
    /// Part of a draft run: may still change.
    Draft,
    /// Numbered and immutable.
    Final,
    /// A draft run discarded.
    Discarded,
}

impl InvoiceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Final => "final",
            Self::Discarded => "discarded",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "final" => Self::Final,
            "discarded" => Self::Discarded,
            _ => return None,
        })
    }
}

/// Why a period is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockReason {
    /// Its invoices were finalized.
    Invoiced,
    /// Locked by a person.
    Manual,
    /// The configured number of days after the provider closed the month passed.
    ProviderClosed,
}

impl LockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoiced => "invoiced",
            Self::Manual => "manual",
            Self::ProviderClosed => "provider_closed",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "invoiced" => Self::Invoiced,
            "manual" => Self::Manual,
            "provider_closed" => Self::ProviderClosed,
            _ => return None,
        })
    }
}

/// Where an e-mail delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// The server accepted the message.
    Sent,
    /// Every attempt failed; shown until sent again by hand.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A formula over the invoice's measures and numbers: `BilledCost * 0.2`,
/// `BilledCost - ProviderCost`, `(ListCost - BilledCost) / ListCost * 100`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    source: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Number(rust_decimal::Decimal),
    Measure(&'static str),
    Neg(Box<Expr>),
    Bin(Box<Expr>, char, Box<Expr>),
}

/// Measures a formula can name.
pub const FORMULA_MEASURES: [&str; 5] = [
    "ProviderCost",
    "ListCost",
    "BilledCost",
    "EffectiveCost",
    "Profit",
];

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            left = Expr::Bin(Box::new(left), op as char, Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.factor()?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            left = Expr::Bin(Box::new(left), op as char, Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(b'-') => {
                self.i += 1;
                Ok(Expr::Neg(Box::new(self.factor()?)))
            }
            Some(b'(') => {
                self.i += 1;
                let e = self.expr()?;
                if self.peek() != Some(b')') {
                    return Err(format!(
                        "a closing parenthesis is missing at position {}",
                        self.i + 1
                    ));
                }
                self.i += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.')
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
                rust_decimal::Decimal::from_str_exact(text)
                    .map(Expr::Number)
                    .map_err(|_| format!("{text:?} is not a number"))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_alphanumeric() {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
                FORMULA_MEASURES
                    .iter()
                    .find(|m| m.eq_ignore_ascii_case(word))
                    .map(|m| Expr::Measure(m))
                    .ok_or_else(|| {
                        format!("{word:?} is not a measure: {}", FORMULA_MEASURES.join(", "))
                    })
            }
            Some(c) => Err(format!(
                "unexpected {:?} at position {}",
                c as char,
                self.i + 1
            )),
            None => Err("the formula ends too early".into()),
        }
    }
}

impl Formula {
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let mut p = Parser {
            s: raw.as_bytes(),
            i: 0,
        };
        let expr = p.expr().and_then(|e| {
            if p.peek().is_some() {
                Err(format!("unexpected text at position {}", p.i + 1))
            } else {
                Ok(e)
            }
        });
        match expr {
            Ok(expr) => Ok(Self {
                source: raw.trim().to_string(),
                expr,
            }),
            Err(why) => Err(FieldError::new(
                field.to_string(),
                "formula_invalid",
                format!(
                    "The formula {raw:?} cannot be read: {why}. Use measures, numbers, + - * / and parentheses."
                ),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The value for measures given by `measure`, exact at 24 places (division rounds half-even
    /// there); `None` on division by zero or a result beyond the stored range.
    pub fn evaluate(&self, measure: &dyn Fn(&str) -> Exact) -> Option<Exact> {
        eval(&self.expr, measure).and_then(to_exact)
    }
}

/// Work in `rust_decimal` (28 digits) from exact inputs; formula results are invoice figures.
fn eval(e: &Expr, m: &dyn Fn(&str) -> Exact) -> Option<rust_decimal::Decimal> {
    use rust_decimal::Decimal;
    Some(match e {
        Expr::Number(n) => *n,
        Expr::Measure(name) => Decimal::from_str_exact(&m(name).to_string())
            .ok()
            .or_else(|| Decimal::from_str_exact(&m(name).round(12).to_string()).ok())?,
        Expr::Neg(x) => -eval(x, m)?,
        Expr::Bin(a, op, b) => {
            let (a, b) = (eval(a, m)?, eval(b, m)?);
            match op {
                '+' => a.checked_add(b)?,
                '-' => a.checked_sub(b)?,
                '*' => a.checked_mul(b)?,
                _ => a.checked_div(b)?,
            }
        }
    })
}

fn to_exact(d: rust_decimal::Decimal) -> Option<Exact> {
    let rounded = d.round_dp_with_strategy(24, rust_decimal::RoundingStrategy::MidpointNearestEven);
    Exact::parse(&rounded.normalize().to_string())
}

impl Serialize for Formula {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Formula {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?, "formula").map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A line computed from the invoice's totals (a tax, a profit figure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormulaField {
    pub label: String,
    pub formula: Formula,
    /// A tax adds to what is due; a profit figure is only shown.
    pub adds_to_total: bool,
}

/// Who issues the invoices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    pub name: String,
    /// Lines of the postal address.
    pub address: Vec<String>,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// A PNG or SVG logo, base64 (at most 256 KiB decoded).
    #[serde(default)]
    pub logo_base64: Option<String>,
}

/// How rated costs become invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceTemplate {
    pub name: Name,
    /// One invoice per value of this dimension (default: the family).
    pub invoice_by: Dimension,
    /// The lines: one per combination of these dimensions (the lines rules add are their own lines).
    pub line_by: Vec<Dimension>,
    pub measure: InvoiceMeasure,
    #[serde(default)]
    pub formulas: Vec<FormulaField>,
    /// Extra fields shown in the header (label, value), e.g. a contract reference.
    #[serde(default)]
    pub header_fields: Vec<(String, String)>,
    #[serde(default)]
    pub footer: String,
    pub issuer: Issuer,
    pub paper: Paper,
    pub show_zero_lines: bool,
    /// Number prefixes: invoices, credit notes, debit notes (`INV-2026-0001`).
    pub series: String,
    pub credit_series: String,
    pub debit_series: String,
    /// Days after the issue date when payment is due (a customer's own terms win).
    pub payment_terms_days: u32,
}

impl InvoiceTemplate {
    /// The out-of-the-box template (copied, never edited).
    pub fn standard() -> Self {
        Self {
            name: Name::parse("Standard", "name").expect("a valid name"),
            invoice_by: Dimension::Family,
            line_by: vec![
                Dimension::Focus("SubAccountName".into()),
                Dimension::Focus("ServiceName".into()),
            ],
            measure: InvoiceMeasure::BilledCost,
            formulas: vec![],
            header_fields: vec![],
            footer: "Thank you for your business.".into(),
            issuer: Issuer {
                name: "Your company".into(),
                ..Issuer::default()
            },
            paper: Paper::A4,
            show_zero_lines: false,
            series: "INV".into(),
            credit_series: "CN".into(),
            debit_series: "DN".into(),
            payment_terms_days: 30,
        }
    }

    /// Check what parsing cannot: series, logo size, labels.
    pub fn validated(self) -> Result<Self, Vec<FieldError>> {
        let mut out = vec![];
        for (field, s) in [
            ("series", &self.series),
            ("credit_series", &self.credit_series),
            ("debit_series", &self.debit_series),
        ] {
            if s.is_empty()
                || s.len() > 12
                || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                out.push(FieldError::new(
                    field,
                    "series_invalid",
                    "A number series is 1 to 12 letters, digits or dashes, such as INV.",
                ));
            }
        }
        if self.series == self.credit_series
            || self.series == self.debit_series
            || self.credit_series == self.debit_series
        {
            out.push(FieldError::new(
                "credit_series",
                "series_shared",
                "Invoices, credit notes and debit notes need three different series.",
            ));
        }
        if self.line_by.len() > 4 {
            out.push(FieldError::new(
                "line_by",
                "line_by_too_deep",
                "Lines group by at most 4 dimensions.",
            ));
        }
        for (i, f) in self.formulas.iter().enumerate() {
            if f.label.trim().is_empty() || f.label.chars().count() > 80 {
                out.push(FieldError::new(
                    format!("formulas[{i}].label"),
                    "label_invalid",
                    "A formula's label is 1 to 80 characters.",
                ));
            }
        }
        if let Some(logo) = &self.issuer.logo_base64
            && logo.len() > 350_000
        {
            out.push(FieldError::new(
                "issuer.logo_base64",
                "logo_too_large",
                "The logo is at most 256 KiB.",
            ));
        }
        if self.payment_terms_days > 365 {
            out.push(FieldError::new(
                "payment_terms_days",
                "terms_invalid",
                "Payment terms are 0 to 365 days.",
            ));
        }
        if out.is_empty() { Ok(self) } else { Err(out) }
    }
}

/// Who is billed for a grouping value (a family's name, by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The grouping value this customer stands for.
    pub key: String,
    pub billing_name: String,
    #[serde(default)]
    pub address: Vec<String>,
    #[serde(default)]
    pub emails: Vec<Email>,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub purchase_order: Option<String>,
    #[serde(default)]
    pub payment_terms_days: Option<u32>,
}

/// A finished invoice, credit note or debit note: everything its PDF, CSV and JSON show. Frozen
/// at finalization (stored as JSON), so rendering it again gives the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDocument {
    pub kind: DocumentKind,
    /// `INV-000042`; `None` while a draft (previews show "Draft").
    pub number: Option<String>,
    #[serde(with = "iso_date")]
    pub issue_date: time::Date,
    #[serde(with = "iso_date")]
    pub due_date: time::Date,
    /// The billed periods, first and last (`2026-10`).
    pub period_from: String,
    pub period_to: String,
    pub currency: crate::Currency,
    pub issuer: Issuer,
    pub customer: Customer,
    /// Label and value pairs shown under the title (template fields, then the run's parameters).
    pub header_fields: Vec<(String, String)>,
    /// The headings of the line columns (the template's line dimensions), e.g. sub-account, service.
    pub line_headings: Vec<String>,
    pub lines: Vec<InvoiceLine>,
    /// The sum of the rounded lines.
    pub subtotal: Exact,
    /// Formula fields, each rounded like a line.
    pub formulas: Vec<FormulaLine>,
    /// What is due: the subtotal plus the formula lines that add to it.
    pub total: Exact,
    /// The exact sum of the lines before rounding, kept on record.
    pub exact_total: Exact,
    pub footer: String,
    pub paper: Paper,
    /// For a credit or debit note: the invoice it corrects.
    pub corrects: Option<CorrectedInvoice>,
    /// Where the figures came from.
    pub sources: InvoiceSources,
    /// The exact sums of every measure over the invoice's rows (what formulas and later
    /// corrections read; not printed).
    #[serde(default)]
    pub measures: std::collections::BTreeMap<String, Exact>,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// One value per line heading (sub-account, service); a rule's line names the rule.
    pub values: Vec<String>,
    /// The rule that made this line (a fee, a discount); `None` for rated cost.
    pub rule: Option<String>,
    /// Rounded half-even to the currency's minor unit.
    pub amount: Exact,
    /// Before rounding.
    pub exact: Exact,
}

/// A formula field's value on an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormulaLine {
    pub label: String,
    pub formula: String,
    pub amount: Exact,
    pub adds_to_total: bool,
}

/// The invoice a credit or debit note corrects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectedInvoice {
    pub number: String,
    #[serde(with = "iso_date")]
    pub issue_date: time::Date,
    pub total: Exact,
}

/// The rating an invoice was made from, per period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceSources {
    pub periods: Vec<SourcePeriod>,
}

/// One rated period behind an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePeriod {
    /// `2026-10`.
    pub period: String,
    /// The rating run (its ID).
    pub rating_run: String,
    /// The configuration version it rated with.
    pub pricing_version: i32,
    /// SHA-256 of the input files as rated (their paths, sizes and versions).
    pub inputs_sha256: String,
}

// Dates as `2026-11-05` in the stored document and the API.
// Dates as `YYYY-MM-DD` in documents and views (`#[serde(with = "be_domain::invoicing::iso_date")]`).
time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

/// The number of the `n`th document of a series: `INV-000042`.
pub fn document_number(series: &str, n: i64) -> String {
    format!("{series}-{n:06}")
}

/// A line's amount for the invoice: half-even to the currency's minor units.
pub fn round_line(exact: Exact, minor_units: u32) -> Exact {
    exact.round(minor_units)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Exact {
        Exact::parse(s).expect("exact")
    }

    #[test]
    fn formulas_over_measures() {
        let m = |name: &str| match name {
            "BilledCost" => e("256.2125"),
            "ProviderCost" => e("510"),
            _ => Exact::ZERO,
        };
        assert_eq!(
            Formula::parse("BilledCost * 0.2", "f")
                .expect("f")
                .evaluate(&m),
            Some(e("51.2425"))
        );
        assert_eq!(
            Formula::parse("billedcost - ProviderCost", "f")
                .expect("f")
                .evaluate(&m),
            Some(e("-253.7875"))
        );
        assert_eq!(
            Formula::parse("-(BilledCost - 6.2125) / 2", "f")
                .expect("f")
                .evaluate(&m),
            Some(e("-125"))
        );
        assert_eq!(
            Formula::parse("BilledCost / ListCost", "f")
                .expect("f")
                .evaluate(&m),
            None,
            "division by zero"
        );
        for bad in ["BilledCost *", "Tax * 2", "(1 + 2", "1 + 2)", "3 % 2", ""] {
            assert_eq!(
                Formula::parse(bad, "f").expect_err(bad).code,
                "formula_invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn the_standard_template_is_valid_and_rounds_half_even() {
        assert!(InvoiceTemplate::standard().validated().is_ok());
        assert_eq!(round_line(e("16.9625"), 2), e("16.96"));
        assert_eq!(round_line(e("0.125"), 2), e("0.12"));
        let mut t = InvoiceTemplate::standard();
        t.credit_series = "INV".into();
        assert_eq!(t.validated().expect_err("shared")[0].code, "series_shared");
    }
}
