//! Parquet periods are replaced atomically: the old file or the new one, never a mix.

use std::sync::atomic::{AtomicBool, Ordering};

use be_azure_sim::{Layout, Metric};
use be_ingest::{ConvertOptions, ingest_period};
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::common::*;

fn rows_in(path: &std::path::Path) -> Result<i64, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let r = SerializedFileReader::new(f).map_err(|e| e.to_string())?;
    Ok(r.metadata().file_metadata().num_rows())
}

#[test]
fn a_failed_sync_leaves_the_previous_period_untouched() {
    let dir = temp_dir();
    let path = dir.path().join("2023-09.parquet");
    store_sample(&path, ConvertOptions::default()).expect("first sync");
    let before = std::fs::read(&path).expect("read");

    let mut broken = std::fs::read(cost_details(EA_ACTUAL)).expect("read");
    broken.extend_from_slice(b"8611537,not,enough,fields\n");
    let e = ingest_period(
        vec![source(EA_AMORTIZED)],
        vec![mem("actual.csv", broken)],
        &path,
        ConvertOptions::default(),
    )
    .expect_err("malformed");
    assert_eq!(e.code(), "ingest_malformed_csv");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "previous file unchanged"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["2023-09.parquet".to_string()],
        "no temporary file left behind"
    );
}

#[test]
fn a_period_that_does_not_reconcile_never_replaces_the_stored_one() {
    let g = generator(Layout::Ea2024_08_01, 300, 5);
    let amortized = generated_csv(&g, Metric::AmortizedCost);
    let actual = generated_csv(&g, Metric::ActualCost);
    let dir = temp_dir();
    let path = dir.path().join("2025-06.parquet");
    ingest_period(
        vec![mem("amortized.csv", amortized.clone())],
        vec![mem("actual.csv", actual.clone())],
        &path,
        ConvertOptions::default(),
    )
    .expect("a good pull");
    let before = std::fs::read(&path).expect("read");

    // The actual-cost report loses an on-demand usage row (a blob cut short): the invoice identity
    // breaks by that row's cost.
    let text = String::from_utf8(actual).expect("utf8");
    let mut lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .rposition(|l| l.contains(",Usage,UsageBased,OnDemand,"))
        .expect("an on-demand row");
    lines.remove(i);
    let e = ingest_period(
        vec![mem("amortized.csv", amortized)],
        vec![mem("actual.csv", (lines.join("\n") + "\n").into_bytes())],
        &path,
        ConvertOptions::default(),
    )
    .expect_err("a pull that does not reconcile is refused");
    assert_eq!(e.code(), "reconciliation_mismatch");
    let be_ingest::IngestError::NotReconciled(r) = &e else {
        panic!("{e}")
    };
    assert!(!r.billed_difference.is_zero(), "{}", r.summary());
    assert!(r.effective_difference.is_zero(), "{}", r.summary());
    assert!(e.to_string().contains("difference"), "{e}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "the good file stays"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["2025-06.parquet"], "no temporary file left behind");
}

#[test]
fn readers_see_the_old_or_the_new_file_never_a_mix() {
    let dir = temp_dir();
    let path = dir.path().join("2025-06.parquet");
    let g = generator(Layout::Ea2024_08_01, 2000, 9);
    let amortized = generated_csv(&g, Metric::AmortizedCost);
    let actual = generated_csv(&g, Metric::ActualCost);
    let small = store_sample(&path, ConvertOptions::default())
        .expect("small")
        .rows as i64;
    let stop = AtomicBool::new(false);
    let (seen, big) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                seen.push(rows_in(&path));
            }
            seen
        });
        let mut big = 0;
        for i in 0..6 {
            let rep = if i % 2 == 0 {
                ingest_period(
                    vec![mem("amortized.csv", amortized.clone())],
                    vec![mem("actual.csv", actual.clone())],
                    &path,
                    ConvertOptions::default(),
                )
                .map(|r| r.write)
                .map_err(Box::new)
            } else {
                store_sample(&path, ConvertOptions::default())
            };
            let rows = rep.expect("sync").rows as i64;
            if i % 2 == 0 {
                big = rows;
            }
        }
        stop.store(true, Ordering::Relaxed);
        (reader.join().expect("reader"), big)
    });
    assert!(seen.len() > 3, "the reader ran ({} reads)", seen.len());
    for r in &seen {
        match r {
            Ok(n) => assert!(
                *n == small || *n == big,
                "a reader saw {n} rows (old {small}, new {big})"
            ),
            Err(e) => panic!("a reader saw a broken file: {e}"),
        }
    }
}

const CHILD_ENV: &str = "BE_INGEST_KILL_TEST_PATH";

/// Run in a child process by `a_writer_killed_mid_write_leaves_the_period_intact`: replaces the
/// period at the path it is given with a file written slowly (2000 batches, 5 ms apart), so that
/// it is certainly killed in the middle.
#[test]
#[ignore = "run as a child process by a_writer_killed_mid_write_leaves_the_period_intact"]
fn child_writes_a_period_slowly() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let (batches, _) = convert_all(vec![source(EA_AMORTIZED)], vec![source(EA_ACTUAL)]);
    let slow = (0..2000).flat_map(move |_| batches.clone()).map(|b| {
        std::thread::sleep(std::time::Duration::from_millis(5));
        Ok(b)
    });
    be_ingest::write_period_parquet(slow, std::path::Path::new(&path)).expect("child write");
}

#[test]
fn a_writer_killed_mid_write_leaves_the_period_intact() {
    let dir = temp_dir();
    let path = dir.path().join("2025-06.parquet");
    store_sample(&path, ConvertOptions::default()).expect("first sync");
    let before = std::fs::read(&path).expect("read");

    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "store::child_writes_a_period_slowly",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn child");
    // wait until the child is in the middle of writing (its temporary file exists)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let tmp = loop {
        let found = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .find(|e| be_ingest::store::is_temp_file_name(&e.file_name().to_string_lossy()));
        if let Some(e) = found {
            break e.path();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the child never started writing"
        );
        assert!(
            child.try_wait().expect("child status").is_none(),
            "the child ended before it was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::thread::sleep(std::time::Duration::from_millis(300)); // well inside the child's 10 s write
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    let after = std::fs::read(&path).expect("read");
    assert!(
        after == before,
        "the period written before the crash is intact ({} bytes before, {} after)",
        before.len(),
        after.len()
    );
    assert!(
        tmp.exists(),
        "the killed writer's temporary file is still there"
    );
    assert_eq!(
        be_ingest::remove_stale_temp_files(dir.path()).expect("cleanup"),
        1
    );
    assert!(!tmp.exists());
    // and the next sync completes
    let rep = store_sample(&path, ConvertOptions::default()).expect("next sync");
    assert_eq!(rep.rows, 29);
    assert_eq!(rows_in(&path), Ok(29));
}

#[test]
fn every_stored_row_carries_its_position_as_source_row_id() {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;
    let dir = temp_dir();
    let path = dir.path().join("2023-09.parquet");
    // Small batches, so the numbering has to continue across batches.
    let opts = ConvertOptions {
        batch_rows: 7,
        ..ConvertOptions::default()
    };
    let report = store_sample(&path, opts).expect("ingest");
    let file = std::fs::File::open(&path).expect("open");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("reader")
        .build()
        .expect("build");
    let mut ids = Vec::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let col = batch
            .column_by_name(be_ingest::SOURCE_ROW_ID)
            .expect("x_SourceRowId column");
        assert_eq!(col.null_count(), 0);
        ids.extend(col.as_primitive::<Int64Type>().values().iter().copied());
    }
    let expected: Vec<i64> = (0..report.rows as i64).collect();
    assert!(report.rows > 14, "more rows than two batches");
    assert_eq!(ids, expected);
}
