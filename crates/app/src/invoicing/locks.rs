//! Period locks: a locked period is not re-rated by syncs or configuration changes; a change that
//! arrives for it is kept (the data is stored) and shown as pending until a person re-rates the
//! period (credit and debit notes) or unlocks it. Finalizing a period's invoices locks it; people
//! lock by hand; and a period closed by the provider locks itself after a configured delay.

use be_domain::invoicing::LockReason;
use be_domain::{BillingPeriod, OrganizationId, UserId};
use be_store::PeriodLockRecord;
use serde::Serialize;
use time::OffsetDateTime;

use crate::{App, AppError, Caller, Result};

/// A locked period, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockView {
    pub period: String,
    pub reason: LockReason,
    pub locked_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub locked_at: OffsetDateTime,
    /// Data or configuration changed since the lock (re-rate to bill the difference).
    #[serde(with = "time::serde::rfc3339::option")]
    pub pending_since: Option<OffsetDateTime>,
}

fn view_of(l: PeriodLockRecord) -> LockView {
    LockView {
        period: l.period,
        reason: l.reason,
        locked_by: l.locked_by.map(|u| u.to_string()),
        locked_at: l.locked_at,
        pending_since: l.pending_since,
    }
}

impl App {
    pub async fn period_locks(&self, caller: &Caller) -> Result<Vec<LockView>> {
        caller.require(be_domain::Permission::ReadInvoices)?;
        Ok(self
            .store
            .list_period_locks(caller.organization_id)
            .await?
            .into_iter()
            .map(view_of)
            .collect())
    }

    /// Lock a period by hand.
    pub async fn lock_period(&self, caller: &Caller, period: &str) -> Result<LockView> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let period = BillingPeriod::parse(period)?;
        let org = caller.organization_id;
        if let Some(existing) = self.lock_of(org, period).await? {
            return Ok(view_of(existing));
        }
        let lock = self.new_lock(org, period, LockReason::Manual, Some(caller.user_id));
        self.store.lock_period(&lock).await?;
        tracing::info!(period = %period, "period locked by hand");
        Ok(view_of(lock))
    }

    /// Unlock a period: it is rated automatically again, at once if changes are pending.
    pub async fn unlock_period(&self, caller: &Caller, period: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let period = BillingPeriod::parse(period)?;
        let org = caller.organization_id;
        let lock = self
            .lock_of(org, period)
            .await?
            .ok_or_else(|| AppError::NotFound {
                code: "period_not_locked",
                message: format!("{period} is not locked."),
            })?;
        self.store.unlock_period(org, &period.key()).await?;
        tracing::info!(period = %period, "period unlocked");
        if lock.pending_since.is_some() {
            self.data_changed(org, &[period]).await?;
        }
        Ok(())
    }

    pub(crate) async fn lock_of(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
    ) -> Result<Option<PeriodLockRecord>> {
        Ok(self
            .store
            .list_period_locks(org)
            .await?
            .into_iter()
            .find(|l| l.period == period.key()))
    }

    pub(crate) fn new_lock(
        &self,
        org: OrganizationId,
        period: BillingPeriod,
        reason: LockReason,
        by: Option<UserId>,
    ) -> PeriodLockRecord {
        PeriodLockRecord {
            organization_id: org,
            period: period.key(),
            reason,
            locked_by: by,
            locked_at: self.clock.now(),
            pending_since: None,
        }
    }

    /// Split changed periods into those to rate and the locked ones (marked pending).
    pub(crate) async fn hold_locked(
        &self,
        org: OrganizationId,
        periods: &[BillingPeriod],
    ) -> Result<Vec<BillingPeriod>> {
        let locks = self.store.list_period_locks(org).await?;
        let mut open = Vec::new();
        for p in periods {
            if locks.iter().any(|l| l.period == p.key()) {
                self.store
                    .mark_lock_pending(org, &p.key(), self.clock.now())
                    .await?;
                tracing::info!(period = %p, "a change arrived for a locked period; kept and shown as pending");
            } else {
                open.push(*p);
            }
        }
        Ok(open)
    }

    /// Lock the periods the provider closed at least the configured number of days ago; returns
    /// when the next one would be due (none if nothing waits).
    pub(crate) async fn lock_closed_periods(
        &self,
        org: OrganizationId,
    ) -> Result<Option<OffsetDateTime>> {
        let Some(days) = self.settings.invoicing.lock_days_after_close else {
            return Ok(None);
        };
        let delay = time::Duration::days(i64::from(days));
        let locks = self.store.list_period_locks(org).await?;
        let now = self.clock.now();
        let mut next: Option<OffsetDateTime> = None;
        let rule = self.settings.sync.closing;
        for c in self.store.list_connections(org).await? {
            for p in self
                .store
                .list_periods(org, c.id)
                .await?
                .into_iter()
                .filter(|p| rule.is_closed(c.agreement_type, p))
            {
                if locks.iter().any(|l| l.period == p.period) {
                    continue;
                }
                // A closed period is not pulled again: its last pull is when it was seen closed.
                let due = p.pulled_at + delay;
                if due <= now {
                    let period = BillingPeriod::parse(&p.period)?;
                    if self.lock_of(org, period).await?.is_none() {
                        self.store
                            .lock_period(&self.new_lock(
                                org,
                                period,
                                LockReason::ProviderClosed,
                                None,
                            ))
                            .await?;
                        tracing::info!(period = %period, days, "period locked after the provider closed it");
                    }
                } else {
                    next = Some(next.map_or(due, |n| n.min(due)));
                }
            }
        }
        Ok(next)
    }
}
