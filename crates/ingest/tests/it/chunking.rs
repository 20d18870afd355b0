//! The output does not depend on how the input is cut or on the threads: any chunk size, any
//! thread count and any batch size give the same rows; the same settings give the same bytes
//! whatever the thread timing; and any order of the input rows gives the same set of rows.

use std::path::Path;

use arrow::array::RecordBatch;
use be_azure_sim::generator::Widths;
use be_azure_sim::{Layout, Metric};
use be_ingest::{ConvertOptions, PeriodReport, ingest_period};

use crate::common::*;

/// Rows as wide as real ones, with quoted fields (tags, AdditionalInfo, names with commas).
fn inputs(layout: Layout) -> (Vec<u8>, Vec<u8>) {
    let g = generator_with(layout, 800, 5, Widths::Real);
    (
        generated_csv(&g, Metric::AmortizedCost),
        generated_csv(&g, Metric::ActualCost),
    )
}

fn ingest(amortized: &[u8], actual: &[u8], out: &Path, opts: ConvertOptions) -> PeriodReport {
    ingest_period(
        vec![mem("amortized.csv", amortized.to_vec())],
        vec![mem("actual.csv", actual.to_vec())],
        out,
        opts,
    )
    .unwrap_or_else(|e| panic!("ingest: {e}"))
}

fn read_back(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).expect("open");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    reader.collect::<Result<Vec<_>, _>>().expect("batches")
}

/// Each stored row as one line of `name=value` pairs, in file order.
fn rows(batches: &[RecordBatch], without: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let mut line = String::new();
            for (f, a) in b.schema().fields().iter().zip(b.columns()) {
                if !without.contains(&f.name().as_str()) {
                    line.push_str(&format!("{}={:?};", f.name(), cell(a.as_ref(), i)));
                }
            }
            out.push(line);
        }
    }
    out
}

/// A small deterministic generator of test choices.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn any_chunking_threads_and_batch_size_give_the_same_rows() {
    for layout in [Layout::Ea2024_08_01, Layout::Mca2023_12_01Preview] {
        let (amortized, actual) = inputs(layout);
        let dir = temp_dir();
        let reference = dir.path().join("reference.parquet");
        let want = ingest(&amortized, &actual, &reference, ConvertOptions::default());
        assert!(
            want.reconciliation.reconciled,
            "{}",
            want.reconciliation.summary()
        );
        assert!(want.write.rows > 500);
        let want_rows = rows(&read_back(&reference), &[]);
        let mut rng = Lcg(layout as u64 + 1);
        let mut tried = vec![(1, 1, 1), (7, 2, 3), (64, 3, 1000), (1 << 20, 2, 16 * 1024)];
        for _ in 0..5 {
            tried.push((
                1 + rng.below(40_000) as usize,
                1 + rng.below(4) as usize,
                1 + rng.below(3000) as usize,
            ));
        }
        for (chunk_bytes, threads, batch_rows) in tried {
            let out = dir
                .path()
                .join(format!("{chunk_bytes}-{threads}-{batch_rows}.parquet"));
            let opts = ConvertOptions {
                chunk_bytes,
                threads,
                batch_rows,
                ..ConvertOptions::default()
            };
            let got = ingest(&amortized, &actual, &out, opts);
            let label = format!(
                "{layout:?}, chunks of {chunk_bytes} bytes, {threads} threads, batches of {batch_rows}"
            );
            assert_eq!(got.reconciliation, want.reconciliation, "{label}");
            assert!(
                rows(&read_back(&out), &[]) == want_rows,
                "{label}: the stored rows differ"
            );
        }
    }
}

#[test]
fn the_same_input_gives_the_same_bytes_whatever_the_threads() {
    let (amortized, actual) = inputs(Layout::Ea2024_08_01);
    let dir = temp_dir();
    let mut files = Vec::new();
    for (run, threads) in [1, 2, 4, 2, 3].into_iter().enumerate() {
        let out = dir.path().join(format!("{run}.parquet"));
        ingest(
            &amortized,
            &actual,
            &out,
            ConvertOptions {
                threads,
                chunk_bytes: 4096,
                ..ConvertOptions::default()
            },
        );
        files.push(std::fs::read(&out).expect("read"));
    }
    assert!(
        files.windows(2).all(|w| w[0] == w[1]),
        "the Parquet bytes differ between runs"
    );
}

/// Shuffle the data lines of a CSV file (the header stays first).
fn shuffled(csv: &[u8], rng: &mut Lcg) -> Vec<u8> {
    let text = std::str::from_utf8(csv).expect("utf8");
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.iter().all(|l| !l.is_empty()));
    let data = &mut lines[1..];
    for i in (1..data.len()).rev() {
        data.swap(i, rng.below(i as u64 + 1) as usize);
    }
    (lines.join("\n") + "\n").into_bytes()
}

#[test]
fn any_row_order_gives_the_same_rows() {
    let (amortized, actual) = inputs(Layout::Ea2024_08_01);
    let dir = temp_dir();
    let reference = dir.path().join("reference.parquet");
    let want = ingest(&amortized, &actual, &reference, ConvertOptions::default());
    let mut want_rows = rows(&read_back(&reference), &[be_ingest::SOURCE_ROW_ID]);
    want_rows.sort();
    let mut rng = Lcg(42);
    for round in 0..3 {
        let out = dir.path().join(format!("shuffled-{round}.parquet"));
        let opts = ConvertOptions {
            chunk_bytes: 1 + rng.below(20_000) as usize,
            ..ConvertOptions::default()
        };
        let got = ingest(
            &shuffled(&amortized, &mut rng),
            &shuffled(&actual, &mut rng),
            &out,
            opts,
        );
        assert_eq!(got.reconciliation, want.reconciliation, "round {round}");
        let mut got_rows = rows(&read_back(&out), &[be_ingest::SOURCE_ROW_ID]);
        got_rows.sort();
        assert!(
            got_rows == want_rows,
            "round {round}: the stored rows differ"
        );
    }
}
