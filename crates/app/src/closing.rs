//! When the provider has closed a period, so the sync stops pulling it again (the one owner of the
//! rule; README "When a month is closed").
//!
//! - **MCA**: the provider's own signal. A period is closed when its last pull had an invoice ID
//!   (`invoiceId`) on every row. Rows without one are not invoiced yet: the month stays open. A pull
//!   where no row carries an invoice ID at all gives no signal (an export without the column, an
//!   empty month): the EA window below decides, so such a month cannot stay open forever.
//! - **EA** (no invoice signal in the data): a period is closed when its last pull happened after
//!   the closing point, the end of the month plus a configured window (`[sync] ea_close_days`, 10 by
//!   default). It is judged from the time of the last pull each time the sync plans, so a longer
//!   window reopens the months pulled too early, and a month first pulled late is closed by that
//!   pull (its data is final), not by the day it was planned.

use be_domain::{AgreementType, BillingPeriod};
use be_store::PeriodRecord;
use time::OffsetDateTime;

/// The days after month end an EA period closes, by default.
pub const DEFAULT_EA_CLOSE_DAYS: u32 = 10;

/// What a period's rows say about invoicing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invoicing {
    pub rows: u64,
    /// Rows with a non-empty invoice ID.
    pub invoiced_rows: u64,
}

/// The closing rule of a server: the EA window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosingRule {
    pub ea_close_days: u32,
}

impl Default for ClosingRule {
    fn default() -> Self {
        Self {
            ea_close_days: DEFAULT_EA_CLOSE_DAYS,
        }
    }
}

impl ClosingRule {
    /// The end of the month plus the window (UTC midnight).
    pub fn closing_point(&self, period: BillingPeriod) -> OffsetDateTime {
        period.next().first_day().midnight().assume_utc()
            + time::Duration::days(i64::from(self.ea_close_days))
    }

    fn pulled_after_closing(&self, period: BillingPeriod, pulled_at: OffsetDateTime) -> bool {
        pulled_at >= self.closing_point(period)
    }

    /// Whether a pull at `pulled_at` closes the period (what is stored as the period's `closed`).
    pub fn closed_by_pull(
        &self,
        agreement: Option<AgreementType>,
        period: BillingPeriod,
        pulled_at: OffsetDateTime,
        invoicing: Invoicing,
    ) -> bool {
        match agreement {
            Some(AgreementType::MicrosoftCustomerAgreement) if invoicing.invoiced_rows > 0 => {
                invoicing.invoiced_rows == invoicing.rows
            }
            _ => self.pulled_after_closing(period, pulled_at),
        }
    }

    /// Whether a stored period is closed now: MCA keeps what its last pull saw (the provider's
    /// signal); EA is judged again from its last pull's time and today's window.
    pub fn is_closed(&self, agreement: Option<AgreementType>, p: &PeriodRecord) -> bool {
        match agreement {
            Some(AgreementType::MicrosoftCustomerAgreement) => p.closed,
            _ => BillingPeriod::parse(&p.period)
                .map(|period| self.pulled_after_closing(period, p.pulled_at))
                .unwrap_or(false),
        }
    }

    /// The rule in a sentence, for the console and the API.
    pub fn describe(&self) -> String {
        format!(
            "EA: a month is closed when its last pull happened at least {} days after the month ended. \
             MCA: when every row of its last pull carries an invoice ID (without any invoice ID, the EA rule). \
             Open months are pulled again at every sync.",
            self.ea_close_days
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn nov() -> BillingPeriod {
        BillingPeriod::parse("2026-11").expect("period")
    }

    const EA: Option<AgreementType> = Some(AgreementType::EnterpriseAgreement);
    const MCA: Option<AgreementType> = Some(AgreementType::MicrosoftCustomerAgreement);

    #[test]
    fn ea_closes_when_pulled_after_month_end_plus_the_window() {
        let rule = ClosingRule { ea_close_days: 10 };
        assert_eq!(rule.closing_point(nov()), datetime!(2026-12-11 00:00 UTC));
        let none = Invoicing {
            rows: 5,
            invoiced_rows: 0,
        };
        assert!(!rule.closed_by_pull(EA, nov(), datetime!(2026-12-10 23:59 UTC), none));
        assert!(rule.closed_by_pull(EA, nov(), datetime!(2026-12-11 00:00 UTC), none));
        let longer = ClosingRule { ea_close_days: 20 };
        assert!(!longer.closed_by_pull(EA, nov(), datetime!(2026-12-15 00:00 UTC), none));
    }

    #[test]
    fn mca_follows_the_invoice_ids_and_falls_back_to_the_window_without_any() {
        let rule = ClosingRule::default();
        let early = datetime!(2026-12-03 00:00 UTC);
        let all = Invoicing {
            rows: 5,
            invoiced_rows: 5,
        };
        let some = Invoicing {
            rows: 5,
            invoiced_rows: 4,
        };
        let none = Invoicing {
            rows: 5,
            invoiced_rows: 0,
        };
        assert!(
            rule.closed_by_pull(MCA, nov(), early, all),
            "invoiced before the window"
        );
        assert!(!rule.closed_by_pull(MCA, nov(), datetime!(2027-01-20 00:00 UTC), some));
        assert!(!rule.closed_by_pull(MCA, nov(), early, none));
        assert!(rule.closed_by_pull(MCA, nov(), datetime!(2026-12-20 00:00 UTC), none));
        // EA has no invoice signal: invoice IDs do not close it early.
        assert!(!rule.closed_by_pull(EA, nov(), early, all));
    }
}
