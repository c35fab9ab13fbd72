//! The matcher's loops: the registry feed, the outbox relay, the deadline sweep, and one worker
//! (a durable consumer) per partition this replica holds, started and stopped as leases come
//! and go (`brygga_bus::lease`).

use crate::{feed, partition, Matcher, BATCH};
use brygga_bus::lease::Leases;
use brygga_bus::{Bus, BusError, ConsumerSpec, ConsumerStats};
use brygga_events::subject::Stream;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Settings of the matcher's loops.
#[derive(Debug, Clone, Copy)]
pub struct Loops {
    pub outbox: brygga_relay::Timing,
    pub sweep_interval: Duration,
    /// Quiet time after which rankings are made canonical (`Matcher::converge`).
    pub converge_after: Duration,
}

/// How this replica shares the work with others.
#[derive(Debug, Clone)]
pub struct Partitioning {
    /// This replica's name among them (unique per process).
    pub replica: String,
    /// How long a silent replica keeps its partitions.
    pub lease_ttl: Duration,
}

/// The consume loop of one held partition.
#[derive(Debug)]
struct Worker {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Worker {
    fn start(bus: &Bus, m: &Arc<Matcher>, p: u16, stats: &Arc<ConsumerStats>, cancel: &CancellationToken) -> Self {
        let stop = cancel.child_token();
        m.forget_partition(p);
        let spec = ConsumerSpec { stream: Stream::Registry, durable: partition::durable(p, m.partitions) };
        let (bus, m, stats, token) = (bus.clone(), m.clone(), stats.clone(), stop.clone());
        let task = tokio::spawn(async move {
            m.forget_bars(p).await;
            bus.consume_batches(spec, &stats, token, BATCH, |ds| {
                let m = m.clone();
                async move { m.handle_batch(p, ds).await }
            })
            .await;
        });
        Self { stop, task }
    }

    /// Stops after the batch in hand (its outcomes are sent).
    async fn drain(self) {
        self.stop.cancel();
        if let Err(e) = self.task.await {
            warn!(error = %e, "partition worker failed");
        }
    }
}

/// Runs the feed, the relay, the sweep and the workers of the partitions this replica holds,
/// until `cancel` fires; then drains the workers and gives the partitions up at once.
pub async fn run(
    bus: Bus,
    matcher: Arc<Matcher>,
    loops: Loops,
    part: Partitioning,
    stats: Arc<ConsumerStats>,
    cancel: CancellationToken,
) -> Result<(), BusError> {
    let relay = tokio::spawn(brygga_relay::run(
        bus.clone(),
        matcher.store.clone(),
        format!("{}.rec.", matcher.prefix),
        loops.outbox,
        matcher.wake.clone(),
        cancel.clone(),
    ));
    let feed = tokio::spawn(feed::follow(bus.clone(), matcher.clone(), cancel.clone()));
    let (held_tx, held_rx) = watch::channel(BTreeSet::new());
    let sweeper = tokio::spawn(housekeeping(matcher.clone(), held_rx, loops, cancel.clone()));
    let result = hold(&bus, &matcher, &part, &stats, &held_tx, &cancel).await;
    cancel.cancel();
    let _ = sweeper.await;
    let _ = feed.await;
    let _ = relay.await;
    let [acked, retried, dead, errors] = stats.get();
    info!(acked, retried, dead_lettered = dead, stream_errors = errors, "matcher stopped");
    result
}

/// The lease rounds: keeps one worker per held partition.
async fn hold(
    bus: &Bus,
    m: &Arc<Matcher>,
    part: &Partitioning,
    stats: &Arc<ConsumerStats>,
    held_tx: &watch::Sender<BTreeSet<u16>>,
    cancel: &CancellationToken,
) -> Result<(), BusError> {
    let mut leases = Leases::open(bus, crate::DURABLE, m.partitions, &part.replica, part.lease_ttl).await?;
    info!(replica = leases.me(), partitions = m.partitions, "matcher replica joining");
    let mut workers: BTreeMap<u16, Worker> = BTreeMap::new();
    while !cancel.is_cancelled() {
        match leases.round().await {
            Ok(release) => {
                for p in release {
                    if let Some(w) = workers.remove(&p) {
                        w.drain().await;
                    }
                    if let Err(e) = leases.release(p).await {
                        warn!(partition = p, error = %e, "releasing a partition failed; it expires by itself");
                    }
                }
            }
            Err(e) => warn!(error = %e, "partition lease round failed; keeping what is still valid"),
        }
        let held = leases.held();
        // Lost (taken or expired): stop at once, without waiting for the batch in hand.
        workers.retain(|p, w| {
            let keep = held.contains(p);
            if !keep {
                w.stop.cancel();
            }
            keep
        });
        // Ended by itself (it panicked): said, and started again below.
        let ended: Vec<u16> = workers.iter().filter(|(_, w)| w.task.is_finished()).map(|(p, _)| *p).collect();
        for p in ended {
            if let Some(w) = workers.remove(&p) {
                w.drain().await;
            }
        }
        for p in &held {
            workers.entry(*p).or_insert_with(|| Worker::start(bus, m, *p, stats, cancel));
        }
        held_tx.send_if_modified(|h| {
            let changed = *h != held;
            *h = held.clone();
            changed
        });
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(leases.interval()) => {}
        }
    }
    futures_util::future::join_all(workers.into_values().map(Worker::drain)).await;
    if let Err(e) = leases.leave().await {
        warn!(error = %e, "leaving the lease bucket failed; the partitions expire by themselves");
    }
    Ok(())
}

/// The deadline sweep and convergence over the held partitions. The sweep runs when they
/// change (a gained partition may hold deadlines that passed while no one held it) and every
/// `sweep_interval`; convergence once batches have been quiet for `converge_after` and the
/// index changed since the last one.
async fn housekeeping(
    m: Arc<Matcher>,
    mut held: watch::Receiver<BTreeSet<u16>>,
    loops: Loops,
    cancel: CancellationToken,
) {
    let tick = loops.converge_after.min(Duration::from_secs(1)).max(Duration::from_millis(100));
    let mut next_sweep = tokio::time::Instant::now() + loops.sweep_interval;
    loop {
        let mut sweep_now = false;
        tokio::select! {
            _ = cancel.cancelled() => return,
            r = held.changed() => if r.is_err() { return } else { sweep_now = true },
            _ = tokio::time::sleep(tick) => {}
        }
        let mine = held.borrow_and_update().clone();
        if mine.is_empty() {
            continue;
        }
        if sweep_now || tokio::time::Instant::now() >= next_sweep {
            next_sweep = tokio::time::Instant::now() + loops.sweep_interval;
            if let Err(e) = m.sweep(&mine).await {
                warn!(error = %e, "deadline sweep failed; will retry");
            }
        }
        if m.quiet_for() >= loops.converge_after && m.needs_converging().await {
            if let Err(e) = m.converge(&mine, &cancel).await {
                warn!(error = %e, "converging the rankings failed; will retry");
            }
        }
    }
}
