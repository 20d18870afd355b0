//! The app's mail port, implemented with `be-mail` (SMTP through lettre). Errors keep their code,
//! message and remedy across the port, and say whether a retry can help.

use anyhow::Context as _;
use be_app::invoicing::{MailFailure, MailPort, OutgoingMail};
use be_app::{Port, PortError, PortErrorKind};
use be_mail::{Attachment, MailError, MailErrorKind, Mailer};

/// Sends through the SMTP server of the `[mail]` configuration.
#[derive(Debug)]
pub struct MailPortSmtp {
    mailer: Mailer,
}

impl MailPortSmtp {
    /// The mailer the configuration asks for; `None` when `[mail]` is not set.
    pub fn from_config(config: &be_app::config::MailConfig) -> anyhow::Result<Option<Self>> {
        let (Some(smtp_url), Some(from)) = (&config.smtp_url, &config.from) else {
            return Ok(None);
        };
        let mail = be_mail::MailConfig {
            smtp_url: smtp_url.clone(),
            from: from.clone(),
            password: config.password.clone().map(Into::into),
        };
        let mailer = Mailer::new(&mail)
            .map_err(|e| anyhow::anyhow!("{}. {}", e.message, e.remedy()))
            .with_context(|| {
                format!(
                    "invalid configuration: mail.smtp_url {} or mail.from cannot be used",
                    be_app::config::redacted_smtp_url(smtp_url)
                )
            })?;
        Ok(Some(Self { mailer }))
    }
}

fn mail_failure(e: MailError) -> MailFailure {
    let kind = match e.kind {
        MailErrorKind::RecipientInvalid => PortErrorKind::Invalid,
        _ => PortErrorKind::Failed,
    };
    tracing::warn!(code = e.code(), transient = e.transient, error = %e.message, "e-mail not sent");
    MailFailure {
        transient: e.transient,
        error: PortError {
            code: e.code(),
            message: e.message.clone(),
            remedy: e.remedy().to_string(),
            kind,
            port: Port::Mail,
        },
    }
}

#[async_trait::async_trait]
impl MailPort for MailPortSmtp {
    async fn send(&self, mail: OutgoingMail) -> Result<String, MailFailure> {
        let attachments: Vec<Attachment> = mail
            .attachments
            .into_iter()
            .map(|a| Attachment {
                filename: a.filename,
                content_type: a.content_type,
                bytes: a.bytes,
            })
            .collect();
        self.mailer
            .send(&mail.to, &mail.subject, &mail.text_body, &attachments)
            .await
            .map_err(mail_failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_crosses_the_port_as_transient() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let config = be_app::config::MailConfig {
            smtp_url: Some(format!("smtp://billing:pw-secret@127.0.0.1:{port}")),
            from: Some("billing@example.com".into()),
            password: None,
        };
        let mailer = MailPortSmtp::from_config(&config).expect("valid").expect("set");
        let failure = mailer
            .send(OutgoingMail {
                to: vec!["ap@contoso.example".into()],
                subject: "Invoice".into(),
                text_body: "Attached.".into(),
                attachments: vec![],
            })
            .await
            .expect_err("nothing listens");
        assert!(failure.transient);
        assert_eq!(failure.error.code, "mail_server_unreachable");
        assert_eq!(failure.error.port, Port::Mail);
        assert!(!failure.error.message.contains("pw-secret"));
        let unset = be_app::config::MailConfig::default();
        assert!(MailPortSmtp::from_config(&unset).expect("unset").is_none());
    }

    #[test]
    fn an_unusable_server_fails_at_start_without_the_password() {
        let config = be_app::config::MailConfig {
            smtp_url: Some("smtp://billing:pw-secret@mail.example.com:25".into()),
            from: Some("billing@example.com".into()),
            password: None,
        };
        let e = MailPortSmtp::from_config(&config).expect_err("password in clear");
        let text = format!("{e:#}");
        assert!(text.contains("unencrypted") && text.contains("mail.smtp_url"), "{text}");
        assert!(!text.contains("pw-secret"), "{text}");
    }
}
