//! Reconciliation to the last digit on generated data, checked against an independent sum.

use std::str::FromStr;

use be_azure_sim::{Layout, Metric};
use be_ingest::{ConvertOptions, ingest_period, read_focus_totals};
use rust_decimal::Decimal;

use crate::common::*;

/// The cost column summed with another parser (csv + rust_decimal), not be-ingest's.
fn independent_sum(csv_bytes: &[u8], cost_header: &str) -> (Decimal, u64) {
    let text = std::str::from_utf8(csv_bytes)
        .expect("utf8")
        .trim_start_matches('\u{feff}');
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let idx = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == cost_header)
        .expect("cost column");
    let mut sum = Decimal::ZERO;
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.expect("record");
        sum += Decimal::from_str(&rec[idx]).expect("decimal");
        n += 1;
    }
    (sum, n)
}

fn check(layout: Layout, cost_header: &str) {
    let g = generator(layout, 3000, 42);
    let amortized = generated_csv(&g, Metric::AmortizedCost);
    let actual = generated_csv(&g, Metric::ActualCost);
    let (want_actual, n_actual) = independent_sum(&actual, cost_header);
    let (want_amortized, n_amortized) = independent_sum(&amortized, cost_header);
    assert!(
        n_actual > 2000 && n_amortized > 2000,
        "a few thousand rows: {n_actual}, {n_amortized}"
    );

    let dir = temp_dir();
    let path = dir.path().join("2025-06.parquet");
    let rep = ingest_period(
        vec![mem("amortized.csv", amortized)],
        vec![mem("actual.csv", actual)],
        &path,
        ConvertOptions::default(),
    )
    .expect("ingest");
    let r = &rep.reconciliation;
    assert!(r.reconciled, "{layout:?}: {}", r.summary());
    assert_eq!(
        (r.source.actual_rows, r.source.amortized_rows),
        (n_actual, n_amortized)
    );
    assert_eq!(
        r.source.actual_cost.to_decimal(),
        Some(want_actual.normalize()),
        "actual total"
    );
    assert_eq!(
        r.source.amortized_cost.to_decimal(),
        Some(want_amortized.normalize()),
        "amortized total"
    );
    // the stored file says the same, to the last digit
    let stored = read_focus_totals(&path).expect("read back");
    assert_eq!(stored, rep.write.focus);
    assert_eq!(
        stored.billed_cost.to_decimal(),
        Some(want_actual.normalize())
    );
    assert_eq!(
        stored.effective_cost.to_decimal(),
        Some(want_amortized.normalize())
    );
    assert_eq!(r.source.rounded_values, 0);
    // What the sync needs to judge and show the period: MCA marks every invoiced row (all of
    // them: the month ended long before `until`), EA has no invoice ID; one billing currency.
    let invoiced = if layout.is_mca() { rep.write.rows } else { 0 };
    assert_eq!(rep.write.invoiced_rows, invoiced, "{layout:?}");
    let currency = if layout.is_mca() { "EUR" } else { "USD" };
    assert_eq!(rep.write.billing_currency.as_deref(), Some(currency));
}

#[test]
fn generated_ea_period_reconciles_to_the_last_digit() {
    check(Layout::Ea2024_08_01, "CostInBillingCurrency");
}

#[test]
fn generated_mca_period_reconciles_to_the_last_digit() {
    check(Layout::Mca2023_12_01Preview, "costInBillingCurrency");
}

#[test]
fn a_missing_row_is_seen_with_its_exact_amount() {
    let g = generator(Layout::Ea2024_08_01, 500, 3);
    let amortized = generated_csv(&g, Metric::AmortizedCost);
    let actual = String::from_utf8(generated_csv(&g, Metric::ActualCost)).expect("utf8");
    // drop the last on-demand usage row of the actual file (as if a blob were cut short)
    let mut lines: Vec<&str> = actual.lines().collect();
    let i = lines
        .iter()
        .rposition(|l| l.contains(",Usage,UsageBased,OnDemand,"))
        .expect("an on-demand row");
    let dropped = lines.remove(i);
    let actual = lines.join("\n") + "\n";
    let (dropped_cost, _) = independent_sum(
        format!("{}\n{dropped}\n", lines[0]).as_bytes(),
        "CostInBillingCurrency",
    );
    let (batches, conv) = convert_all(
        vec![mem("amortized.csv", amortized)],
        vec![mem("actual.csv", actual.into_bytes())],
    );
    let mut focus = be_ingest::FocusTotals::default();
    for v in column(&batches, "BilledCost") {
        focus
            .billed_cost
            .add_dec(be_ingest::Dec::parse(&v.expect("billed")).expect("dec"));
    }
    for v in column(&batches, "EffectiveCost") {
        focus
            .effective_cost
            .add_dec(be_ingest::Dec::parse(&v.expect("effective")).expect("dec"));
    }
    focus.rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    let r = be_ingest::reconcile(&conv.source_totals(), &focus);
    assert!(!r.reconciled);
    assert!(r.effective_difference.is_zero());
    assert_eq!(
        r.billed_difference.to_decimal(),
        Some(dropped_cost.normalize()),
        "{}",
        r.summary()
    );
}
