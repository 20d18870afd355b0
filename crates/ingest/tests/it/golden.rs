//! The shared real EA samples (finops-toolkit) through Microsoft's merge rule: 29 FOCUS rows with
//! exact costs, compared with a reviewed expected file. `BILLING_ENGINE_BLESS=1` rewrites it.

use std::path::PathBuf;

use crate::common::*;

fn expected_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ingest/ea_small_focus.txt")
}

#[test]
fn shared_ea_samples_give_the_29_expected_focus_rows() {
    let (batches, conv) = convert_all(vec![source(EA_AMORTIZED)], vec![source(EA_ACTUAL)]);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(
        rows, 29,
        "28 amortized rows + 1 reservation purchase from the actual file"
    );
    let t = conv.source_totals();
    assert_eq!(
        (t.amortized_rows, t.actual_rows, t.actual_rows_kept),
        (28, 11, 1)
    );

    // Exact costs, spot-checked here as well as in the expected file.
    let billed = column(&batches, "BilledCost");
    let effective = column(&batches, "EffectiveCost");
    let dataset = column(&batches, "x_SourceDataset");
    // the reservation purchase: billed 3.25, effective 0
    assert_eq!(dataset[28].as_deref(), Some("ActualCost"));
    assert_eq!(
        (billed[28].as_deref(), effective[28].as_deref()),
        (Some("3.25"), Some("0"))
    );
    // reservation usage: billed 0, effective the amortized cost
    assert_eq!(
        (billed[0].as_deref(), effective[0].as_deref()),
        (Some("0"), Some("0.493152"))
    );
    // a 28-place source value, kept exactly
    assert!(
        effective
            .iter()
            .any(|v| v.as_deref() == Some("0.000000007292255759239199"))
    );
    assert_eq!(t.amortized_cost.to_string(), "16.296932136636644627485419");
    assert_eq!(t.rounded_values, 0);

    let got = render(&batches);
    let path = expected_path();
    if std::env::var_os("BILLING_ENGINE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &got).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run with BILLING_ENGINE_BLESS=1 and review it",
            path.display()
        )
    });
    if got != want {
        let first = got
            .lines()
            .zip(want.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b);
        panic!(
            "FOCUS output differs from {} (first difference at line {:?}); if the change is intended, rerun with BILLING_ENGINE_BLESS=1 and review the diff",
            path.display(),
            first.map(|(i, (g, w))| format!("{}: got {g:?}, expected {w:?}", i + 1))
        );
    }
}
