//! Cost data sync through the real binary: the demo's connected enrollment backfills its periods;
//! a crash in the middle of a sync leaves the stored periods intact, and the next start completes.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::process::{Server, TempDir, client, command};

fn sync_status(url: &str, token: &str, id: &str) -> Value {
    let resp = std::process::Command::new("curl")
        .args([
            "-s",
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("{url}/api/v1/connections/{id}/sync"),
        ])
        .output()
        .expect("curl");
    serde_json::from_slice(&resp.stdout).expect("sync status json")
}

fn start(dir: &TempDir, port: u16) -> (Server, String, String, String) {
    let mut cmd = command();
    cmd.args(["demo", "--port", &port.to_string(), "--data-dir"])
        .arg(&dir.0);
    let server = Server::spawn(cmd);
    let url = server
        .wait_stdout("Console:")
        .split_whitespace()
        .last()
        .expect("url")
        .to_string();
    let token = server
        .wait_stdout("BILLING_ENGINE_TOKEN=")
        .split("BILLING_ENGINE_TOKEN=")
        .nth(1)
        .expect("token")
        .trim()
        .to_string();
    let sim = server
        .wait_stdout("built-in simulator at")
        .split("simulator at ")
        .nth(1)
        .expect("sim")
        .trim_end_matches("):")
        .to_string();
    (server, url, token, sim)
}

fn sha(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).expect("read")
}

#[test]
fn a_crash_mid_sync_keeps_stored_periods_and_the_next_start_completes() {
    let dir = TempDir::new("sync-crash");
    let port = crate::process::free_port();
    let (mut server, url, token, sim) = start(&dir, port);
    let (ok, out, _) = client(&url, &token, &["connections", "list", "--json"]);
    assert!(ok);
    let list: Value = serde_json::from_str(&out).expect("json");
    let id = list["items"][0]["id"]
        .as_str()
        .expect("connection")
        .to_string();

    // Wait for a few periods to be stored, then slow every download so the crash lands mid-period.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = sync_status(&url, &token, &id);
        if s["periods"].as_array().map_or(0, Vec::len) >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "no periods stored: {s}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let fault = std::process::Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"endpoint":"blob_download","type":"slow","delay_ms":60000}"#,
            &format!("{sim}/_sim/faults"),
        ])
        .output()
        .expect("fault");
    assert!(fault.status.success());
    // A period is now in flight (its download hangs).
    let deadline = Instant::now() + Duration::from_secs(60);
    let before = loop {
        let s = sync_status(&url, &token, &id);
        if s["history"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|h| h["outcome"] == "running")
        {
            break s;
        }
        assert!(Instant::now() < deadline, "no period in flight: {s}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let stored: Vec<String> = before["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .map(|p| p["period"].as_str().expect("p").to_string())
        .collect();
    let datasets = std::fs::read_dir(dir.0.join("datasets"))
        .expect("datasets")
        .next()
        .expect("connection dir")
        .expect("entry")
        .path();
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = stored
        .iter()
        .map(|p| {
            let f = datasets.join(format!("{p}.parquet"));
            (f.clone(), sha(&f))
        })
        .collect();

    // Crash: SIGKILL, no chance to clean up.
    server.child.kill().expect("kill");
    server.child.wait().expect("wait");

    // The stored periods are exactly as they were, and each is a complete Parquet file.
    for (path, bytes) in &files {
        let now = sha(path);
        assert_eq!(&now, bytes, "{} changed", path.display());
        assert!(
            now.starts_with(b"PAR1") && now.ends_with(b"PAR1"),
            "{} is a whole Parquet file",
            path.display()
        );
    }

    // Restart on the same data: the interrupted sync is queued again and completes every period.
    let (_server, url, token, _) = start(&dir, port);
    let deadline = Instant::now() + Duration::from_secs(240);
    let done = loop {
        let s = sync_status(&url, &token, &id);
        let all = s["periods"].as_array().map_or(0, Vec::len);
        if all >= 13 && s["job"]["state"] != "running" {
            break s;
        }
        assert!(Instant::now() < deadline, "the sync did not complete: {s}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        done["periods"]
            .as_array()
            .expect("periods")
            .iter()
            .all(|p| p["reconciled"] == true),
        "{done}"
    );
    let history = done["history"].as_array().expect("history");
    assert!(
        history
            .iter()
            .any(|h| h["error_code"] == "sync_interrupted"),
        "the interrupted period is in the history: {done}"
    );
    let closed = done["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .filter(|p| p["closed"] == true)
        .count();
    assert!(
        closed >= 11,
        "months long past are closed and not pulled again: {done}"
    );

    // Sync now from the CLI: plain lines without a terminal; only the open months are pulled again.
    let (ok, out, err) = client(&url, &token, &["sync", &id]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("reconciled to the last digit") && out.contains("sync finished"),
        "{out}"
    );
    let pulled = out.lines().filter(|l| l.contains(" rows, ")).count();
    assert!((1..=2).contains(&pulled), "only open months: {out}");

    // The connection as the console shows it, from a terminal: the account by its name, and the
    // periods, freshness and history.
    let (ok, out, _) = client(&url, &token, &["connections", "list", "--json"]);
    assert!(ok);
    let list: Value = serde_json::from_str(&out).expect("json");
    let account_id = list["items"][0]["account_id"]
        .as_str()
        .expect("account")
        .to_string();
    let account = std::process::Command::new("curl")
        .args([
            "-s",
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("{url}/api/v1/accounts/{account_id}"),
        ])
        .output()
        .expect("curl");
    let account: Value = serde_json::from_slice(&account.stdout).expect("account json");
    let name = account["name"].as_str().expect("name").to_string();
    let (ok, out, err) = client(&url, &token, &["connections", "list"]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&name) && !out.contains(&account_id),
        "the account's name, not its ID: {out}"
    );
    let (ok, out, err) = client(&url, &token, &["connections", "show", &id]);
    assert!(ok, "{err}");
    let newest = done["periods"][0]["period"].as_str().expect("period");
    for expected in [
        format!("of \"{name}\""),
        "data as of: 2".to_string(),
        "closed months: EA: a month is closed".to_string(),
        format!("  {newest}: "),
        "sync history".to_string(),
        " succeeded (".to_string(),
    ] {
        assert!(out.contains(&expected), "{expected:?} in {out}");
    }
}
