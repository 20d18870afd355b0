//! Files other local users must not read (issue 12, item 11): the data directory is 0700 and every
//! file in it 0600 (database, key file, synced and rated Parquet), whatever the umask.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use crate::process::{BIN, Server, TempDir};

/// Every file and folder under `root` (the root included).
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if out[i].is_dir()
            && let Ok(entries) = std::fs::read_dir(&out[i])
        {
            out.extend(entries.flatten().map(|e| e.path()));
        }
        i += 1;
    }
    out
}

fn parquet_under(dir: &Path) -> usize {
    walk(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .count()
}

#[cfg(unix)]
#[test]
fn the_demo_keeps_its_files_private_even_with_an_open_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("private");
    let data = dir.0.join("data");
    // umask 000: anything created without an explicit mode would be world readable (and writable).
    let mut sh = Command::new("sh");
    sh.args(["-c", "umask 000 && exec \"$0\" \"$@\"", BIN])
        .args(["demo", "--port", "0", "--data-dir"])
        .arg(&data);
    for (k, _) in std::env::vars() {
        if k.starts_with("BILLING_ENGINE_") || k == "RUST_LOG" {
            sh.env_remove(k);
        }
    }
    let server = Server::spawn(sh);
    server.wait_stdout("Console:");
    // Wait for a synced period and a rating run on disk.
    let deadline = Instant::now() + Duration::from_secs(180);
    while parquet_under(&data.join("datasets")) == 0 || parquet_under(&data.join("rated")) == 0 {
        assert!(
            Instant::now() < deadline,
            "no synced and rated Parquet files after 180 s: {:?}",
            walk(&data)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let mode = |p: &Path| {
        std::fs::symlink_metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&data), 0o700, "the data directory");
    let mut seen_db = false;
    for p in walk(&data) {
        if !p.exists() {
            continue; // removed meanwhile (a temp file)
        }
        let m = mode(&p);
        assert_eq!(m & 0o077, 0, "{} is mode {m:o}", p.display());
        seen_db |= p.file_name().is_some_and(|n| n == "billing-engine.db");
    }
    assert!(seen_db, "the SQLite database is in the data directory");
}
