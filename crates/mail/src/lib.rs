//! Outgoing e-mail over SMTP (lettre on tokio, rustls). A failure says whether trying again later
//! can help: a 4xx answer or a connection that could not be made is transient, a 5xx answer is
//! permanent. The server's password is never in `Debug` output nor in an error message.

mod error;

use std::fmt;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment as Part, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

pub use error::{MailError, MailErrorKind};

/// How to reach the SMTP server.
#[derive(Clone)]
pub struct MailConfig {
    /// `smtp://host:25` (plain), `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465`,
    /// optionally with `user:password@`.
    pub smtp_url: String,
    /// The sender: `billing@example.com` or `Billing <billing@example.com>`.
    pub from: String,
    /// The password, when it is kept out of the URL (an environment variable); wins over the URL's.
    pub password: Option<SecretString>,
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &redacted_url(&self.smtp_url))
            .field("from", &self.from)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The URL without its password (`smtp://user:***@host:25`), or a placeholder if it does not parse.
pub fn redacted_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => "[not a URL]".into(),
    }
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    /// `application/pdf`, `text/csv`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A connection recipe for one SMTP server and sender, checked once.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for messages.
    server: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

const TIMEOUT: Duration = Duration::from_secs(30);

impl Mailer {
    /// Check the configuration: the URL's scheme and host, the sender, no password in clear text
    /// to another machine.
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let url = Url::parse(&config.smtp_url).map_err(|e| {
            MailError::config(format!(
                "the SMTP URL cannot be read ({e}); write it as smtp://host:25, smtp://host:587?tls=required or smtps://host:465"
            ))
        })?;
        let host = url
            .host_str()
            .ok_or_else(|| MailError::config("the SMTP URL names no host".into()))?
            .to_string();
        let tls = match (url.scheme(), tls_param(&url).as_deref()) {
            ("smtps", _) | ("smtp", Some("required")) => true,
            ("smtp", None | Some("opportunistic")) => false,
            (scheme, tls) => {
                return Err(MailError::config(format!(
                    "the SMTP URL starts with {scheme}:// and says tls={}; use smtp:// (optionally ?tls=required or ?tls=opportunistic) or smtps://",
                    tls.unwrap_or("")
                )));
            }
        };
        let password = config
            .password
            .as_ref()
            .map(|p| p.expose_secret().to_string())
            .or_else(|| url.password().map(|p| percent_decode(p)));
        if password.is_some() && !tls && !is_loopback(&host) {
            return Err(MailError::config(format!(
                "a password would travel unencrypted to {host}; use smtps:// or add ?tls=required"
            )));
        }
        let from: Mailbox = config.from.parse().map_err(|e| {
            MailError::config(format!(
                "the sender {:?} is not an e-mail address ({e})",
                config.from
            ))
        })?;
        let mut without_secret = url.clone();
        let _ = without_secret.set_password(None);
        let _ = without_secret.set_username("");
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(without_secret.as_str())
            .map_err(|e| MailError::config(format!("the SMTP URL cannot be used: {e}")))?
            .timeout(Some(TIMEOUT));
        if let Some(password) = password {
            let user = percent_decode(url.username());
            builder = builder.credentials(Credentials::new(user, password));
        }
        let server = format!("{host}:{}", url.port().unwrap_or(if tls { 465 } else { 25 }));
        Ok(Self {
            transport: builder.build(),
            from,
            server,
        })
    }

    /// Send a plain-text message with attachments; the server's answer on success
    /// (`250 2.0.0 Ok: queued as ...`).
    pub async fn send(
        &self,
        to: &[String],
        subject: &str,
        text_body: &str,
        attachments: &[Attachment],
    ) -> Result<String, MailError> {
        let message = self.message(to, subject, text_body, attachments)?;
        let response = self
            .transport
            .send(message)
            .await
            .map_err(|e| MailError::from_smtp(&e, &self.server))?;
        let text: Vec<&str> = response.message().collect();
        Ok(format!("{} {}", response.code(), text.join(" ")).trim_end().to_string())
    }

    fn message(
        &self,
        to: &[String],
        subject: &str,
        text_body: &str,
        attachments: &[Attachment],
    ) -> Result<Message, MailError> {
        if to.is_empty() {
            return Err(MailError::recipient("the message has no recipient".into()));
        }
        let mut builder = Message::builder().from(self.from.clone()).subject(subject);
        for address in to {
            let mailbox: Mailbox = address.parse().map_err(|e| {
                MailError::recipient(format!("{address:?} is not an e-mail address ({e})"))
            })?;
            builder = builder.to(mailbox);
        }
        let mut body = MultiPart::mixed().singlepart(SinglePart::plain(text_body.to_string()));
        for a in attachments {
            let content_type = ContentType::parse(&a.content_type).map_err(|e| {
                MailError::message(format!(
                    "the attachment {:?} has no valid content type {:?} ({e})",
                    a.filename, a.content_type
                ))
            })?;
            body = body.singlepart(Part::new(a.filename.clone()).body(a.bytes.clone(), content_type));
        }
        builder
            .multipart(body)
            .map_err(|e| MailError::message(format!("the message cannot be built: {e}")))
    }
}

fn tls_param(url: &Url) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned())
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> MailConfig {
        MailConfig {
            smtp_url: url.into(),
            from: "Billing <billing@example.com>".into(),
            password: None,
        }
    }

    #[test]
    fn the_password_is_never_shown() {
        let c = config("smtps://mailer:s3cr%40t-pw@mail.example.com:465");
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(shown.contains("mail.example.com"), "{shown}");
        let m = Mailer::new(&c).expect("valid");
        let shown = format!("{m:?}");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert_eq!(m.server, "mail.example.com:465");
    }

    #[test]
    fn configuration_mistakes_are_named() {
        for (url, words) in [
            ("mail.example.com", "cannot be read"),
            ("http://mail.example.com", "http://"),
            ("smtp://u:pw@mail.example.com:25", "unencrypted"),
            ("smtp://mail.example.com?tls=maybe", "tls=maybe"),
        ] {
            let e = Mailer::new(&config(url)).expect_err(url);
            assert_eq!(e.kind, MailErrorKind::ConfigInvalid, "{url}");
            assert!(e.message.contains(words), "{url}: {}", e.message);
            assert!(!e.message.contains("pw@"), "{}", e.message);
            assert!(!e.transient);
        }
        let mut c = config("smtp://127.0.0.1:2525");
        c.from = "not an address".into();
        let e = Mailer::new(&c).expect_err("from");
        assert!(e.message.contains("not an address"), "{}", e.message);
        // A password to this machine may go in clear (a local relay).
        assert!(Mailer::new(&config("smtp://u:pw@127.0.0.1:2525")).is_ok());
        assert!(Mailer::new(&config("smtp://u:pw@mail.example.com:587?tls=required")).is_ok());
    }

    #[test]
    fn percent_decoding_keeps_plus_signs() {
        assert_eq!(percent_decode("a%40b+c"), "a@b+c");
    }
}
