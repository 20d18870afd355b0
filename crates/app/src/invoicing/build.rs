//! From rated sums to invoice documents (engine.md section 4): one invoice per value of the
//! template's grouping and currency; one line per combination of the line dimensions, and one per
//! rule that made new lines (named after the rule); each line rounded half-even to the currency's
//! minor unit, the subtotal the sum of the rounded lines, the exact total kept beside it.
//! Formula fields see the template's measure as the subtotal shown, and the other measures as the
//! invoice's exact sums; each is rounded like a line.

use std::collections::BTreeMap;

use be_domain::invoicing::{
    Customer, DocumentKind, FORMULA_MEASURES, FormulaLine, InvoiceDocument, InvoiceLine, InvoiceSources, InvoiceTemplate, round_line,
};
use be_domain::{BillingPeriod, Currency, Dimension, Exact};

use super::customers::customer_for;
use crate::rating::GroupedRow;
use crate::{AppError, Result};

/// The rated column naming the rule that made a new line (null on rated rows).
pub(crate) const RULE_COLUMN: &str = "x_RuleId";

/// The pivot an invoice run reads: the grouping, the line dimensions, the rule.
pub(crate) fn pivot_dimensions(t: &InvoiceTemplate) -> Vec<Dimension> {
    std::iter::once(t.invoice_by.clone())
        .chain(t.line_by.iter().cloned())
        .chain(std::iter::once(Dimension::Extension(RULE_COLUMN.into())))
        .collect()
}

/// The sums an invoice run reads: every measure a formula may name (the template's is one).
pub(crate) fn pivot_sums() -> Vec<String> {
    FORMULA_MEASURES.iter().map(|m| m.to_string()).collect()
}

/// What is shown when a line's dimension has no value.
pub(crate) const NO_VALUE: &str = "(none)";

/// Everything a run decides besides the rated sums.
pub(crate) struct Context<'a> {
    pub template: &'a InvoiceTemplate,
    pub customers: &'a BTreeMap<String, Customer>,
    /// Rule ID to rule name.
    pub rule_names: &'a BTreeMap<String, String>,
    pub issue_date: time::Date,
    pub from: BillingPeriod,
    pub to: BillingPeriod,
    /// The run's own header fields (after the template's).
    pub parameters: &'a [(String, String)],
    pub sources: &'a InvoiceSources,
    /// The currency of rows that name none.
    pub default_currency: Currency,
}

/// A line's identity on an invoice: its dimension values, or the rule that made it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LineKey {
    Cost(Vec<String>),
    Rule(String),
}

impl LineKey {
    pub(crate) fn of(line: &InvoiceLine) -> Self {
        match &line.rule {
            Some(rule) => Self::Rule(rule.clone()),
            None => Self::Cost(line.values.clone()),
        }
    }
}

/// One invoice's sums before they become a document.
#[derive(Default)]
pub(crate) struct Sums {
    pub lines: BTreeMap<LineKey, Exact>,
    pub measures: BTreeMap<String, Exact>,
}

/// The invoiced groups, by (grouping value, currency); rows without a grouping value apart.
pub(crate) struct Grouped {
    pub invoices: BTreeMap<(String, Currency), Sums>,
    pub uninvoiced: Vec<GroupedRow>,
}

fn add<K: Ord>(map: &mut BTreeMap<K, Exact>, key: K, v: Exact) -> Result<()> {
    let slot = map.entry(key).or_default();
    *slot = slot.checked_add(v).ok_or_else(|| AppError::internal(std::io::Error::other("an invoice sum exceeds 14 integral digits")))?;
    Ok(())
}

pub(crate) fn currency_of(row: &GroupedRow, default: Currency) -> Result<Currency> {
    match row.currency.as_deref().filter(|c| !c.is_empty()) {
        None => Ok(default),
        Some(c) => Currency::parse(c).map_err(|_| AppError::Conflict {
            code: "currency_unknown",
            field: None,
            message: format!("Rated costs are in {c:?}, which is not an ISO 4217 currency; invoices cannot round them."),
        }),
    }
}

/// Sort the pivot's rows into invoices and lines.
pub(crate) fn group(ctx: &Context<'_>, rows: &[GroupedRow]) -> Result<Grouped> {
    let depth = ctx.template.line_by.len();
    let measure = ctx.template.measure.column();
    let mut out = Grouped { invoices: BTreeMap::new(), uninvoiced: vec![] };
    for row in rows {
        let Some(value) = row.keys.first().cloned().flatten() else {
            out.uninvoiced.push(row.clone());
            continue;
        };
        let sums = out.invoices.entry((value, currency_of(row, ctx.default_currency)?)).or_default();
        let key = match row.keys.get(depth + 1).cloned().flatten() {
            Some(rule) => LineKey::Rule(ctx.rule_names.get(&rule).cloned().unwrap_or(rule)),
            None => LineKey::Cost(row.keys[1..=depth].iter().map(|v| v.clone().unwrap_or_else(|| NO_VALUE.into())).collect()),
        };
        add(&mut sums.lines, key, row.sums.get(measure).copied().unwrap_or_default())?;
        for (m, v) in &row.sums {
            add(&mut sums.measures, m.clone(), *v)?;
        }
    }
    Ok(out)
}

/// The lines of an invoice from exact sums: rounded, zero ones left out unless asked for.
pub(crate) fn lines_of(t: &InvoiceTemplate, minor: u32, sums: &BTreeMap<LineKey, Exact>) -> Vec<InvoiceLine> {
    sums.iter()
        .map(|(key, exact)| {
            let (values, rule) = match key {
                LineKey::Cost(values) => (values.clone(), None),
                LineKey::Rule(name) => {
                    let mut values = vec![String::new(); t.line_by.len()];
                    values[0] = name.clone();
                    (values, Some(name.clone()))
                }
            };
            InvoiceLine { values, rule, amount: round_line(*exact, minor), exact: *exact }
        })
        .filter(|l| t.show_zero_lines || !l.amount.is_zero())
        .collect()
}

/// The formula lines, the measures as a formula sees them.
pub(crate) fn formulas_of(t: &InvoiceTemplate, minor: u32, subtotal: Exact, measures: &BTreeMap<String, Exact>) -> Vec<FormulaLine> {
    let measure = t.measure.column();
    let value = |name: &str| if name == measure { subtotal } else { measures.get(name).copied().unwrap_or_default() };
    t.formulas
        .iter()
        .map(|f| FormulaLine {
            label: f.label.clone(),
            formula: f.formula.to_string(),
            // A division by zero (a margin on nothing) shows zero rather than failing the run.
            amount: round_line(f.formula.evaluate(&value).unwrap_or_default(), minor),
            adds_to_total: f.adds_to_total,
        })
        .collect()
}

/// Sum of exact amounts; amounts on an invoice stay far below the 14 digits a sum may hold.
pub(crate) fn sum(values: impl Iterator<Item = Exact>) -> Exact {
    values.sum()
}

/// The document of one invoice (or note) from its lines.
pub(crate) fn document(
    ctx: &Context<'_>,
    kind: DocumentKind,
    key: &str,
    currency: Currency,
    lines: Vec<InvoiceLine>,
    exact_total: Exact,
    measures: &BTreeMap<String, Exact>,
) -> InvoiceDocument {
    let t = ctx.template;
    let minor = currency.minor_units();
    let customer = customer_for(ctx.customers, key);
    let subtotal = sum(lines.iter().map(|l| l.amount));
    let formulas = formulas_of(t, minor, subtotal, measures);
    let total = sum(std::iter::once(subtotal).chain(formulas.iter().filter(|f| f.adds_to_total).map(|f| f.amount)));
    let terms = customer.payment_terms_days.unwrap_or(t.payment_terms_days);
    InvoiceDocument {
        kind,
        number: None,
        issue_date: ctx.issue_date,
        due_date: ctx.issue_date + time::Duration::days(i64::from(terms)),
        period_from: ctx.from.key(),
        period_to: ctx.to.key(),
        currency,
        issuer: t.issuer.clone(),
        customer,
        header_fields: t.header_fields.iter().chain(ctx.parameters.iter()).cloned().collect(),
        line_headings: t.line_by.iter().map(Dimension::label).collect(),
        lines,
        subtotal,
        formulas,
        total,
        exact_total,
        footer: t.footer.clone(),
        paper: t.paper,
        corrects: None,
        sources: ctx.sources.clone(),
        measures: measures.clone(),
    }
}

/// Every invoice of a run, in order of grouping value and currency.
pub(crate) fn invoices(ctx: &Context<'_>, grouped: &Grouped) -> Vec<InvoiceDocument> {
    grouped
        .invoices
        .iter()
        .map(|((key, currency), sums)| {
            let lines = lines_of(ctx.template, currency.minor_units(), &sums.lines);
            let exact_total = sum(sums.lines.values().copied());
            document(ctx, DocumentKind::Invoice, key, *currency, lines, exact_total, &sums.measures)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Exact {
        Exact::parse(s).expect("exact")
    }

    fn row(keys: [Option<&str>; 4], billed: &str, provider: &str) -> GroupedRow {
        GroupedRow {
            keys: keys.iter().map(|k| k.map(str::to_string)).collect(),
            currency: Some("USD".into()),
            rows: 1,
            sums: [("BilledCost".to_string(), e(billed)), ("ProviderCost".to_string(), e(provider))].into_iter().collect(),
        }
    }

    /// The worked example's rated sums (example-expected.md, section A).
    fn example() -> Vec<GroupedRow> {
        vec![
            row([Some("Contoso"), Some("Contoso Web"), Some("Virtual Machines"), None], "110", "100"),
            row([Some("Contoso"), Some("Contoso Web"), Some("Storage"), None], "52.25", "50"),
            row([Some("Contoso"), Some("Contoso Batch"), Some("Virtual Machines"), None], "77", "360"),
            row([Some("Contoso"), None, None, Some("rule-support")], "16.9625", "0"),
            row([Some("Fabrikam"), Some("Fabrikam Data"), Some("SQL Database"), None], "160", "200"),
            row([Some("Fabrikam"), Some("Fabrikam Data"), Some("Azure Credits"), None], "0", "-20"),
            row([Some("Fabrikam"), Some("Fabrikam Data"), None, Some("rule-onboarding")], "15", "0"),
            row([None, Some("Other"), Some("Virtual Machines"), None], "10", "10"),
        ]
    }

    fn run(template: &InvoiceTemplate) -> (Vec<InvoiceDocument>, Grouped) {
        let names: BTreeMap<String, String> =
            [("rule-support", "Support fee"), ("rule-onboarding", "Onboarding")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let sources = InvoiceSources::default();
        let period = BillingPeriod::parse("2026-10").expect("period");
        let ctx = Context {
            template,
            customers: &BTreeMap::new(),
            rule_names: &names,
            issue_date: time::macros::date!(2026 - 11 - 05),
            from: period,
            to: period,
            parameters: &[],
            sources: &sources,
            default_currency: Currency::parse("USD").expect("USD"),
        };
        let grouped = group(&ctx, &example()).expect("group");
        (invoices(&ctx, &grouped), grouped)
    }

    #[test]
    fn the_worked_example_invoices() {
        let (docs, grouped) = run(&InvoiceTemplate::standard());
        assert_eq!(docs.len(), 2);
        let contoso = &docs[0];
        let lines: Vec<(String, String)> = contoso.lines.iter().map(|l| (l.values.join(" · "), l.amount.to_string())).collect();
        assert_eq!(
            lines,
            [
                ("Contoso Batch · Virtual Machines".to_string(), "77".to_string()),
                ("Contoso Web · Storage".into(), "52.25".into()),
                ("Contoso Web · Virtual Machines".into(), "110".into()),
                ("Support fee · ".into(), "16.96".into()),
            ]
        );
        assert_eq!(contoso.lines[3].rule.as_deref(), Some("Support fee"));
        assert_eq!((contoso.subtotal, contoso.total, contoso.exact_total), (e("256.21"), e("256.21"), e("256.2125")));
        assert_eq!(contoso.due_date, time::macros::date!(2026 - 12 - 05), "30 days of the standard terms");
        let fabrikam = &docs[1];
        assert_eq!(fabrikam.lines.len(), 2, "the credit's zero line is left out: {:?}", fabrikam.lines);
        assert_eq!((fabrikam.lines[1].rule.as_deref(), fabrikam.lines[1].amount), (Some("Onboarding"), e("15")));
        assert_eq!(fabrikam.total, e("175"));
        assert_eq!(grouped.uninvoiced.len(), 1, "sub-D is in no family");
    }

    #[test]
    fn zero_lines_on_request_and_formulas() {
        let mut t = InvoiceTemplate::standard();
        t.show_zero_lines = true;
        t.formulas = vec![
            be_domain::invoicing::FormulaField {
                label: "VAT 20 %".into(),
                formula: be_domain::invoicing::Formula::parse("BilledCost * 0.2", "f").expect("formula"),
                adds_to_total: true,
            },
            be_domain::invoicing::FormulaField {
                label: "Profit".into(),
                formula: be_domain::invoicing::Formula::parse("BilledCost - ProviderCost", "f").expect("formula"),
                adds_to_total: false,
            },
        ];
        let (docs, _) = run(&t);
        let contoso = &docs[0];
        // VAT on the subtotal shown (256.21 * 0.2 = 51.242 -> 51.24); profit against 510 exact.
        assert_eq!(contoso.formulas[0].amount, e("51.24"));
        assert_eq!(contoso.formulas[1].amount, e("-253.79"));
        assert_eq!(contoso.total, e("307.45"), "256.21 + 51.24; the profit figure is only shown");
        assert_eq!(docs[1].lines.len(), 3, "the zero line is shown when asked for");
    }
}
