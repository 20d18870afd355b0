//! Write one generated Cost Details file to stdout:
//! `cargo run -p be-azure-sim --example gen_csv -- [ea|mca] [ActualCost|AmortizedCost] [rows/month] [YYYY-MM]`
//! (`GEN_REAL_WIDTHS=1`: text columns as wide as real exports, `Widths::Real`)

use be_azure_sim::generator::{DataSpec, Generator, Request, ScopeFilter, Widths, month_bounds};
use be_azure_sim::{Agreement, Layout, Metric};
use std::io::Write;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mca = args.first().is_some_and(|a| a.eq_ignore_ascii_case("mca"));
    let metric = if args.get(1).is_some_and(|a| a == "AmortizedCost") {
        Metric::AmortizedCost
    } else {
        Metric::ActualCost
    };
    let rows = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(2000);
    let month = args
        .get(3)
        .and_then(|m| {
            time::Date::parse(
                &format!("{m}-01"),
                &time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()
        })
        .unwrap_or(time::macros::date!(2025 - 06 - 01));
    let g = Generator::new(DataSpec {
        agreement: if mca { Agreement::Mca } else { Agreement::Ea },
        billing_account_id: if mca {
            "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31"
                .into()
        } else {
            "7645820".into()
        },
        billing_account_name: "Contoso".into(),
        seed: 1,
        rows_per_month: rows,
        data_start: time::macros::date!(2024 - 01 - 01),
        currency: if mca { "EUR".into() } else { "USD".into() },
        layout: if mca {
            Layout::Mca2023_12_01Preview
        } else {
            Layout::Ea2024_08_01
        },
        widths: if std::env::var_os("GEN_REAL_WIDTHS").is_some() {
            Widths::Real
        } else {
            Widths::Compact
        },
    });
    let (from, to) = month_bounds(month);
    let req = Request {
        metric,
        from,
        to,
        filter: ScopeFilter::All,
        until: time::macros::date!(2100 - 01 - 01),
    };
    let out = std::io::stdout().lock();
    let mut w = std::io::BufWriter::new(out);
    g.write_csv(&req, &mut w)?;
    w.flush()
}
