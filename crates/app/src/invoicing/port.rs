//! The adapters invoicing needs, as ports the binary implements: the renderer of PDF and CSV
//! documents (`be-documents`, Typst) and the SMTP mailer (`be-mail`, lettre). Errors cross them
//! with their code, message and remedy intact ([`PortError`]).

use be_domain::invoicing::InvoiceDocument;

use crate::rating::PortError;

/// Renders invoice documents. Rendering is deterministic: the same document gives the same bytes.
pub trait DocumentPort: Send + Sync + 'static {
    fn render_pdf(&self, doc: &InvoiceDocument) -> Result<Vec<u8>, PortError>;
    fn render_csv(&self, doc: &InvoiceDocument) -> Result<Vec<u8>, PortError>;
}

/// A file attached to an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Vec<String>,
    pub subject: String,
    pub text_body: String,
    pub attachments: Vec<MailAttachment>,
}

/// A failed send: the mailer's error, and whether trying again later may succeed (a 4xx answer,
/// a connection failure) or not (a 5xx answer, a refused address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFailure {
    pub error: PortError,
    pub transient: bool,
}

/// Sends e-mail; returns the server's answer to record (`250 2.0.0 Ok: queued as 1234`).
#[async_trait::async_trait]
pub trait MailPort: Send + Sync + 'static {
    async fn send(&self, mail: OutgoingMail) -> Result<String, MailFailure>;
}
