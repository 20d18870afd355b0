use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_billing-engine");

/// A fresh directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("be-cli-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).expect("temp dir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A command with no inherited Billing Engine settings.
pub fn command() -> Command {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("BILLING_ENGINE_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c
}

/// A running server process; killed on drop. Output lines arrive on channels.
pub struct Server {
    pub child: Child,
    pub stdout: mpsc::Receiver<String>,
    pub stderr: mpsc::Receiver<String>,
}

impl Server {
    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// Wait for a stdout line containing `needle`; returns it.
    pub fn wait_stdout(&self, needle: &str) -> String {
        wait(&self.stdout, needle)
    }

    pub fn wait_stderr(&self, needle: &str) -> String {
        wait(&self.stderr, needle)
    }

    /// Everything on stderr so far (after the process ended, all of it).
    pub fn drain_stderr(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait(rx: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen = vec![];
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line containing {needle:?}; saw:\n{}", seen.join("\n"));
}

/// The running demo: its console URL and CLI token.
pub struct Demo {
    pub _server: Server,
    pub url: String,
    pub token: String,
    /// The built-in Azure simulator's base URL.
    pub sim_url: String,
    pub _dir: TempDir,
}

pub fn start_demo() -> Demo {
    let dir = TempDir::new("demo");
    let mut cmd = command();
    cmd.args(["demo", "--port", "0", "--data-dir"]).arg(&dir.0);
    let server = Server::spawn(cmd);
    let url = server
        .wait_stdout("Console:")
        .split_whitespace()
        .last()
        .expect("url")
        .to_string();
    let export = server.wait_stdout("BILLING_ENGINE_TOKEN=");
    let token = export
        .split("BILLING_ENGINE_TOKEN=")
        .nth(1)
        .expect("token")
        .trim()
        .to_string();
    let sim_line = server.wait_stdout("built-in simulator at");
    let sim_url = sim_line
        .split("simulator at ")
        .nth(1)
        .expect("sim url")
        .trim_end_matches("):")
        .to_string();
    Demo {
        _server: server,
        url,
        token,
        sim_url,
        _dir: dir,
    }
}

pub const DEMO_EMAIL: &str = "admin@demo.example";
pub const DEMO_PASSWORD: &str = "billing-engine-demo";

/// Run a client command against a server; returns (success, stdout, stderr).
pub fn client(url: &str, token: &str, args: &[&str]) -> (bool, String, String) {
    let out = command()
        .args(args)
        .env("BILLING_ENGINE_URL", url)
        .env("BILLING_ENGINE_TOKEN", token)
        .env("HOME", std::env::temp_dir().join("be-cli-no-home"))
        .stdin(Stdio::null())
        .output()
        .expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}
