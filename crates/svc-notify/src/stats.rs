//! The notification service's counters (exported on `/metrics` by the CLI).

use brygga_domain::notify::Suppressed;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Messages planned, sent (by channel), retried, failed (dead-lettered), suppressed (by
/// reason), and left unknown (claimed by a process that stopped mid-send).
#[derive(Debug, Default)]
pub struct NotifyStats {
    planned: AtomicU64,
    sent: Mutex<BTreeMap<&'static str, u64>>,
    retried: AtomicU64,
    failed: AtomicU64,
    unknown: AtomicU64,
    suppressed: Mutex<BTreeMap<&'static str, u64>>,
}

fn bump(m: &Mutex<BTreeMap<&'static str, u64>>, key: &'static str) {
    let mut m = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    *m.entry(key).or_default() += 1;
}

fn read(m: &Mutex<BTreeMap<&'static str, u64>>) -> Vec<(&'static str, u64)> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().map(|(k, v)| (*k, *v)).collect()
}

impl NotifyStats {
    pub(crate) fn planned(&self, n: u64) {
        self.planned.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn send(&self, channel: &'static str) {
        bump(&self.sent, channel);
    }
    pub(crate) fn retry(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn fail(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn unknown(&self, n: u64) {
        self.unknown.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn suppress(&self, why: Suppressed) {
        bump(&self.suppressed, why.as_str());
    }

    pub fn planned_total(&self) -> u64 {
        self.planned.load(Ordering::Relaxed)
    }
    /// Messages sent, all channels.
    pub fn sent(&self) -> u64 {
        read(&self.sent).iter().map(|(_, n)| n).sum()
    }
    pub fn sent_by_channel(&self) -> Vec<(&'static str, u64)> {
        read(&self.sent)
    }
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
    pub fn unknown_total(&self) -> u64 {
        self.unknown.load(Ordering::Relaxed)
    }
    pub fn suppressed_by_reason(&self) -> Vec<(&'static str, u64)> {
        read(&self.suppressed)
    }
}
