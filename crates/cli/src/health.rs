//! What the probes decide, apart from how they are asked: the start-up phase, and whether a
//! consume loop is wedged ([`Watchdog`], pure given the time, the loops' progress and their
//! backlogs).

use brygga_bus::LoopProgress;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where start-up is; `Started` once NATS is connected, the schema is current and the index is
/// loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    ConnectingNats,
    ConnectingDatabase,
    LoadingIndex,
    Started,
}

impl Phase {
    pub fn describe(self) -> &'static str {
        match self {
            Self::ConnectingNats => "connecting to NATS",
            Self::ConnectingDatabase => "connecting to the database and checking its schema",
            Self::LoadingIndex => "loading the matching index from the store",
            Self::Started => "started",
        }
    }
}

/// Judges consume loops from their progress: wedged when one has held a batch longer than
/// `stuck_after`, or has had messages waiting that long without finishing a batch. The second
/// needs memory between probes (when the backlog was first seen with the loop at that count).
#[derive(Debug)]
pub struct Watchdog {
    stuck_after: Duration,
    /// Durable → (first seen behind at, batches finished then).
    behind: Mutex<HashMap<String, (Instant, u64)>>,
}

impl Watchdog {
    pub fn new(stuck_after: Duration) -> Self {
        Self { stuck_after, behind: Mutex::default() }
    }

    /// Why the loop `durable` is wedged, if it is. `backlog`: messages pending or unacknowledged
    /// on its consumer (`None`: NATS did not say; then only a batch held too long counts).
    pub fn judge(&self, now: Instant, durable: &str, p: &LoopProgress, backlog: Option<u64>) -> Option<String> {
        let limit = self.stuck_after;
        if let Some(since) = p.busy_since {
            let held = now.saturating_duration_since(since);
            if held > limit {
                return Some(format!("{durable}: one batch in hand for {} s", held.as_secs()));
            }
        }
        let mut behind = self.behind.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match backlog {
            None => None,
            Some(0) => {
                behind.remove(durable);
                None
            }
            Some(n) => {
                let (since, batches) = *behind.entry(durable.to_owned()).or_insert((now, p.batches));
                if batches != p.batches {
                    behind.insert(durable.to_owned(), (now, p.batches));
                    return None;
                }
                let waited = now.saturating_duration_since(since);
                (waited > limit && p.busy_since.is_none()).then(|| {
                    format!("{durable}: {n} messages waiting and no batch finished for {} s", waited.as_secs())
                })
            }
        }
    }

    /// Forgets loops that no longer run (a partition given up).
    pub fn retain(&self, running: &[String]) {
        self.behind.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|d, _| running.contains(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brygga_events::subject::Stream;

    fn progress(batches: u64, busy_since: Option<Instant>) -> LoopProgress {
        LoopProgress { stream: Stream::Inbound, batches, busy_since }
    }

    #[test]
    fn a_batch_held_too_long_is_wedged() {
        let w = Watchdog::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let p = progress(3, Some(t0));
        assert_eq!(w.judge(t0 + Duration::from_secs(59), "ingest", &p, Some(5)), None);
        let why = w.judge(t0 + Duration::from_secs(61), "ingest", &p, None).expect("wedged");
        assert_eq!(why, "ingest: one batch in hand for 61 s");
    }

    #[test]
    fn a_backlog_without_progress_is_wedged_and_progress_resets_the_clock() {
        let w = Watchdog::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        // Idle for long, then a message arrives: the clock starts when the backlog is first seen.
        assert_eq!(w.judge(at(0), "m", &progress(7, None), Some(0)), None);
        assert_eq!(w.judge(at(500), "m", &progress(7, None), Some(1)), None);
        assert_eq!(w.judge(at(550), "m", &progress(7, None), Some(1)), None);
        // A batch finished: not wedged, and the clock starts again.
        assert_eq!(w.judge(at(570), "m", &progress(8, None), Some(40)), None);
        assert_eq!(w.judge(at(620), "m", &progress(8, None), Some(40)), None);
        let why = w.judge(at(631), "m", &progress(8, None), Some(40)).expect("wedged");
        assert_eq!(why, "m: 40 messages waiting and no batch finished for 61 s");
        // NATS unknown: no verdict from the backlog; caught up: forgotten.
        assert_eq!(w.judge(at(700), "m", &progress(8, None), None), None);
        assert_eq!(w.judge(at(701), "m", &progress(8, None), Some(0)), None);
        assert_eq!(w.judge(at(900), "m", &progress(8, None), Some(3)), None);
    }

    #[test]
    fn forgets_loops_that_stopped() {
        let w = Watchdog::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(w.judge(t0, "p0", &progress(0, None), Some(2)), None);
        w.retain(&[]);
        assert_eq!(w.judge(t0 + Duration::from_secs(5), "p0", &progress(0, None), Some(2)), None);
    }
}
