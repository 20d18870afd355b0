//! The mail crate's one error: what went wrong (a stable code), a message for people that never
//! carries the password, and whether trying again later can help.

use std::fmt;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailErrorKind {
    /// The `[mail]` configuration cannot be used.
    ConfigInvalid,
    /// A recipient is not an e-mail address (or there is none).
    RecipientInvalid,
    /// The message could not be built (an attachment's content type).
    MessageInvalid,
    /// The server answered 4xx: try again later.
    Deferred,
    /// The server answered 5xx: it will not take this message.
    Rejected,
    /// The server could not be reached, or the connection broke or timed out.
    Unreachable,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
}

impl MailErrorKind {
    /// The stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::ConfigInvalid => "mail_config_invalid",
            Self::RecipientInvalid => "mail_recipient_invalid",
            Self::MessageInvalid => "mail_message_invalid",
            Self::Deferred => "mail_deferred",
            Self::Rejected => "mail_rejected",
            Self::Unreachable => "mail_server_unreachable",
            Self::Tls => "mail_tls_failed",
        }
    }

    /// What a person can do about it.
    pub fn remedy(self) -> &'static str {
        match self {
            Self::ConfigInvalid => "Correct the [mail] section of the configuration and restart.",
            Self::RecipientInvalid => "Correct the customer's e-mail addresses, then send again.",
            Self::MessageInvalid => "Report it with the invoice's number.",
            Self::Deferred => "Nothing: the message is sent again later.",
            Self::Rejected => {
                "Read the server's answer (recipient, size, authentication), fix the cause, then send again."
            }
            Self::Unreachable => {
                "Check the SMTP server's address and that it is running; the message is sent again later."
            }
            Self::Tls => {
                "Check the server's certificate and the URL's TLS setting (smtps:// for port 465, ?tls=required for 587)."
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailError {
    pub kind: MailErrorKind,
    /// For people; never carries the password.
    pub message: String,
    /// Trying again later can help (4xx answers, connection failures).
    pub transient: bool,
}

impl MailError {
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn remedy(&self) -> &'static str {
        self.kind.remedy()
    }

    fn new(kind: MailErrorKind, message: String, transient: bool) -> Self {
        Self {
            kind,
            message,
            transient,
        }
    }

    pub(crate) fn config(message: String) -> Self {
        Self::new(MailErrorKind::ConfigInvalid, message, false)
    }

    pub(crate) fn recipient(message: String) -> Self {
        Self::new(MailErrorKind::RecipientInvalid, message, false)
    }

    pub(crate) fn message(message: String) -> Self {
        Self::new(MailErrorKind::MessageInvalid, message, false)
    }

    /// lettre's error, classified. Its text names the answer or the I/O failure, never the
    /// credentials (they are not part of any of its messages).
    pub(crate) fn from_smtp(e: &lettre::transport::smtp::Error, server: &str) -> Self {
        let cause = chain(e);
        if let Some(code) = e.status() {
            let code = code.to_string();
            if e.is_transient() {
                let msg = format!("{server} answered {code} (try later): {cause}");
                return Self::new(MailErrorKind::Deferred, msg, true);
            }
            let msg = format!("{server} refused the message with {code}: {cause}");
            return Self::new(MailErrorKind::Rejected, msg, false);
        }
        if e.is_tls() {
            let msg = format!("the TLS connection to {server} failed: {cause}");
            return Self::new(MailErrorKind::Tls, msg, false);
        }
        let msg = format!("{server} could not be reached: {cause}");
        Self::new(MailErrorKind::Unreachable, msg, true)
    }
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MailError {}
