//! Sending final invoices by e-mail, and the monthly schedules that draft, finalize and send
//! them. Both run in the organization's invoicing job: a delivery is a stored row claimed by one
//! runner per attempt (so a crash retries, never sends twice from two servers), retried with
//! backoff on a transient failure and failed with the server's answer on a permanent one.

use be_domain::invoicing::{DeliveryState, InvoiceState};
use be_domain::{
    BillingPeriod, DeliveryId, Email, FieldError, InvoiceId, JobKind, JobSubject, OrganizationId,
    ScheduleId,
};
use be_store::{DeliveryRecord, InvoiceRecord, JobRecord, ScheduleRecord};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::port::{MailAttachment, OutgoingMail};
use super::runs::{RunRequest, document_of, invoice_not_found};
use crate::jobs::{JobControl, Stop};
use crate::{App, AppError, Caller, Result};

/// An e-mail of an invoice, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryView {
    pub id: String,
    pub invoice_id: String,
    pub recipients: Vec<String>,
    pub state: DeliveryState,
    pub attempts: i32,
    /// The mail server's last answer (`250 2.0.0 Ok: queued`, or why it refused).
    pub server_answer: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

fn delivery_view(d: DeliveryRecord) -> DeliveryView {
    DeliveryView {
        id: d.id.to_string(),
        invoice_id: d.invoice_id.to_string(),
        recipients: serde_json::from_str(&d.recipients).unwrap_or_default(),
        state: d.state,
        attempts: d.attempts,
        server_answer: d.server_answer,
        next_attempt_at: d.next_attempt_at,
        created_at: d.created_at,
        sent_at: d.sent_at,
    }
}

/// A monthly schedule as the user writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    pub name: String,
    /// A template's ID or name; the out-of-the-box one when absent.
    #[serde(default)]
    pub template: Option<String>,
    /// The day of the month the run is made (1–28), for the month before.
    pub day_of_month: u8,
    /// Finalize the run (numbers, lock) instead of leaving a draft to review.
    #[serde(default)]
    pub finalize: bool,
    /// E-mail each final invoice to its customer's recipients.
    #[serde(default)]
    pub send: bool,
}

/// A monthly schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleView {
    pub id: String,
    pub name: String,
    pub template_id: String,
    pub day_of_month: i32,
    pub finalize: bool,
    pub send: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub next_run_at: OffsetDateTime,
    pub last_run_id: Option<String>,
}

fn schedule_view(s: ScheduleRecord) -> ScheduleView {
    ScheduleView {
        id: s.id.to_string(),
        name: s.name,
        template_id: s.template_id.to_string(),
        day_of_month: s.day_of_month,
        finalize: s.finalize,
        send: s.send,
        next_run_at: s.next_run_at,
        last_run_id: s.last_run_id.map(|r| r.to_string()),
    }
}

/// Schedules run at this hour (UTC) of their day.
const SCHEDULE_HOUR: u8 = 6;

/// The first `day` at 06:00 UTC strictly after `now`.
pub(crate) fn next_schedule_time(now: OffsetDateTime, day: u8) -> OffsetDateTime {
    let this_month = BillingPeriod::of(now.date());
    [this_month, this_month.next()]
        .into_iter()
        .map(|p| {
            p.first_day()
                .replace_day(day)
                .expect("day 1-28")
                .with_hms(SCHEDULE_HOUR, 0, 0)
                .expect("valid hour")
                .assume_utc()
        })
        .find(|t| *t > now)
        .expect("next month's day is after now")
}

fn missing_recipients() -> AppError {
    FieldError::new(
        "recipients",
        "recipients_missing",
        "This customer has no e-mail recipient: add one to the customer, or give the addresses to send to.",
    )
    .into()
}

fn parse_recipients(raw: &[String]) -> Result<Vec<Email>> {
    let emails: Vec<Email> = raw
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| Email::parse(r).map_err(|e| super::templates::at(e, "recipients")))
        .collect::<std::result::Result<_, FieldError>>()?;
    if emails.is_empty() {
        return Err(missing_recipients());
    }
    Ok(emails)
}

impl App {
    pub(crate) async fn deliveries_of(
        &self,
        org: OrganizationId,
        invoice: InvoiceId,
    ) -> Result<Vec<DeliveryView>> {
        Ok(self
            .store
            .list_deliveries(org, invoice)
            .await?
            .into_iter()
            .map(delivery_view)
            .collect())
    }

    /// Queue an e-mail of a final invoice to `to`, or to its customer's recipients.
    pub async fn send_invoice(
        &self,
        caller: &Caller,
        id: &str,
        to: &[String],
    ) -> Result<DeliveryView> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let org = caller.organization_id;
        let record = self.invoice_record(org, id).await?;
        self.mailer()?;
        let d = self.queue_delivery(&record, to).await?;
        self.queue_invoicing(org, self.clock.now()).await?;
        Ok(delivery_view(d))
    }

    async fn queue_delivery(
        &self,
        record: &InvoiceRecord,
        to: &[String],
    ) -> Result<DeliveryRecord> {
        if record.state != InvoiceState::Final {
            return Err(AppError::Conflict {
                code: "invoice_not_final",
                field: None,
                message: "Only a final invoice can be sent; finalize its run first.".into(),
            });
        }
        // Who receives it may change after finalization (the billed details may not).
        let recipients = if to.iter().any(|t| !t.trim().is_empty()) {
            parse_recipients(to)?
        } else {
            let current = self
                .customer_map(record.organization_id)
                .await?
                .remove(&record.customer_key);
            let emails = current.map(|c| c.emails).filter(|e| !e.is_empty());
            emails.unwrap_or(document_of(record)?.customer.emails)
        };
        if recipients.is_empty() {
            return Err(missing_recipients());
        }
        let recipients: Vec<String> = recipients.iter().map(|e| e.as_str().to_string()).collect();
        let now = self.clock.now();
        let d = DeliveryRecord {
            id: DeliveryId::new(),
            organization_id: record.organization_id,
            invoice_id: record.id,
            recipients: serde_json::to_string(&recipients).map_err(AppError::internal)?,
            state: DeliveryState::Pending,
            attempts: 0,
            server_answer: None,
            next_attempt_at: Some(now),
            created_at: now,
            sent_at: None,
        };
        self.store.create_delivery(&d).await?;
        tracing::info!(invoice = %record.id, delivery = %d.id, recipients = recipients.len(), "invoice e-mail queued");
        Ok(d)
    }

    fn mailer(&self) -> Result<std::sync::Arc<dyn super::MailPort>> {
        self.settings.invoicing.mail.clone().ok_or_else(|| AppError::Conflict {
            code: "mail_unavailable",
            field: None,
            message: "This server cannot send e-mail: set [mail] smtp_url and from in its configuration.".into(),
        })
    }

    pub async fn invoice_schedules(&self, caller: &Caller) -> Result<Vec<ScheduleView>> {
        caller.require(be_domain::Permission::ReadInvoices)?;
        Ok(self
            .store
            .list_schedules(caller.organization_id)
            .await?
            .into_iter()
            .map(schedule_view)
            .collect())
    }

    pub async fn create_invoice_schedule(
        &self,
        caller: &Caller,
        input: ScheduleInput,
    ) -> Result<ScheduleView> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let org = caller.organization_id;
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(FieldError::new(
                "name",
                "schedule_name_invalid",
                "Give the schedule a name of 1 to 100 characters.",
            )
            .into());
        }
        if !(1..=28).contains(&input.day_of_month) {
            return Err(FieldError::new(
                "day_of_month",
                "schedule_day_invalid",
                "Choose a day from 1 to 28 (every month has it).",
            )
            .into());
        }
        if input.send && !input.finalize {
            return Err(FieldError::new(
                "send",
                "schedule_send_needs_finalize",
                "Only final invoices are sent: also tick finalize.",
            )
            .into());
        }
        if input.send {
            self.mailer()?;
        }
        let template = self.template_by(org, input.template.as_deref()).await?;
        let now = self.clock.now();
        let s = ScheduleRecord {
            id: ScheduleId::new(),
            organization_id: org,
            name: name.to_string(),
            template_id: template.id,
            day_of_month: i32::from(input.day_of_month),
            finalize: input.finalize,
            send: input.send,
            next_run_at: next_schedule_time(now, input.day_of_month),
            last_run_id: None,
            created_at: now,
        };
        self.store.create_schedule(&s).await?;
        self.queue_invoicing(org, s.next_run_at).await?;
        Ok(schedule_view(s))
    }

    pub async fn delete_invoice_schedule(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let not_found = || AppError::NotFound {
            code: "schedule_not_found",
            message: "No such schedule in this organization.".into(),
        };
        let id: ScheduleId = id.parse().map_err(|_| not_found())?;
        if self
            .store
            .delete_schedule(caller.organization_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    pub(crate) async fn queue_invoicing(
        &self,
        org: OrganizationId,
        when: OffsetDateTime,
    ) -> Result<JobRecord> {
        self.enqueue_by(org, JobSubject::Organization, JobKind::Invoice, when)
            .await
    }

    /// The invoicing job: lock closed periods, run due schedules, send due e-mails, then queue
    /// itself for the next thing due.
    pub(crate) async fn run_invoicing(
        &self,
        job: &JobRecord,
        control: &JobControl,
    ) -> std::result::Result<(), Stop> {
        let org = job.organization_id;
        let mut next = self.lock_closed_periods(org).await?;
        control.check()?;
        for s in self.store.list_schedules(org).await? {
            let due = self.run_schedule_if_due(s).await?;
            next = earliest(next, Some(due));
        }
        control.check()?;
        next = earliest(next, self.send_due_deliveries(org, control).await?);
        if let Some(when) = next {
            self.queue_invoicing(org, when).await?;
        }
        Ok(())
    }

    /// Run a schedule whose time has come; returns its next time.
    async fn run_schedule_if_due(&self, s: ScheduleRecord) -> Result<OffsetDateTime> {
        let now = self.clock.now();
        if s.next_run_at > now {
            return Ok(s.next_run_at);
        }
        let day = u8::try_from(s.day_of_month).unwrap_or(1);
        let next = next_schedule_time(now, day);
        if !self.store.claim_schedule(&s, next).await? {
            return Ok(next);
        }
        let s = ScheduleRecord {
            next_run_at: next,
            ..s
        };
        if let Err(e) = self.run_schedule(&s).await {
            tracing::error!(schedule = %s.id, error = %e.chain(), "scheduled invoice run failed; it runs again next month");
        }
        Ok(next)
    }

    async fn run_schedule(&self, s: &ScheduleRecord) -> Result<()> {
        let org = s.organization_id;
        let last_month = BillingPeriod::of(self.clock.now().date()).previous();
        let request = RunRequest {
            template: Some(s.template_id.to_string()),
            from: last_month.key(),
            to: None,
            issue_date: None,
            parameters: vec![],
        };
        let run = self.draft_run(org, None, request).await?;
        self.store
            .update_schedule(&ScheduleRecord {
                last_run_id: Some(run),
                ..s.clone()
            })
            .await?;
        tracing::info!(schedule = %s.id, run = %run, period = %last_month, "scheduled invoice run drafted");
        if !s.finalize {
            return Ok(());
        }
        let finals = self.finalize_run(org, run, None).await?;
        if s.send {
            for invoice in &finals {
                if let Err(e) = self.queue_delivery(invoice, &[]).await {
                    tracing::warn!(invoice = %invoice.id, error = %e.chain(), "scheduled invoice not sent");
                }
            }
        }
        Ok(())
    }

    /// Attempt every delivery due now; returns when the next retry is due.
    async fn send_due_deliveries(
        &self,
        org: OrganizationId,
        control: &JobControl,
    ) -> std::result::Result<Option<OffsetDateTime>, Stop> {
        let mut next = None;
        for d in self.store.pending_deliveries(org, 100).await? {
            control.check()?;
            let due = d.next_attempt_at.unwrap_or(d.created_at);
            if due > self.clock.now() {
                next = earliest(next, Some(due));
                continue;
            }
            if let Some(retry) = self.attempt_delivery(d).await? {
                next = earliest(next, Some(retry));
            }
        }
        Ok(next)
    }

    /// One attempt; returns the retry time when it stays pending.
    async fn attempt_delivery(&self, d: DeliveryRecord) -> Result<Option<OffsetDateTime>> {
        let settings = &self.settings.invoicing;
        let backoff =
            settings.mail_retry * 2i32.pow(u32::try_from(d.attempts).unwrap_or(0).min(10));
        let retry_at = self.clock.now() + backoff;
        if !self.store.claim_delivery(&d, retry_at).await? {
            return Ok(None);
        }
        let attempts = d.attempts + 1;
        let outcome = self.send_one(&d).await;
        let updated = match outcome {
            Ok(answer) => DeliveryRecord {
                state: DeliveryState::Sent,
                attempts,
                server_answer: Some(answer),
                next_attempt_at: None,
                sent_at: Some(self.clock.now()),
                ..d
            },
            Err((answer, transient)) if transient && attempts < settings.mail_attempts => {
                DeliveryRecord {
                    attempts,
                    server_answer: Some(answer),
                    next_attempt_at: Some(retry_at),
                    ..d
                }
            }
            Err((answer, _)) => DeliveryRecord {
                state: DeliveryState::Failed,
                attempts,
                server_answer: Some(answer),
                next_attempt_at: None,
                ..d
            },
        };
        tracing::info!(delivery = %updated.id, state = updated.state.as_str(), attempts, "invoice e-mail attempt");
        self.store.update_delivery(&updated).await?;
        Ok((updated.state == DeliveryState::Pending).then_some(retry_at))
    }

    /// Render and send; an error is the answer to record and whether to try again.
    async fn send_one(&self, d: &DeliveryRecord) -> std::result::Result<String, (String, bool)> {
        let invoice = self
            .store
            .get_invoice(d.organization_id, d.invoice_id)
            .await
            .map_err(|e| (e.to_string(), true))?;
        let invoice = invoice.ok_or_else(|| (invoice_not_found().to_string(), false))?;
        let doc = document_of(&invoice).map_err(|e| (e.to_string(), false))?;
        let pdf = self
            .render_pdf(&doc)
            .await
            .map_err(|e| (e.to_string(), true))?;
        let number = invoice.number.clone().unwrap_or_default();
        let mail = OutgoingMail {
            to: serde_json::from_str(&d.recipients).unwrap_or_default(),
            subject: format!("{} {} from {}", doc.kind.title(), number, doc.issuer.name),
            text_body: mail_body(&doc, &number),
            attachments: vec![MailAttachment {
                filename: format!("{number}.pdf"),
                content_type: "application/pdf".into(),
                bytes: pdf,
            }],
        };
        let mailer = self.mailer().map_err(|e| (e.to_string(), true))?;
        mailer
            .send(mail)
            .await
            .map_err(|f| (f.error.to_string(), f.transient))
    }
}

fn mail_body(doc: &be_domain::invoicing::InvoiceDocument, number: &str) -> String {
    format!(
        "Dear {},\n\nplease find attached {} {} for {} to {}: {} {}, due on {}.\n\n{}\n",
        doc.customer.billing_name,
        doc.kind.title().to_lowercase(),
        number,
        doc.period_from,
        doc.period_to,
        doc.total,
        doc.currency.code(),
        doc.due_date,
        doc.issuer.name,
    )
}

fn earliest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn schedules_run_on_their_day_at_six() {
        assert_eq!(
            next_schedule_time(datetime!(2026-11-03 07:00 UTC), 5),
            datetime!(2026-11-05 06:00 UTC)
        );
        assert_eq!(
            next_schedule_time(datetime!(2026-11-05 06:00 UTC), 5),
            datetime!(2026-12-05 06:00 UTC)
        );
        assert_eq!(
            next_schedule_time(datetime!(2026-12-20 00:00 UTC), 1),
            datetime!(2027-01-01 06:00 UTC)
        );
    }

    #[test]
    fn recipients_are_checked() {
        assert!(parse_recipients(&["".into()]).is_err());
        assert!(parse_recipients(&["not an address".into()]).is_err());
        let ok = parse_recipients(&["Billing@Example.com".into()]).expect("a valid address");
        assert_eq!(ok[0].as_str(), "billing@example.com");
    }
}
