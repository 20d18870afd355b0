use super::*;
use std::collections::HashMap;
use time::macros::date;

fn spec(agreement: Agreement, rows: u64) -> DataSpec {
    DataSpec {
        agreement,
        billing_account_id: match agreement {
            Agreement::Ea => "7645820".into(),
            Agreement::Mca => "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31".into(),
        },
        billing_account_name: "Contoso".into(),
        seed: 42,
        rows_per_month: rows,
        data_start: date!(2024 - 01 - 01),
        currency: if agreement == Agreement::Mca { "EUR".into() } else { "USD".into() },
        layout: if agreement == Agreement::Mca { Layout::Mca2023_12_01Preview } else { Layout::Ea2024_08_01 },
        widths: Widths::Compact,
    }
}

fn req(metric: Metric, from: Date, to: Date) -> Request {
    Request {
        metric,
        from,
        to,
        filter: ScopeFilter::All,
        until: date!(2030 - 01 - 01),
    }
}

fn csv(g: &Generator, r: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    let (rows, bytes) = g.write_csv(r, &mut out).expect("write to vec");
    assert_eq!(bytes as usize, out.len());
    assert!(rows > 0);
    out
}

#[test]
fn deterministic_from_seed() {
    let r = req(
        Metric::ActualCost,
        date!(2024 - 03 - 01),
        date!(2024 - 03 - 31),
    );
    let a = csv(&Generator::new(spec(Agreement::Ea, 3000)), &r);
    let b = csv(&Generator::new(spec(Agreement::Ea, 3000)), &r);
    assert_eq!(a, b);
    let mut other = spec(Agreement::Ea, 3000);
    other.seed = 43;
    assert_ne!(a, csv(&Generator::new(other), &r));
}

#[test]
fn size_is_about_rows_per_month() {
    let g = Generator::new(spec(Agreement::Ea, 6000));
    let n = g
        .rows(&req(
            Metric::ActualCost,
            date!(2024 - 03 - 01),
            date!(2024 - 03 - 31),
        ))
        .count() as u64;
    assert!((5000..8000).contains(&n), "{n}");
}

#[test]
fn header_bom_and_column_count() {
    for (agreement, layout) in [
        (Agreement::Ea, Layout::Ea2024_08_01),
        (Agreement::Ea, Layout::Ea2023_12_01Preview),
        (Agreement::Ea, Layout::Ea2021_01_01),
        (Agreement::Ea, Layout::Ea2021_10_01),
        (Agreement::Ea, Layout::EaLegacy),
        (Agreement::Mca, Layout::Mca2023_12_01Preview),
    ] {
        let mut s = spec(agreement, 600);
        s.layout = layout;
        let g = Generator::new(s);
        let out = csv(
            &g,
            &req(
                Metric::AmortizedCost,
                date!(2024 - 02 - 01),
                date!(2024 - 02 - 29),
            ),
        );
        assert_eq!(&out[..3], &[0xEF, 0xBB, 0xBF]);
        let text = String::from_utf8(out).expect("utf8");
        let recs = catalog::parse_csv(&text);
        assert_eq!(recs[0], layout.header());
        for r in &recs {
            assert_eq!(r.len(), layout.columns().len(), "{layout:?}: {r:?}");
        }
    }
}

/// Parse a generated file into maps of header -> value.
fn records(text: &[u8]) -> Vec<HashMap<String, String>> {
    let recs = catalog::parse_csv(std::str::from_utf8(text).expect("utf8"));
    let head = recs[0].clone();
    recs[1..]
        .iter()
        .map(|r| head.iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|_| panic!("decimal {s:?}"))
}

#[test]
fn actual_and_amortized_describe_the_same_usage() {
    let g = Generator::new(spec(Agreement::Ea, 20_000));
    let (from, to) = (date!(2024 - 04 - 01), date!(2024 - 04 - 30));
    let actual = g
        .rows(&req(Metric::ActualCost, from, to))
        .collect::<Vec<_>>();
    let amort = g
        .rows(&req(Metric::AmortizedCost, from, to))
        .collect::<Vec<_>>();
    // The same usage rows (resource, day, meter, quantity, pricing model) in both.
    type UsageKey = (Date, Option<u64>, Option<usize>, Decimal, RowKind);
    let usage = |rows: &[CostRow]| -> Vec<UsageKey> {
        rows.iter()
            .filter(|r| r.resource.is_some())
            .map(|r| (r.date, r.resource, r.meter, r.quantity, r.kind))
            .collect()
    };
    assert_eq!(usage(&actual), usage(&amort));
    // On-demand, refunds and credits cost the same.
    let same = |rows: &[CostRow]| -> Decimal {
        rows.iter()
            .filter(|r| matches!(r.kind, RowKind::Usage | RowKind::Refund | RowKind::Credit))
            .map(|r| r.cost)
            .sum()
    };
    assert_eq!(same(&actual), same(&amort));
    // Commitment-covered usage is free in actual.
    assert!(
        actual
            .iter()
            .filter(|r| r.kind.commitment().is_some() && r.resource.is_some())
            .all(|r| r.cost.is_zero())
    );
    // For a whole month, amortized commitment cost = purchases in actual (exactly).
    let purchases: Decimal = actual
        .iter()
        .filter(|r| r.kind.charge_type() == "Purchase")
        .map(|r| r.cost)
        .sum();
    let amortized_commit: Decimal = amort
        .iter()
        .filter(|r| r.kind.commitment().is_some())
        .map(|r| r.cost)
        .sum();
    assert!(purchases > Decimal::ZERO);
    assert_eq!(purchases, amortized_commit);
    // Amortized has unused rows and no purchases; actual has no unused rows.
    assert!(
        amort
            .iter()
            .any(|r| r.kind == RowKind::UnusedReservation || r.kind == RowKind::UnusedSavingsPlan)
    );
    assert!(amort.iter().all(|r| r.kind.charge_type() != "Purchase"));
    assert!(actual.iter().all(|r| !matches!(
        r.kind,
        RowKind::UnusedReservation | RowKind::UnusedSavingsPlan
    )));
    // Totals: actual - purchases + amortized commitments = amortized.
    let ta: Decimal = actual.iter().map(|r| r.cost).sum();
    let tm: Decimal = amort.iter().map(|r| r.cost).sum();
    assert_eq!(ta, tm);
}

#[test]
fn content_is_varied_and_uses_open_data() {
    let g = Generator::new(spec(Agreement::Ea, 30_000));
    let out = csv(
        &g,
        &req(
            Metric::AmortizedCost,
            date!(2024 - 05 - 01),
            date!(2024 - 05 - 31),
        ),
    );
    let recs = records(&out);
    let distinct = |col: &str| {
        recs.iter()
            .map(|r| r[col].clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(distinct("SubscriptionId").len() >= 20);
    assert!(distinct("ResourceGroup").len() >= 40);
    assert!(distinct("MeterCategory").len() >= 15);
    assert!(distinct("ResourceLocation").len() >= 8);
    let charge = distinct("ChargeType");
    for c in [
        "Usage",
        "UnusedReservation",
        "UnusedSavingsPlan",
        "Refund",
        "Credit",
    ] {
        assert!(charge.contains(c), "{c} in {charge:?}");
    }
    let models = distinct("PricingModel");
    for m in ["OnDemand", "Reservation", "SavingsPlan"] {
        assert!(models.contains(m), "{m}");
    }
    assert!(distinct("PublisherType").contains("Marketplace"));
    assert!(recs.iter().any(|r| !r["Tags"].is_empty()));
    // Units and regions come from the open data.
    let units = catalog::parse_csv(catalog::PRICING_UNITS_CSV);
    for u in distinct("UnitOfMeasure") {
        assert!(units.iter().any(|r| r[0] == u), "unit {u}");
    }
    let regions = catalog::parse_csv(catalog::REGIONS_CSV);
    for l in distinct("ResourceLocation")
        .into_iter()
        .filter(|l| !l.is_empty())
    {
        assert!(regions.iter().any(|r| r[0] == l), "region {l}");
    }
    // Costs are exact: quantity x effective price, for every row.
    for r in &recs {
        assert_eq!(
            dec(&r["Quantity"]) * dec(&r["EffectivePrice"]),
            dec(&r["CostInBillingCurrency"]),
            "{r:?}"
        );
    }
}

#[test]
fn actual_purchases_in_actual_file() {
    let g = Generator::new(spec(Agreement::Ea, 20_000));
    let out = csv(
        &g,
        &req(
            Metric::ActualCost,
            date!(2024 - 05 - 01),
            date!(2024 - 05 - 03),
        ),
    );
    let recs = records(&out);
    let p: Vec<_> = recs
        .iter()
        .filter(|r| r["ChargeType"] == "Purchase")
        .collect();
    assert!(
        p.iter()
            .any(|r| r["PricingModel"] == "Reservation" && r["Frequency"] == "Recurring")
    );
    assert!(p.iter().any(|r| r["PricingModel"] == "SavingsPlan"));
    assert!(p.iter().all(|r| r["Date"] == "05/01/2024"));
}

#[test]
fn mca_costs_convert_exactly() {
    let g = Generator::new(spec(Agreement::Mca, 3000));
    let out = csv(
        &g,
        &req(
            Metric::ActualCost,
            date!(2024 - 06 - 01),
            date!(2024 - 06 - 10),
        ),
    );
    let recs = records(&out);
    for r in &recs {
        let fx = dec(&r["exchangeRatePricingToBilling"]);
        assert_eq!(
            dec(&r["costInPricingCurrency"]) * fx,
            dec(&r["costInBillingCurrency"])
        );
        assert_eq!(r["billingCurrency"], "EUR");
        assert_eq!(r["pricingCurrency"], "USD");
        assert!(!r["billingProfileId"].is_empty());
    }
    // Months that ended (relative to `until`) carry an invoice id.
    assert!(recs.iter().all(|r| r["invoiceId"].starts_with('G')));
}

#[test]
fn scope_filter_selects_a_subset() {
    let g = Generator::new(spec(Agreement::Ea, 3000));
    let sub = g.universe().subscription_ids()[0].clone();
    let mut r = req(
        Metric::ActualCost,
        date!(2024 - 03 - 01),
        date!(2024 - 03 - 05),
    );
    let all = g.rows(&r).count();
    r.filter = ScopeFilter::Subscription(sub.clone());
    let some: Vec<_> = g.rows(&r).collect();
    assert!(!some.is_empty() && some.len() < all);
    let (dept, _, _) = g.universe().sections()[0].clone();
    r.filter = ScopeFilter::Section(dept);
    assert!(g.rows(&r).count() > 0);
}

#[test]
fn cursor_clone_resumes_exactly() {
    let g = Generator::new(spec(Agreement::Ea, 3000));
    let r = req(
        Metric::AmortizedCost,
        date!(2024 - 03 - 01),
        date!(2024 - 03 - 31),
    );
    let all: Vec<_> = g.rows(&r).collect();
    let mut it = g.rows(&r);
    for _ in 0..1234 {
        it.next();
    }
    let resumed: Vec<_> = it.clone().collect();
    assert_eq!(resumed.as_slice(), &all[1234..]);
}

#[test]
fn empty_before_data_start_and_after_until() {
    let g = Generator::new(spec(Agreement::Ea, 3000));
    let r = req(
        Metric::ActualCost,
        date!(2023 - 11 - 01),
        date!(2023 - 11 - 30),
    );
    assert!(g.is_empty(&r));
    assert_eq!(g.rows(&r).count(), 0);
    let mut r = req(
        Metric::ActualCost,
        date!(2024 - 03 - 01),
        date!(2024 - 03 - 31),
    );
    r.until = date!(2024 - 03 - 01);
    assert!(g.is_empty(&r));
    assert_eq!(g.rows(&r).count(), 0);
}

/// 10 million rows stream through a counting sink with constant memory. Slow in debug builds:
/// `cargo test --release -p be-azure-sim -- --ignored ten_million`.
#[test]
#[ignore]
fn ten_million_rows_stream() {
    struct Count(u64);
    impl Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len() as u64;
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let g = Generator::new(spec(Agreement::Ea, 10_000_000));
    let (rows, bytes) = g
        .write_csv(
            &req(
                Metric::ActualCost,
                date!(2024 - 01 - 01),
                date!(2024 - 01 - 31),
            ),
            Count(0),
        )
        .expect("sink");
    assert!(rows >= 10_000_000, "{rows}");
    assert!(bytes > rows * 300);
}
