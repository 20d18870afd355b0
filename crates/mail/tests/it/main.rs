//! be-mail against a small SMTP server written here: it answers each command with a scripted
//! code and keeps what it received (the envelope and the DATA).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use be_mail::{Attachment, MailConfig, MailErrorKind, Mailer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The answers the server gives; `None` is the usual 250.
#[derive(Clone, Default)]
struct Script {
    auth: Option<&'static str>,
    rcpt: Option<&'static str>,
    data_end: Option<&'static str>,
}

#[derive(Default, Debug)]
struct Received {
    commands: Vec<String>,
    data: String,
}

/// Serve one SMTP session on a loopback port; what it received is filled in as it goes.
async fn server(script: Script) -> (u16, Arc<Mutex<Received>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(Received::default()));
    let keep = received.clone();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await.expect("greet");
        while let Ok(Some(line)) = lines.next_line().await {
            keep.lock().expect("lock").commands.push(line.clone());
            let verb = line.split([' ', ':']).next().unwrap_or("").to_uppercase();
            let answer = match verb.as_str() {
                "EHLO" => "250-test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME".to_string(),
                "AUTH" => script.auth.unwrap_or("235 2.7.0 Authenticated").into(),
                "RCPT" => script.rcpt.unwrap_or("250 2.1.5 Ok").into(),
                "DATA" => {
                    write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await.ok();
                    let mut data = String::new();
                    while let Ok(Some(l)) = lines.next_line().await {
                        if l == "." {
                            break;
                        }
                        data.push_str(&l);
                        data.push('\n');
                    }
                    keep.lock().expect("lock").data = data;
                    script.data_end.unwrap_or("250 2.0.0 Ok: queued as 42").into()
                }
                "QUIT" => {
                    write.write_all(b"221 2.0.0 Bye\r\n").await.ok();
                    break;
                }
                _ => "250 2.0.0 Ok".into(),
            };
            write.write_all(format!("{answer}\r\n").as_bytes()).await.ok();
        }
    });
    (port, received)
}

fn mailer(port: u16, userinfo: &str) -> Mailer {
    Mailer::new(&MailConfig {
        smtp_url: format!("smtp://{userinfo}127.0.0.1:{port}"),
        from: "Billing <billing@example.com>".into(),
        password: None,
    })
    .expect("valid configuration")
}

fn pdf() -> Attachment {
    Attachment {
        filename: "INV-000001.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: (0..=255u8).cycle().take(3000).collect(),
    }
}

async fn send(m: &Mailer) -> Result<String, be_mail::MailError> {
    m.send(
        &["ap@contoso.example".into(), "cfo@contoso.example".into()],
        "Invoice INV-000001",
        "Please find attached invoice INV-000001.",
        &[pdf()],
    )
    .await
}

#[tokio::test]
async fn a_message_arrives_with_its_attachment() {
    let (port, received) = server(Script::default()).await;
    let answer = send(&mailer(port, "")).await.expect("sent");
    assert_eq!(answer, "250 2.0.0 Ok: queued as 42");
    let r = received.lock().expect("lock");
    assert!(r.commands.iter().any(|c| c.contains("<billing@example.com>")), "{r:?}");
    for to in ["<ap@contoso.example>", "<cfo@contoso.example>"] {
        assert!(r.commands.iter().any(|c| c.starts_with("RCPT TO:") && c.contains(to)), "{to}");
    }
    assert!(r.data.contains("Subject: Invoice INV-000001"), "{}", r.data);
    assert!(r.data.contains("Please find attached invoice INV-000001."));
    // The attachment: its part's headers, then its base64 body up to the next boundary.
    let at = r.data.find("filename=\"INV-000001.pdf\"").expect("attachment part");
    let part = &r.data[at..];
    assert!(r.data[..at].contains("application/pdf") || part.contains("application/pdf"));
    let body_start = part.find("\n\n").expect("part body") + 2;
    let body: String = part[body_start..]
        .lines()
        .take_while(|l| !l.starts_with("--"))
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .expect("base64 body");
    assert_eq!(bytes, pdf().bytes);
}

#[tokio::test]
async fn a_4xx_answer_is_transient() {
    let (port, _) = server(Script {
        rcpt: Some("451 4.3.0 Mailbox busy, try later"),
        ..Script::default()
    })
    .await;
    let e = send(&mailer(port, "")).await.expect_err("deferred");
    assert_eq!(e.kind, MailErrorKind::Deferred, "{e:?}");
    assert!(e.transient);
    assert_eq!(e.code(), "mail_deferred");
    assert!(e.message.contains("451"), "{}", e.message);
}

#[tokio::test]
async fn a_5xx_answer_is_permanent() {
    let (port, _) = server(Script {
        data_end: Some("554 5.6.0 Message rejected: attachment too large"),
        ..Script::default()
    })
    .await;
    let e = send(&mailer(port, "")).await.expect_err("rejected");
    assert_eq!(e.kind, MailErrorKind::Rejected, "{e:?}");
    assert!(!e.transient);
    assert!(e.message.contains("554"), "{}", e.message);
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let e = send(&mailer(port, "")).await.expect_err("refused");
    assert_eq!(e.kind, MailErrorKind::Unreachable, "{e:?}");
    assert!(e.transient);
    assert!(e.message.contains(&format!("127.0.0.1:{port}")), "{}", e.message);
}

#[tokio::test]
async fn a_refused_password_is_permanent_and_never_shown() {
    let (port, received) = server(Script {
        auth: Some("535 5.7.8 Authentication credentials invalid"),
        ..Script::default()
    })
    .await;
    let m = mailer(port, "mailer:Sup3r-S3cret@");
    assert!(!format!("{m:?}").contains("Sup3r"));
    let e = send(&m).await.expect_err("refused");
    assert_eq!(e.kind, MailErrorKind::Rejected, "{e:?}");
    assert!(!e.transient);
    assert!(e.message.contains("535"), "{}", e.message);
    assert!(!format!("{e:?} {e}").contains("Sup3r"), "{e:?}");
    // The password did reach the server (AUTH PLAIN carries it in base64).
    let auth = received.lock().expect("lock").commands.iter().any(|c| c.starts_with("AUTH"));
    assert!(auth, "lettre authenticated");
}
