//! Every layout of azure-protocol.md section 5 parses and converts.

use be_azure_sim::{Layout, Metric};
use be_ingest::{Agreement, Col, CostReader, reconcile};

use crate::common::*;

const EA_LAYOUTS: &[Layout] = &[
    Layout::Ea2024_08_01,
    Layout::Ea2023_12_01Preview,
    Layout::Ea2021_01_01,
    Layout::Ea2021_10_01,
    Layout::EaLegacy,
];

fn convert_generated(
    layout: Layout,
) -> (Vec<arrow::array::RecordBatch>, be_ingest::Reconciliation) {
    let g = generator(layout, 400, 7);
    let amortized = generated_csv(&g, Metric::AmortizedCost);
    let actual = generated_csv(&g, Metric::ActualCost);
    let (batches, conv) = convert_all(
        vec![mem("amortized.csv", amortized)],
        vec![mem("actual.csv", actual)],
    );
    let mut focus = be_ingest::FocusTotals::default();
    for b in &batches {
        focus.rows += b.num_rows() as u64;
        for (name, sum) in [
            ("BilledCost", &mut focus.billed_cost),
            ("EffectiveCost", &mut focus.effective_cost),
        ] {
            for v in column(std::slice::from_ref(b), name) {
                sum.add_dec(
                    be_ingest::Dec::parse(&v.expect("costs are never null")).expect("decimal"),
                );
            }
        }
    }
    let r = reconcile(&conv.source_totals(), &focus);
    (batches, r)
}

#[test]
fn every_generated_layout_converts_and_reconciles() {
    let mut billed_by_layout = Vec::new();
    for layout in EA_LAYOUTS
        .iter()
        .copied()
        .chain([Layout::Mca2023_12_01Preview])
    {
        let (batches, r) = convert_generated(layout);
        assert!(r.focus.rows > 300, "{layout:?}: {} rows", r.focus.rows);
        assert!(
            r.source.actual_rows_kept > 0,
            "{layout:?}: commitment purchases kept from the actual file"
        );
        assert!(r.reconciled, "{layout:?}: {}", r.summary());
        for name in [
            "BilledCost",
            "EffectiveCost",
            "ChargeCategory",
            "ChargePeriodStart",
            "BillingPeriodStart",
            "BillingAccountId",
            "BillingCurrency",
            "ServiceName",
            "ServiceCategory",
            "ProviderName",
            "PricingUnit",
            "ListCost",
            "ContractedCost",
        ] {
            let nulls = column(&batches, name)
                .iter()
                .filter(|v| v.is_none())
                .count();
            assert_eq!(nulls, 0, "{layout:?}: {name} has nulls");
        }
        let kind = column(&batches, "BillingAccountType");
        assert_eq!(
            kind[0].as_deref(),
            Some(if layout.is_mca() {
                "Billing Profile"
            } else {
                "Billing Account"
            }),
            "{layout:?}"
        );
        if !layout.is_mca() {
            billed_by_layout.push((
                layout,
                column(&batches, "BilledCost"),
                column(&batches, "EffectiveCost"),
                column(&batches, "ChargePeriodStart"),
            ));
        }
    }
    // The same data in every EA layout gives the same costs and dates.
    let (first, b0, e0, d0) = &billed_by_layout[0];
    for (layout, b, e, d) in &billed_by_layout[1..] {
        assert!(
            b == b0 && e == e0 && d == d0,
            "{layout:?} differs from {first:?}"
        );
    }
}

#[test]
fn real_mca_files_parse() {
    // koku's real MCA file: older camelCase variant (`product`, `InstanceName`, no pricingModel).
    let (batches, conv) = convert_all(vec![source("koku__camel_azure_version_2.csv")], vec![]);
    assert_eq!(conv.agreement(), Some(Agreement::Mca));
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 4);
    assert_eq!(
        column(&batches, "BillingAccountId")[0].as_deref(),
        Some("NF5V-BI6B-BG7-PGB")
    );
    assert_eq!(
        column(&batches, "BilledCost")[3].as_deref(),
        Some("0.000000144")
    );
    assert_eq!(
        column(&batches, "ResourceName")[0].as_deref(),
        Some("filtereddatademo")
    );
    assert_eq!(
        column(&batches, "ChargeDescription")[0].as_deref(),
        Some("Blob Storage - Hot RA-GRS - US East")
    );
    assert_eq!(
        column(&batches, "BillingPeriodStart")[0].as_deref(),
        Some("2023-08-01T00:00:00Z"),
        "empty billing period: from the service period"
    );
    assert_eq!(
        column(&batches, "Tags")[3].as_deref(),
        Some(r#"{"project":"p1"}"#)
    );
    assert_eq!(
        conv.source_totals().amortized_cost.to_string(),
        "0.0000262412"
    );

    // opencost's file: the current 65-column MCA header (its rows are shifted: header only).
    let path = cost_details("opencost__values__test_azure_billing_MCA.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    let header = text.lines().next().expect("header").to_string() + "\n";
    let r = CostReader::new("opencost.csv", header.as_bytes()).expect("header parses");
    assert_eq!(r.agreement(), Agreement::Mca);
    assert_eq!(r.columns().width(), 65);
    for c in [
        Col::BillingProfileId,
        Col::CostInBillingCurrency,
        Col::BillingCurrency,
        Col::ResourceGroup,
        Col::PaygCostInBillingCurrency,
        Col::ExchangeRatePricingToBilling,
        Col::BenefitId,
        Col::Provider,
        Col::Location,
    ] {
        assert!(r.columns().has(c), "{c:?} not matched in the MCA header");
    }
}

#[test]
fn header_only_file_converts_to_an_empty_period() {
    let dir = temp_dir();
    let out = dir.path().join("empty.parquet");
    let rep = be_ingest::ingest_period(
        vec![source("finops-toolkit__EA_NoRows.csv")],
        vec![source("finops-toolkit__EA_NoRows.csv")],
        &out,
        be_ingest::ConvertOptions::default(),
    )
    .expect("ingest");
    assert_eq!(rep.write.rows, 0);
    assert!(rep.reconciliation.reconciled);
    assert_eq!(
        be_ingest::read_focus_totals(&out).expect("read back").rows,
        0
    );
}

/// Rewrite every `MM/DD/YYYY` date of a CSV text with `f(y, m, d)`.
fn rewrite_dates(text: &str, f: impl Fn(&str, &str, &str) -> String) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let w = &b[i..(i + 10).min(b.len())];
        let is_date = w.len() == 10
            && w[2] == b'/'
            && w[5] == b'/'
            && [0, 1, 3, 4, 6, 7, 8, 9]
                .iter()
                .all(|k| w[*k].is_ascii_digit())
            && (i == 0 || b[i - 1] == b',');
        if is_date {
            let s = &text[i..i + 10];
            out.push_str(&f(&s[6..10], &s[0..2], &s[3..5]));
            i += 10;
        } else {
            let ch = text[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[test]
fn every_date_format_and_exponent_notation_give_the_same_focus_rows() {
    let actual = std::fs::read_to_string(cost_details(EA_ACTUAL)).expect("read");
    let amortized = std::fs::read_to_string(cost_details(EA_AMORTIZED)).expect("read");
    let (base, _) = convert_all(
        vec![mem("a.csv", amortized.clone().into_bytes())],
        vec![mem("b.csv", actual.clone().into_bytes())],
    );
    type Rewrite = Box<dyn Fn(&str, &str, &str) -> String>;
    let variants: Vec<(&str, Rewrite)> = vec![
        ("YYYY-MM-DD", Box::new(|y, m, d| format!("{y}-{m}-{d}"))),
        (
            "ISO with time",
            Box::new(|y, m, d| format!("{y}-{m}-{d}T00:00:00.0000000Z")),
        ),
        (
            "M/D/YYYY h:mm:ss AM",
            Box::new(|y, m, d| {
                format!(
                    "{}/{}/{y} 12:00:00 AM",
                    m.trim_start_matches('0'),
                    d.trim_start_matches('0')
                )
            }),
        ),
    ];
    for (label, f) in variants {
        let (got, _) = convert_all(
            vec![mem("a.csv", rewrite_dates(&amortized, &f).into_bytes())],
            vec![mem("b.csv", rewrite_dates(&actual, &f).into_bytes())],
        );
        assert_eq!(render(&got), render(&base), "{label}");
    }
    // Exponent notation and padded zeros for the cost of the reservation purchase (3.25).
    for written in [
        "3.25E0",
        "325e-2",
        "0.0325E+2",
        "3.2500000000000000000000000000",
    ] {
        let changed = actual.replacen(
            ",1,3.25,3.25,3.25,USD,",
            &format!(",1,3.25,{written},3.25,USD,"),
            1,
        );
        assert_ne!(changed, actual);
        let (got, _) = convert_all(
            vec![mem("a.csv", amortized.clone().into_bytes())],
            vec![mem("b.csv", changed.into_bytes())],
        );
        assert_eq!(
            column(&got, "BilledCost"),
            column(&base, "BilledCost"),
            "{written}"
        );
    }
}

#[test]
fn bom_and_header_case_do_not_matter() {
    let actual = std::fs::read_to_string(cost_details(EA_ACTUAL)).expect("read");
    let no_bom = actual.trim_start_matches('\u{feff}').to_string();
    let (first_line, rest) = no_bom.split_once('\n').expect("header");
    let shouty = format!("{}\n{rest}", first_line.to_uppercase());
    let (a, _) = convert_all(vec![], vec![mem("bom.csv", actual.clone().into_bytes())]);
    let (b, _) = convert_all(vec![], vec![mem("nobom.csv", no_bom.into_bytes())]);
    let (c, _) = convert_all(vec![], vec![mem("upper.csv", shouty.into_bytes())]);
    assert_eq!(render(&a), render(&b));
    assert_eq!(render(&a), render(&c));
    assert_eq!(a.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
}
