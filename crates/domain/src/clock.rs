//! Injectable time, so deadlines are evaluated against a clock the caller controls.

use chrono::{DateTime, NaiveDate, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still: for tests and for evaluating a snapshot "as of" a date.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl FixedClock {
    pub fn on(date: NaiveDate) -> Self {
        Self(date.and_hms_opt(12, 0, 0).map(|d| d.and_utc()).unwrap_or_default())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
