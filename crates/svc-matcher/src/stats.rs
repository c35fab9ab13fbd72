//! What the matcher counts for `/metrics`: how long an accepted event takes to reach the
//! recommendations it changes, and the recommendation changes committed, by kind.

use brygga_domain::{Change, ChangeKind};
use prometheus_client::metrics::histogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};

/// Seconds, explicit buckets from 5 ms to 2 min.
const BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

#[derive(Debug)]
pub struct MatcherStats {
    /// From ingest accepting an event (its registry event's `time`) to this matcher committing
    /// what it changed in a partition's lists, per registry event and partition.
    pub event_to_recommendation: Histogram,
    /// Changes committed (each one recommendation event): created, updated, withdrawn.
    changes: [AtomicU64; 3],
}

impl Default for MatcherStats {
    fn default() -> Self {
        Self { event_to_recommendation: Histogram::new(BUCKETS), changes: Default::default() }
    }
}

impl MatcherStats {
    pub(crate) fn committed(&self, changes: &[Change]) {
        for c in changes {
            let i = match c.kind {
                ChangeKind::Created => 0,
                ChangeKind::Updated => 1,
                ChangeKind::Withdrawn => 2,
            };
            self.changes[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `[created, updated, withdrawn]` so far.
    pub fn changes(&self) -> [u64; 3] {
        self.changes.each_ref().map(|a| a.load(Ordering::Relaxed))
    }
}
