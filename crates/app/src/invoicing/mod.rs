//! Invoicing: templates, customers, runs (draft, finalize with gapless numbers, immutable
//! documents with the SHA-256 of their PDF), period locks, re-rating a locked period into credit
//! and debit notes, the tie-out from the provider's total to the invoiced total, e-mail delivery
//! and monthly schedules. Documents are rendered and mail is sent through ports
//! ([`DocumentPort`], [`MailPort`]) the binary implements.

mod build;
mod customers;
mod delivery;
mod locks;
mod port;
mod rerate;
mod runs;
mod templates;
mod tieout;

use std::sync::Arc;

pub use customers::{CustomerInput, CustomerView};
pub use delivery::{DeliveryView, ScheduleInput, ScheduleView};
pub use locks::LockView;
pub use port::{DocumentPort, MailAttachment, MailFailure, MailPort, OutgoingMail};
pub use rerate::{InvoiceChange, LineChange, Rerate};
pub use runs::{InvoiceSummary, InvoiceView, RunRequest, RunView, Uninvoiced};
pub use templates::{FormulaBody, HeaderField, TemplateBody, TemplateView};
pub use tieout::{StepKind, TieOut, TieOutCurrency, TieOutStep};

/// What invoicing needs from the configuration and the binary.
#[derive(Clone)]
pub struct InvoiceSettings {
    /// Renders PDF and CSV; without it, previews still work as JSON.
    pub documents: Option<Arc<dyn DocumentPort>>,
    /// Sends e-mail; without it, invoices cannot be sent.
    pub mail: Option<Arc<dyn MailPort>>,
    /// Lock a period this many days after the provider closed it (none: only by hand and by
    /// finalizing).
    pub lock_days_after_close: Option<u32>,
    /// The first retry of a transient e-mail failure; each next one waits twice as long.
    pub mail_retry: time::Duration,
    /// Attempts before a delivery is marked failed.
    pub mail_attempts: i32,
}

impl Default for InvoiceSettings {
    fn default() -> Self {
        Self {
            documents: None,
            mail: None,
            lock_days_after_close: None,
            mail_retry: time::Duration::minutes(5),
            mail_attempts: 6,
        }
    }
}

impl std::fmt::Debug for InvoiceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvoiceSettings")
            .field("documents", &self.documents.is_some())
            .field("mail", &self.mail.is_some())
            .field("lock_days_after_close", &self.lock_days_after_close)
            .field("mail_retry", &self.mail_retry)
            .field("mail_attempts", &self.mail_attempts)
            .finish()
    }
}
