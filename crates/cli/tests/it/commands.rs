use std::{io::Write, process::Stdio};

use serde_json::{Value, json};

use crate::process::{
    DEMO_EMAIL, DEMO_PASSWORD, Server, TempDir, client, command, free_port, start_demo,
};

#[test]
fn the_cli_manages_accounts_through_the_api() {
    let demo = start_demo();
    let (url, token) = (demo.url.as_str(), demo.token.as_str());

    let (ok, out, err) = client(url, token, &["accounts", "list"]);
    assert!(ok, "{err}");
    assert!(out.contains("Contoso Retail"), "the demo is seeded: {out}");

    let (ok, out, err) = client(url, token, &["accounts", "create", "Fabrikam", "--json"]);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).expect("json");
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["name"], "Fabrikam");

    let (ok, _, err) = client(url, token, &["accounts", "create", "fabrikam"]);
    assert!(!ok);
    assert!(
        err.contains("already exists") && err.contains("account_name_taken") && err.contains("409"),
        "{err}"
    );

    let (ok, out, _) = client(url, token, &["accounts", "rename", &id, "Northwind"]);
    assert!(ok && out.contains("Northwind"), "{out}");

    let (ok, out, _) = client(url, token, &["accounts", "list", "--json"]);
    assert!(ok);
    let list: Value = serde_json::from_str(&out).expect("json");
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["name"].as_str().expect("n"))
        .collect();
    assert_eq!(names, ["Contoso Retail", "Northwind"]);

    let (ok, _, err) = client(url, token, &["accounts", "delete", &id]);
    assert!(
        !ok && err.contains("--yes"),
        "no prompt without a terminal: {err}"
    );
    let (ok, out, _) = client(url, token, &["accounts", "delete", &id, "--yes"]);
    assert!(ok && out.contains("deleted account \"Northwind\""), "{out}");
    let (ok, _, err) = client(url, token, &["accounts", "get", &id]);
    assert!(!ok && err.contains("account_not_found"), "{err}");

    let (ok, _, err) = client(url, "be_wrong", &["accounts", "list"]);
    assert!(
        !ok && err.contains("invalid_token") && err.contains("billing-engine login"),
        "{err}"
    );
}

#[test]
fn login_saves_a_private_profile_the_other_commands_use() {
    let demo = start_demo();
    let home = TempDir::new("home");
    let run = |args: &[&str], stdin: &str| {
        let mut child = command()
            .args(args)
            .env("XDG_CONFIG_HOME", &home.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(
        &[
            "login",
            "--url",
            &demo.url,
            "--email",
            DEMO_EMAIL,
            "--password-stdin",
        ],
        "wrong password\n",
    );
    assert!(!ok && err.contains("invalid_credentials"), "{err}");

    // A profile left readable by others (saved by hand, or by an older version) is made private
    // before the token goes into it (issue 12, item 11).
    let profile = home.0.join("billing-engine/cli.toml");
    std::fs::create_dir_all(profile.parent().expect("dir")).expect("dir");
    std::fs::write(&profile, "").expect("old profile");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&profile, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let (ok, out, err) = run(
        &[
            "login",
            "--url",
            &demo.url,
            "--email",
            DEMO_EMAIL,
            "--password-stdin",
        ],
        &format!("{DEMO_PASSWORD}\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("signed in"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&profile)
                .expect("saved")
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let (ok, out, err) = run(&["accounts", "list"], "");
    assert!(ok && out.contains("Contoso Retail"), "{out}{err}");
    let (ok, out, _) = run(&["tokens", "list"], "");
    assert!(
        ok && out.contains("CLI"),
        "the login created a token named CLI: {out}"
    );
}

#[test]
fn bad_configuration_fails_at_start_with_a_clear_message() {
    let dir = TempDir::new("badconf");
    let file = dir.0.join("be.toml");
    std::fs::write(&file, "[server]\nlisten = \"somewhere\"\n").expect("write");
    let out = command()
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.listen") && err.contains(&file.display().to_string()),
        "{err}"
    );

    let out = command()
        .arg("serve")
        .env("BILLING_ENGINE_DATABASE_URL", "mysql://db")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("database.url"),
        "{err}"
    );

    let out = command()
        .arg("serve")
        .env("BILLING_ENGINE_LISTN", "x")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("BILLING_ENGINE_LISTN is not a Billing Engine setting"),
        "{err}"
    );
}

#[test]
fn config_example_is_printed_and_checks_clean() {
    let out = command().args(["config", "example"]).output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("BILLING_ENGINE_DATABASE_URL"));
    let dir = TempDir::new("example");
    let file = dir.0.join("be.toml");
    std::fs::write(&file, &text).expect("write");
    let out = command()
        .args(["config", "check", "--config"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mail_settings_are_checked_and_the_password_stays_hidden() {
    let check = |pairs: &[(&str, &str)]| {
        let mut c = command();
        c.args(["config", "check"]);
        for (k, v) in pairs {
            c.env(k, v);
        }
        let out = c.output().expect("run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains("pw-secret"), "{text}");
        (out.status.success(), text)
    };
    let (ok, text) = check(&[]);
    assert!(ok && text.contains("mail: not configured"), "{text}");
    let (ok, text) = check(&[
        (
            "BILLING_ENGINE_MAIL_SMTP_URL",
            "smtps://billing:pw-secret@mail.example.com:465",
        ),
        ("BILLING_ENGINE_MAIL_FROM", "Billing <billing@example.com>"),
    ]);
    assert!(
        ok && text.contains("mail: smtps://billing:***@mail.example.com:465"),
        "{text}"
    );
    let (ok, text) = check(&[
        ("BILLING_ENGINE_MAIL_SMTP_URL", "smtp://mail.example.com:25"),
        ("BILLING_ENGINE_MAIL_FROM", "billing@example.com"),
        ("BILLING_ENGINE_MAIL_PASSWORD", "pw-secret"),
    ]);
    assert!(!ok && text.contains("unencrypted"), "{text}");
    let (ok, text) = check(&[("BILLING_ENGINE_MAIL_SMTP_URL", "smtp://mail.example.com")]);
    assert!(!ok && text.contains("mail.from"), "{text}");
}

/// `serve` on PostgreSQL: migrate, create an organization, serve, log JSON with request IDs,
/// and stop cleanly on SIGTERM.
#[test]
fn serve_on_postgres_logs_requests_and_stops_on_sigterm() {
    let db = PgDb::create();
    let dir = TempDir::new("serve");
    let port = free_port();
    let env = |c: &mut std::process::Command| {
        c.env("BILLING_ENGINE_DATABASE_URL", &db.url)
            .env("BILLING_ENGINE_DATA_DIR", &dir.0)
            .env("BILLING_ENGINE_LISTEN", format!("127.0.0.1:{port}"));
    };

    let mut migrate = command();
    migrate.arg("migrate");
    env(&mut migrate);
    let out = migrate.output().expect("migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut create = command();
    create.args([
        "orgs",
        "create",
        "Acme",
        "--admin-email",
        "ops@acme.example",
        "--password-stdin",
    ]);
    env(&mut create);
    let mut child = create
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a very good password\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created organization \"Acme\""));

    let mut serve = command();
    serve.arg("serve");
    env(&mut serve);
    let mut server = Server::spawn(serve);
    server.wait_stderr("\"listening\"");

    let url = format!("http://127.0.0.1:{port}");
    let home = TempDir::new("pghome");
    let mut login = command();
    login
        .args([
            "login",
            "--url",
            &url,
            "--email",
            "ops@acme.example",
            "--password-stdin",
        ])
        .env("XDG_CONFIG_HOME", &home.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = login.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a very good password\n")
        .expect("write");
    assert!(child.wait_with_output().expect("wait").status.success());
    let out = command()
        .args(["accounts", "create", "On Postgres"])
        .env("XDG_CONFIG_HOME", &home.0)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // One access-log line per request, as JSON, inside a span that carries the request ID.
    let log = server.wait_stderr("finished processing request");
    let entry: Value = serde_json::from_str(&log).expect("logs are JSON lines");
    assert!(
        entry["span"]["request_id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()),
        "{log}"
    );
    assert!(entry["status"].as_u64().is_some(), "{log}");

    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let rest = server.drain_stderr().join("\n");
    assert!(rest.contains("stopped"), "{rest}");
    assert!(
        !rest.contains("a very good password"),
        "the password is never logged"
    );
}

/// A PostgreSQL database of the test's own, dropped afterwards.
struct PgDb {
    url: String,
    name: String,
}

fn psql(sql: &str) -> bool {
    let base = std::env::var("BILLING_ENGINE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    std::process::Command::new("psql")
        .args([base.as_str(), "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl PgDb {
    fn create() -> Self {
        let name = format!("be_cli_{}", uuid::Uuid::new_v4().simple());
        assert!(
            psql(&format!("CREATE DATABASE {name}")),
            "PostgreSQL must be running on 127.0.0.1:5432 (start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"
        );
        Self {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// The whole wizard from the CLI against `billing-engine serve` and `billing-engine azure-sim`
/// (separate processes, as in production), logging at debug: the generated curl grants the role,
/// the connection connects, and the secret appears in no log, no output and not in the database.
#[test]
fn connect_azure_from_the_cli_and_the_secret_never_leaks() {
    const SECRET: &str = "tr2Q~try-the-wizard-secret-value-000000";
    let sim_port = free_port();
    let mut sim_cmd = command();
    sim_cmd.args(["azure-sim", "--demo-world", "--port", &sim_port.to_string()]);
    let sim = Server::spawn(sim_cmd);
    sim.wait_stdout("Azure simulator listening");
    let sim_url = format!("http://127.0.0.1:{sim_port}");

    let dir = TempDir::new("connect");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut serve = command();
    serve
        .arg("serve")
        .env("BILLING_ENGINE_DATA_DIR", &dir.0)
        .env("BILLING_ENGINE_LISTEN", format!("127.0.0.1:{port}"))
        .env("BILLING_ENGINE_LOG", "debug")
        .env("BILLING_ENGINE_AZURE_LOGIN_URL", format!("{sim_url}/login"))
        .env("BILLING_ENGINE_AZURE_MANAGEMENT_URL", &sim_url);
    let mut create = command();
    create
        .args([
            "orgs",
            "create",
            "MSP",
            "--admin-email",
            "ops@msp.example",
            "--password-stdin",
        ])
        .env("BILLING_ENGINE_DATA_DIR", &dir.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = create.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a very good password\n")
        .expect("write");
    assert!(child.wait_with_output().expect("wait").status.success());
    let mut server = Server::spawn(serve);
    server.wait_stderr("\"listening\"");

    let home = TempDir::new("connect-home");
    let run = |args: &[&str], stdin: &str, env: &[(&str, &str)]| {
        let mut c = command();
        c.args(args)
            .env("XDG_CONFIG_HOME", &home.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(
        &[
            "login",
            "--url",
            &url,
            "--email",
            "ops@msp.example",
            "--password-stdin",
        ],
        "a very good password\n",
        &[],
    );
    assert!(ok, "{err}");

    // A pasted secret ID is refused at once, with the reason.
    let connect_args = [
        "connect",
        "azure",
        "--new-account",
        "Contoso Labs",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--client-id",
        "22222222-2222-4222-8222-222222222222",
        "--agreement",
        "ea",
        "--billing-account",
        "8611537",
        "--secret-stdin",
        "--no-wait",
    ];
    let (ok, _, err) = run(&connect_args, "7c0c1b59-4c4a-4a43-9e0f-5ec2e1d0a111\n", &[]);
    assert!(!ok && err.contains("client_secret_is_secret_id"), "{err}");
    // Every flag is checked before anything is created: a typo leaves no account behind.
    let mut typo = connect_args.to_vec();
    typo[5] = "contoso onmicrosoft";
    typo[11] = "86115x7";
    let (ok, _, err) = run(&typo, &format!("{SECRET}\n"), &[]);
    assert!(!ok && err.contains("nothing was created"), "{err}");
    assert!(
        err.contains("--tenant") && err.contains("--billing-account"),
        "each bad flag is named: {err}"
    );
    let (ok, out, err) = run(&["accounts", "list"], "", &[]);
    assert!(ok, "{err}");
    assert!(
        !out.contains("Contoso Labs"),
        "no account was created: {out}"
    );

    // The corrected command creates the account and its draft; the role is not granted yet.
    let (ok, out, _) = run(&connect_args, &format!("{SECRET}\n"), &[]);
    assert!(!ok && out.contains("created account"), "{out}");
    // Run again as it was: the name exists, so it says to use --account.
    let (ok, out, err) = run(&connect_args, &format!("{SECRET}\n"), &[]);
    assert!(!ok && !out.contains("created account"), "{out}");
    assert!(
        err.contains("already exists") && err.contains("--account \"Contoso Labs\""),
        "{err}"
    );

    // Continue the draft with --account: the role is not granted yet.
    let mut again = connect_args.to_vec();
    again[2] = "--account";
    let (ok, out, err) = run(&again, &format!("{SECRET}\n"), &[]);
    assert!(!ok, "not connected before the grant");
    assert!(
        out.contains("continuing the unfinished connection"),
        "{out}{err}"
    );
    assert!(
        out.contains("EnrollmentReader") && out.contains("curl -sS -X PUT"),
        "{out}"
    );
    assert!(
        out.contains("What to do") || out.contains("what to do"),
        "{out}"
    );
    assert!(err.contains("billing-engine connections validate"), "{err}");
    let id = err
        .split("connections validate ")
        .nth(1)
        .expect("id")
        .trim()
        .to_string();

    // The administrator runs the printed curl.
    let curl: String = out
        .lines()
        .skip_while(|l| !l.starts_with("curl "))
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let admin = std::process::Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            &format!("{sim_url}/_sim/users/aaaaaaaa-0000-4000-8000-00000000ad01/token"),
        ])
        .output()
        .expect("curl");
    let admin: Value = serde_json::from_slice(&admin.stdout).expect("token json");
    let granted = std::process::Command::new("sh")
        .args(["-c", &format!("{curl} -o /dev/null -w '%{{http_code}}'")])
        .env(
            "ADMIN_TOKEN",
            admin["access_token"].as_str().expect("token"),
        )
        .output()
        .expect("curl");
    assert_eq!(
        String::from_utf8_lossy(&granted.stdout),
        "200",
        "{}",
        String::from_utf8_lossy(&granted.stderr)
    );

    let (ok, out, err) = run(&["connections", "validate", &id], "", &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("✓ Read cost data"), "{out}");
    let (ok, out, _) = run(&["connections", "list"], "", &[]);
    assert!(ok && out.contains("connected"), "{out}");

    let status = server.terminate();
    assert!(status.success());
    let mut everything = server.drain_stderr().join("\n");
    everything.push_str(&sim.drain_stderr().join("\n"));
    everything.push_str(&sim.stdout.try_iter().collect::<Vec<_>>().join("\n"));
    assert!(
        everything.contains("azure call"),
        "the Azure calls were logged"
    );
    assert!(
        everything.contains("x_ms_request_id"),
        "with their request IDs"
    );
    assert!(!everything.contains(SECRET), "the secret is in a log");
    // Every file, including the first sync's (it starts as soon as validation queues it).
    let mut dirs = vec![dir.0.clone()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("data dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).expect("read");
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "the secret is readable in {}",
                path.display()
            );
        }
    }
}

/// Issue 3's story from a terminal: the simulator alone, set up with its admin subcommands, then
/// used with curl as a client would use Azure.
#[test]
fn the_simulator_from_the_command_line() {
    let port = free_port();
    let sim = Server::spawn({
        let mut c = command();
        c.args(["azure-sim", "--port", &port.to_string()]);
        c
    });
    sim.wait_stdout("Azure simulator listening");
    let url = format!("http://127.0.0.1:{port}");
    let admin = |args: &[&str]| -> Value {
        let out = command()
            .args(["azure-sim", "admin", "--sim-url", &url])
            .args(args)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let curl = |args: &[&str]| -> (String, Value) {
        let out = std::process::Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}"])
            .args(args)
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').expect("status line");
        (
            status.to_string(),
            serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
        )
    };
    admin(&["tenant", "--domain", "fabrikam.onmicrosoft.com"]);
    let app = admin(&[
        "app",
        "--tenant",
        "fabrikam.onmicrosoft.com",
        "--name",
        "billing",
    ]);
    let client_id = app["client_id"].as_str().expect("client id").to_string();
    let secret = app["secrets"][0]["value"]
        .as_str()
        .expect("secret")
        .to_string();
    let sp = app["service_principal_object_id"]
        .as_str()
        .expect("sp")
        .to_string();
    let user = admin(&[
        "user",
        "--tenant",
        "fabrikam.onmicrosoft.com",
        "--upn",
        "ea@fabrikam.com",
    ]);
    let admin_oid = user["object_id"].as_str().expect("oid").to_string();
    admin(&[
        "billing-account",
        "--agreement",
        "ea",
        "--tenant",
        "fabrikam.onmicrosoft.com",
        "--name",
        "1234567",
        "--admin",
        &admin_oid,
        "--rows-per-month",
        "100",
        "--seed",
        "42",
    ]);

    let (status, token) = curl(&[
        "-X",
        "POST",
        &format!("{url}/login/fabrikam.onmicrosoft.com/oauth2/v2.0/token"),
        "--data-urlencode",
        &format!("client_id={client_id}"),
        "--data-urlencode",
        &format!("client_secret={secret}"),
        "--data-urlencode",
        "scope=https://management.azure.com/.default",
        "-d",
        "grant_type=client_credentials",
    ]);
    assert_eq!(status, "200", "{token}");
    let bearer = format!(
        "Authorization: Bearer {}",
        token["access_token"].as_str().expect("token")
    );
    let account =
        format!("{url}/providers/Microsoft.Billing/billingAccounts/1234567?api-version=2024-04-01");
    let (status, _) = curl(&["-H", &bearer, &account]);
    assert_eq!(status, "403", "refused before the grant");

    let admin_token = admin(&["user-token", &admin_oid]);
    let admin_bearer = format!(
        "Authorization: Bearer {}",
        admin_token["access_token"].as_str().expect("token")
    );
    let body = json!({"properties": {"principalId": sp, "principalTenantId": app["tenant_id"],
        "roleDefinitionId": "/providers/Microsoft.Billing/billingAccounts/1234567/billingRoleDefinitions/24f8edb6-1668-4659-b5e2-40bb5f3a7d7e"}});
    let (status, assigned) = curl(&[
        "-X",
        "PUT",
        "-H",
        &admin_bearer,
        "-H",
        "Content-Type: application/json",
        "-d",
        &body.to_string(),
        &format!(
            "{url}/providers/Microsoft.Billing/billingAccounts/1234567/billingRoleAssignments/{}?api-version=2019-10-01-preview",
            uuid::Uuid::new_v4()
        ),
    ]);
    assert_eq!(status, "200", "{assigned}");
    let (status, got) = curl(&["-H", &bearer, &account]);
    assert_eq!(
        (status.as_str(), got["properties"]["agreementType"].as_str()),
        ("200", Some("EnterpriseAgreement"))
    );

    // A cost report: 202 with Location, poll, manifest, CSV.
    let out = std::process::Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "-X", "POST", "-H", &bearer, "-H", "Content-Type: application/json", "-d", r#"{"metric":"ActualCost","billingPeriod":"202610"}"#,
               &format!("{url}/providers/Microsoft.Billing/billingAccounts/1234567/providers/Microsoft.CostManagement/generateCostDetailsReport?api-version=2022-05-01")])
        .output()
        .expect("curl");
    let headers = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(headers.starts_with("HTTP/1.1 202"), "{headers}");
    let location = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .expect("Location")
        .trim()
        .to_string();
    let manifest = loop {
        let (status, body) = curl(&["-H", &bearer, &location]);
        if status == "200" {
            break body;
        }
        assert_eq!(status, "202");
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let blob = manifest["manifest"]["blobs"][0]["blobLink"]
        .as_str()
        .expect("blob link");
    let out = std::process::Command::new("curl")
        .args(["-s", blob])
        .output()
        .expect("download");
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines()
            .next()
            .expect("header")
            .contains("CostInBillingCurrency"),
        "{}",
        &csv[..200.min(csv.len())]
    );
    assert_eq!(
        out.stdout.len() as u64,
        manifest["manifest"]["blobs"][0]["byteCount"]
            .as_u64()
            .expect("size")
    );
}

/// `[server] header_read_timeout_seconds` and `max_connections` reach the server: a client that
/// never finishes its header is cut off after the configured second (the default is 10), and
/// with one connection allowed the next client waits for that slot.
#[test]
fn serve_applies_the_configured_connection_limits() {
    use std::io::Read;
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let dir = TempDir::new("limits");
    let port = free_port();
    let mut serve = command();
    serve
        .arg("serve")
        .env("BILLING_ENGINE_DATA_DIR", &dir.0)
        .env("BILLING_ENGINE_LISTEN", format!("127.0.0.1:{port}"))
        .env("BILLING_ENGINE_HEADER_READ_TIMEOUT_SECONDS", "1")
        .env("BILLING_ENGINE_MAX_CONNECTIONS", "1");
    let server = Server::spawn(serve);
    server.wait_stderr("\"listening\"");
    let mut slow = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        .expect("half a header");
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(100));
    let mut other = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    other
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("request");
    other
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut answer = String::new();
    other.read_to_string(&mut answer).expect("answered");
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(5),
        "served after {waited:?}: the one slot was held until the slow client was cut off"
    );
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the slow client was cut off after {:?}",
        started.elapsed()
    );
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"));
}

/// Lists come a page at a time (100 by default); the CLI reads every page (issue 12, item 14).
#[test]
fn the_cli_lists_every_page() {
    let demo = start_demo();
    let (url, token) = (demo.url.as_str(), demo.token.as_str());
    let script = r#"for i in $(seq 1 130); do
        curl -sf -o /dev/null -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
             -d "{\"name\": \"Paged $(printf %03d $i)\"}" "$1/api/v1/accounts" || exit 1
    done"#;
    let made = std::process::Command::new("sh")
        .args(["-c", script, "sh", url, token])
        .status()
        .expect("curl");
    assert!(made.success());
    let first = std::process::Command::new("curl")
        .args([
            "-s",
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("{url}/api/v1/accounts"),
        ])
        .output()
        .expect("curl");
    let page: Value = serde_json::from_slice(&first.stdout).expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(100));
    assert!(page["next_cursor"].is_string(), "{page}");
    let (ok, out, err) = client(url, token, &["accounts", "list", "--json"]);
    assert!(ok, "{err}");
    let all: Value = serde_json::from_str(&out).expect("json");
    let names: Vec<&str> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .filter(|n| n.starts_with("Paged "))
        .collect();
    let expected: Vec<String> = (1..=130).map(|i| format!("Paged {i:03}")).collect();
    assert_eq!(names, expected);
}
