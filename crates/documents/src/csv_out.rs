//! The CSV: the PDF's lines, each with its rounded amount (what is billed) and its exact amount
//! (before rounding), then the subtotal, formula lines and total. Plain decimals (`1234.50`), no
//! grouping, so a spreadsheet reads them as numbers.

use be_domain::Exact;
use be_domain::invoicing::InvoiceDocument;

use crate::DocumentError;
use crate::view::{line_headings, line_values, number_or_draft};

pub(crate) fn render(doc: &InvoiceDocument) -> Result<Vec<u8>, DocumentError> {
    let headings = line_headings(doc);
    let width = headings.len();
    let places = doc.currency.minor_units();
    let plain = |e: Exact| plain(e, places);
    let number = number_or_draft(doc);
    let currency = doc.currency.code();
    let mut w = csv::Writer::from_writer(vec![]);
    let mut header = vec!["document".to_string(), "kind".into()];
    header.extend(headings);
    header.extend(["rule", "amount", "exact_amount", "currency"].map(String::from));
    w.write_record(&header).map_err(DocumentError::Csv)?;
    let mut row = |kind: &str, values: Vec<String>, rule: &str, amount: String, exact: String| {
        let mut r = vec![number.clone(), kind.to_string()];
        r.extend(values);
        r.extend([rule.to_string(), amount, exact, currency.to_string()]);
        w.write_record(&r).map_err(DocumentError::Csv)
    };
    for l in &doc.lines {
        let values = line_values(&l.values, width);
        let rule = l.rule.as_deref().unwrap_or("");
        row("line", values, rule, plain(l.amount), l.exact.to_string())?;
    }
    let label = |text: String| line_values(&[text], width);
    let subtotal = label("Subtotal".into());
    row("subtotal", subtotal, "", plain(doc.subtotal), doc.exact_total.to_string())?;
    for f in &doc.formulas {
        let kind = if f.adds_to_total { "formula" } else { "information" };
        row(kind, label(f.label.clone()), &f.formula, plain(f.amount), String::new())?;
    }
    row("total", label("Total".into()), "", plain(doc.total), String::new())?;
    w.into_inner()
        .map_err(|e| DocumentError::Csv(e.into_error().into()))
}

/// `1234.50`: rounded half-even to the currency's minor units, every decimal written.
fn plain(e: Exact, places: u32) -> String {
    let text = e.round(places).to_string();
    if places == 0 {
        return text;
    }
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    format!("{int}.{frac:0<width$}", width = places as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_amounts_keep_the_minor_units() {
        let e = |s| Exact::parse(s).expect("exact");
        assert_eq!(plain(e("1234.5"), 2), "1234.50");
        assert_eq!(plain(e("16.9625"), 2), "16.96");
        assert_eq!(plain(e("-20"), 2), "-20.00");
        assert_eq!(plain(e("1234.5"), 0), "1234");
        assert_eq!(plain(e("0.0005"), 3), "0.000");
    }
}
