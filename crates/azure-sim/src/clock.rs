//! An injectable clock: wall time plus an offset that tests can move, or a frozen instant.
//!
//! Everything that expires in the simulator (client secrets, access tokens, signed blob URLs,
//! report validity, the 13-month window of Cost Details) reads this clock, never the system time.

use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Default)]
pub struct SimClock {
    inner: Arc<Mutex<ClockState>>,
}

#[derive(Debug, Default)]
struct ClockState {
    offset: Duration,
    frozen: Option<OffsetDateTime>,
}

impl SimClock {
    /// A clock that follows the system time.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock frozen at `at` (it moves only when told to).
    pub fn frozen(at: OffsetDateTime) -> Self {
        let c = Self::default();
        c.set(at);
        c
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now(&self) -> OffsetDateTime {
        let s = self.lock();
        match s.frozen {
            Some(t) => t + s.offset,
            None => OffsetDateTime::now_utc() + s.offset,
        }
    }

    /// Move the clock forward (or backward with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut s = self.lock();
        s.offset += by;
    }

    /// Freeze the clock at `at`.
    pub fn set(&self, at: OffsetDateTime) {
        let mut s = self.lock();
        s.frozen = Some(at);
        s.offset = Duration::ZERO;
    }

    /// Follow the system time again (offset reset).
    pub fn unfreeze(&self) {
        let mut s = self.lock();
        s.frozen = None;
        s.offset = Duration::ZERO;
    }
}

/// RFC 3339 with 7 fractional digits, as Azure prints (`2022-05-10T08:08:46.1973252Z`).
pub(crate) fn azure_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

/// `2016-01-09 02:02:12Z`, the Entra ID timestamp format.
pub(crate) fn entra_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `8/4/2021 3:53:17 PM`, the format of ARM's ExpiredAuthenticationToken message.
pub(crate) fn arm_us_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (h12, ampm) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        h12,
        t.minute(),
        t.second(),
        ampm
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let c = SimClock::frozen(datetime!(2025-01-02 03:04:05 UTC));
        assert_eq!(c.now(), datetime!(2025-01-02 03:04:05 UTC));
        c.advance(Duration::hours(2));
        assert_eq!(c.now(), datetime!(2025-01-02 05:04:05 UTC));
    }

    #[test]
    fn formats() {
        let t = datetime!(2022-05-10 08:08:46.1973252 UTC);
        assert_eq!(azure_datetime(t), "2022-05-10T08:08:46.1973252Z");
        assert_eq!(entra_timestamp(t), "2022-05-10 08:08:46Z");
        assert_eq!(
            arm_us_datetime(datetime!(2021-08-04 15:53:17 UTC)),
            "8/4/2021 3:53:17 PM"
        );
        assert_eq!(
            arm_us_datetime(datetime!(2021-08-04 00:05:00 UTC)),
            "8/4/2021 12:05:00 AM"
        );
    }
}
