//! An invoice document as HTML, laid out like its PDF: issuer and customer, number (or the number
//! it will take, marked DRAFT), dates, header fields, the lines with the rules' own lines, the
//! subtotal, the formula lines and the total in the currency, exact on hover.

use be_domain::Exact;
use be_domain::invoicing::{InvoiceDocument, InvoiceLine};

use super::super::view::Money;

/// An amount rounded as billed, with the exact value it comes from on hover.
pub(crate) fn billed(amount: Exact, exact: Exact, currency: &str) -> Money {
    let mut m = Money::of(amount, Some(currency));
    m.exact = Money::of(exact, Some(currency)).exact;
    m
}

pub(crate) struct LineRow {
    pub values: Vec<String>,
    pub rule: bool,
    pub amount: Money,
}

pub(crate) struct FormulaRow {
    pub label: String,
    pub formula: String,
    pub adds: bool,
    pub amount: Money,
}

pub(crate) struct Party {
    pub name: String,
    pub address: Vec<String>,
    pub facts: Vec<(&'static str, String)>,
}

/// What the document template shows.
pub(crate) struct DocView {
    pub title: &'static str,
    pub draft: bool,
    pub number: String,
    pub facts: Vec<(String, String)>,
    pub issuer: Party,
    pub customer: Party,
    pub headings: Vec<String>,
    pub lines: Vec<LineRow>,
    pub subtotal: Money,
    pub formulas: Vec<FormulaRow>,
    pub total: Money,
    pub footer: String,
    pub corrects: Option<String>,
}

fn line_row(l: &InvoiceLine, currency: &str) -> LineRow {
    let mut values = l.values.clone();
    if let (Some(rule), Some(first)) = (&l.rule, values.first_mut())
        && first.is_empty()
    {
        first.clone_from(rule);
    }
    if values.is_empty() {
        values.push(l.rule.clone().unwrap_or_default());
    }
    LineRow {
        values,
        rule: l.rule.is_some(),
        amount: billed(l.amount, l.exact, currency),
    }
}

impl DocView {
    /// `number` is the final number, else the one a draft would take (`to_be`).
    pub(crate) fn of(doc: &InvoiceDocument, number: Option<&str>, to_be: Option<&str>) -> Self {
        let currency = doc.currency.code();
        let draft = number.is_none();
        let number = match (number, to_be) {
            (Some(n), _) => n.to_string(),
            (None, Some(n)) => format!("{n} (to be)"),
            (None, None) => "—".into(),
        };
        let mut facts = vec![
            ("Issue date".to_string(), doc.issue_date.to_string()),
            ("Due date".to_string(), doc.due_date.to_string()),
            (
                "Period".to_string(),
                super::range_text(&doc.period_from, &doc.period_to),
            ),
            ("Currency".to_string(), currency.to_string()),
        ];
        facts.extend(doc.header_fields.iter().cloned());
        let headings = if doc.line_headings.is_empty() {
            vec!["Description".to_string()]
        } else {
            doc.line_headings.iter().map(|h| heading(h)).collect()
        };
        DocView {
            title: doc.kind.title(),
            draft,
            number,
            facts,
            issuer: issuer(doc),
            customer: customer(doc),
            headings,
            lines: doc.lines.iter().map(|l| line_row(l, currency)).collect(),
            subtotal: Money::of(doc.subtotal, Some(currency)),
            formulas: doc
                .formulas
                .iter()
                .map(|f| FormulaRow {
                    label: f.label.clone(),
                    formula: f.formula.clone(),
                    adds: f.adds_to_total,
                    amount: Money::of(f.amount, Some(currency)),
                })
                .collect(),
            total: billed(doc.total, doc.exact_total, currency),
            footer: doc.footer.clone(),
            corrects: doc.corrects.as_ref().map(|c| {
                format!(
                    "Corrects invoice {} of {} ({})",
                    c.number,
                    c.issue_date,
                    Money::of(c.total, Some(currency)).text
                )
            }),
        }
    }

    /// Columns the lines table spans before the amount.
    pub(crate) fn span(&self) -> usize {
        self.headings.len()
    }
}

/// A column's name as a heading: `SubAccountName` reads "Sub account name".
fn heading(column: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in column.trim_start_matches("x_").chars() {
        if c.is_uppercase() && prev_lower {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_lower = c.is_lowercase();
    }
    out
}

fn issuer(doc: &InvoiceDocument) -> Party {
    let i = &doc.issuer;
    let mut facts = Vec::new();
    if let Some(t) = &i.tax_id {
        facts.push(("Tax ID", t.clone()));
    }
    if let Some(e) = &i.email {
        facts.push(("E-mail", e.clone()));
    }
    Party {
        name: i.name.clone(),
        address: i.address.clone(),
        facts,
    }
}

fn customer(doc: &InvoiceDocument) -> Party {
    let c = &doc.customer;
    let mut facts = Vec::new();
    if let Some(t) = &c.tax_id {
        facts.push(("Tax ID", t.clone()));
    }
    if let Some(po) = &c.purchase_order {
        facts.push(("Purchase order", po.clone()));
    }
    Party {
        name: c.billing_name.clone(),
        address: c.address.clone(),
        facts,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_read_as_words() {
        assert_eq!(super::heading("SubAccountName"), "Sub account name");
        assert_eq!(super::heading("ServiceName"), "Service name");
        assert_eq!(super::heading("x_CostCenter"), "Cost center");
        assert_eq!(super::heading("tag:team"), "tag:team");
    }
}
