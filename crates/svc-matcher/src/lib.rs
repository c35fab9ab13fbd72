//! The matcher service: keeps an in-memory matching index whole (loaded from the store, then
//! following the registry stream: `feed.rs`), and re-ranks the organisations of the partitions
//! this replica holds (`partition.rs`, leases in `brygga_bus::lease`, loops in `run.rs`).
//!
//! For each batch of registry events on a partition's durable consumer it waits until the index
//! has seen them, then re-ranks only the organisations of that partition the changes reach
//! (`scope.rs`: holders of a changed target, and those whose top-k a new call or partner
//! enters, which merge it into what they hold; while the consumer is behind, those entries
//! wait and are merged once it catches up: `waiting.rs`), plus a deadline sweep over the
//! holders of expired calls. The differences (created / updated / withdrawn) and their events
//! are written one transaction per chunk of organisations (each organisation's in one), under
//! one lock with the sweep and convergence; the outbox relay publishes them. The index is
//! read-locked only while it is queried, never across database I/O; the feed write-locks it
//! per batch.
//!
//! Main items: [`Matcher`], [`Matcher::handle_batch`], [`run`]. Ranking lives in `brygga-domain`.

use brygga_bus::{Delivery, Outcome};
use brygga_domain::{Catalogue, Change, Clock, Index, OrgId, RankerConfig};
use brygga_store::{recommendations, registry, Store, StoreError};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify, RwLock};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, instrument};

mod commit;
mod decode;
mod feed;
mod held;
pub mod partition;
mod run;
mod scope;
mod stats;
pub use stats::MatcherStats;
mod traces;
mod waiting;

pub use run::{run, Loops, Partitioning};
use scope::Scope;

/// Runs a long pure computation (ranking, index updates) on this thread, first telling a
/// multi-threaded runtime to move its other tasks elsewhere, so that the bus client's reader,
/// the relay and the feed keep running meanwhile (with two workers, two such computations
/// would otherwise starve the connection that delivers the next batch). On a single-threaded
/// runtime (tests) it just runs.
pub(crate) fn compute<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Registry events handled in one batch at most.
pub const BATCH: usize = 256;
/// Organisations re-ranked, and their changes committed, at once (one transaction).
const SYNC_CHUNK: usize = 500;

/// Durable consumer name, also the service name in dead letters.
pub const DURABLE: &str = "matcher";
const SOURCE: &str = "urn:brygga:matcher";

/// The matcher's state and settings.
#[derive(Debug)]
pub struct Matcher {
    index: RwLock<Index>,
    /// The last registry stream sequence the index has seen.
    seen: watch::Sender<u64>,
    store: Store,
    prefix: String,
    ranker: RankerConfig,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    partitions: u16,
    /// When a batch was last handled (convergence waits for quiet).
    last_batch: std::sync::Mutex<Instant>,
    /// The index stamp (`Index::changes`) this replica last converged at.
    converged: std::sync::Mutex<u64>,
    /// A batch was handled since convergence last started: the feed may have been ahead of
    /// the workers, so the stamp alone cannot tell that every list is canonical.
    dirty: std::sync::atomic::AtomicBool,
    /// What the organisations of the held partitions hold (`held.rs`).
    held: held::Held,
    /// Entries into other organisations' lists held back while the consumer is behind.
    waiting: waiting::Waiting,
    /// The trace contexts of recent causes (`traces.rs`).
    traces: traces::Traces,
    /// What `/metrics` reports of the matcher (`stats.rs`).
    stats: stats::MatcherStats,
    /// Where the hops of traced events go (OTLP), if anywhere.
    hops: Option<Arc<brygga_runtime::otlp::Hops>>,
    /// Held while re-ranking and committing (a batch, a sweep, a chunk of convergence): they
    /// read what organisations hold before they write it, so two at once could both write
    /// the same next revision of a list.
    writing: tokio::sync::Mutex<()>,
    /// The day the last sweep ran for (at start: the day the index was loaded, whose lists are
    /// re-ranked by convergence anyway).
    last_sweep: std::sync::Mutex<chrono::NaiveDate>,
}

/// How long a batch waits for the index to catch up with it before it is retried.
const CATCH_UP: Duration = Duration::from_secs(30);

impl Matcher {
    /// Loads the index from the store. `seen` is the registry stream's last sequence read
    /// *before* the store was (`Bus::last_sequence`): everything up to it is in the store, and
    /// the feed follows the stream from the next one. `partitions` as in [`partition`].
    pub async fn load(
        store: Store,
        catalogue: Catalogue,
        prefix: &str,
        ranker: RankerConfig,
        clock: Arc<dyn Clock>,
        seen: u64,
        partitions: u16,
    ) -> Result<Self, StoreError> {
        let calls = registry::calls(store.db()).await?;
        let orgs = registry::organisations(store.db()).await?;
        info!(calls = calls.len(), organisations = orgs.len(), seen, "matching index loaded");
        let mut index = Index::with(catalogue, ranker.clone(), calls, orgs);
        let dismissals = brygga_store::feedback::exclusions(store.db()).await?;
        for (org, target, fingerprint) in dismissals {
            index.dismiss(&org, target, fingerprint);
        }
        for (org, target) in brygga_store::feedback::applied(store.db()).await? {
            if let brygga_domain::Target::Call(c) = target {
                index.set_applied(&org, &c, true);
            }
        }
        let stamp = index.changes();
        let loaded_on = clock.today();
        Ok(Self {
            index: RwLock::new(index),
            seen: watch::Sender::new(seen),
            store,
            prefix: prefix.to_owned(),
            ranker,
            clock,
            wake: Arc::new(Notify::new()),
            partitions: partitions.max(1),
            last_batch: std::sync::Mutex::new(Instant::now()),
            converged: std::sync::Mutex::new(stamp),
            dirty: std::sync::atomic::AtomicBool::new(false),
            held: held::Held::default(),
            waiting: waiting::Waiting::new(Duration::ZERO),
            traces: traces::Traces::default(),
            stats: stats::MatcherStats::default(),
            hops: None,
            writing: tokio::sync::Mutex::new(()),
            last_sweep: std::sync::Mutex::new(loaded_on),
        })
    }

    /// Sets the longest an entry into another organisation's list waits while the consumer
    /// stays behind (`waiting.rs`; the service sets `matcher.settle_secs`). Zero, the default
    /// here: entries never wait.
    #[must_use]
    pub fn settling(mut self, settle: Duration) -> Self {
        self.waiting = waiting::Waiting::new(settle);
        self
    }

    /// The matcher sends the hops of traced events to `hops` (OTLP).
    pub fn exporting(mut self, hops: Option<Arc<brygga_runtime::otlp::Hops>>) -> Self {
        self.hops = hops;
        self
    }

    /// Organisations with entries waiting to be merged into their lists.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Runs `f` on the index (benchmarks and operator queries), off the async workers as
    /// ranking is.
    pub async fn read_index<R>(&self, f: impl FnOnce(&Index) -> R) -> R {
        let index = self.index.read().await;
        compute(|| f(&index))
    }

    /// Forgets what the organisations of partition `p` hold (this replica starts working on
    /// it; another may have written them meanwhile), and marks the rankings for convergence:
    /// a replica that stopped with entries waiting (`waiting.rs`) left them to whoever holds
    /// the partition next. The index's entry bars of the partition are forgotten by the
    /// worker before its first batch ([`Self::forget_bars`]).
    fn forget_partition(&self, p: u16) {
        self.held.forget(|o| self.in_partition(o, p));
        self.waiting.forget(|o| self.in_partition(o, p));
        self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Tells the index the entry bars of `orgs`' lists as held now, with what waits to enter
    /// them (`held.rs`, `waiting.rs`; open where not known), so that its candidate searches
    /// leave out lists a target cannot enter.
    async fn tell_bars(&self, orgs: Vec<OrgId>) {
        let k = |kind| self.ranker.top_k(kind);
        let bars = held::KINDS.map(|kind| (kind, self.held.known_bars(kind, k(kind), &orgs, &self.waiting)));
        let mut index = self.index.write().await;
        for (kind, bars) in &bars {
            index.set_entry_bars(kind, orgs.iter().zip(bars));
        }
    }

    /// Forgets the index's entry bars of partition `p`'s organisations ([`Self::forget_partition`]).
    async fn forget_bars(&self, p: u16) {
        self.index.write().await.clear_entry_bars(|o| self.in_partition(o, p));
    }

    /// Whether `org` is re-ranked by the worker of partition `p`.
    fn in_partition(&self, org: &OrgId, p: u16) -> bool {
        partition::partition_of(org, self.partitions) == p
    }

    /// Waits until the index has seen stream sequence `seq`.
    async fn caught_up(&self, seq: u64) -> bool {
        let mut rx = self.seen.subscribe();
        tokio::time::timeout(CATCH_UP, rx.wait_for(|s| *s >= seq)).await.is_ok_and(|r| r.is_ok())
    }

    /// Handles a batch of registry events for partition `p`: each is read on its own (a bad
    /// one is dead-lettered by partition 0's worker and skipped by the others, so it is
    /// reported once), then, once the index has seen them, the union of the partition's
    /// organisations they can change is re-ranked and every change committed with its events
    /// (a transaction per chunk of organisations). Entries into other organisations' lists
    /// wait while more events are pending behind the batch, at most the settle time
    /// (`waiting.rs`).
    #[instrument(name = "matcher.handle", skip_all, fields(batch = ds.len(), partition = p, trace_ids = tracing::field::Empty))]
    pub async fn handle_batch(&self, p: u16, ds: Vec<Delivery>) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(ds.len());
        let mut changed = Vec::new();
        let mut trace_ids = BTreeSet::new();
        let mut accepted_at = Vec::new();
        for d in &ds {
            match decode::decode(d) {
                Ok(c) => {
                    accepted_at.extend(c.accepted_at);
                    if let Some(t) = &c.trace {
                        self.traces.note(&c.changed.causes, t);
                        trace_ids.insert(t.parent.trace_id().to_owned());
                    }
                    changed.push(c.changed);
                    outcomes.push(Outcome::Ack);
                }
                Err(o) if p == 0 => outcomes.push(o),
                Err(_) => {
                    debug!(seq = d.stream_sequence, "bad registry event; partition 0 dead-letters it");
                    outcomes.push(Outcome::Ack);
                }
            }
        }
        if !trace_ids.is_empty() {
            // The batch's log lines carry the traces it continues (the first 16).
            let shown: Vec<String> = trace_ids.into_iter().take(16).collect();
            tracing::Span::current().record("trace_ids", shown.join(",").as_str());
        }
        let mine = |o: &OrgId| self.in_partition(o, p);
        let waited = self.waiting.oldest(mine);
        let caught_up = ds.last().is_some_and(|d| d.pending == 0);
        let flush = caught_up || waited.is_some_and(|w| w >= self.waiting.settle());
        if changed.is_empty() && !(flush && waited.is_some()) {
            return outcomes;
        }
        self.touch();
        let last = ds.iter().map(|d| d.stream_sequence).max().unwrap_or(0);
        let failure = if !self.caught_up(last).await {
            // The feed is behind the stream (a replica catching up after a node loss): every
            // batch would wait alike, and none may be dead-lettered for it.
            Outcome::Unavailable(format!("the index has not caught up with stream sequence {last}"))
        } else {
            let synced = self.sync_batch(changed, flush, mine).await;
            // Quiet is counted from the end of the last batch: convergence never starts
            // because one batch took long.
            self.touch();
            self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
            match synced {
                Ok(_) => {
                    let now = chrono::Utc::now();
                    for t in accepted_at {
                        let secs = (now - t).to_std().unwrap_or_default().as_secs_f64();
                        self.stats.event_to_recommendation.observe(secs);
                    }
                    return outcomes;
                }
                Err(e) if e.is_unavailable() => Outcome::Unavailable(e.to_string()),
                Err(e) if e.is_retryable() => Outcome::Retry(e.to_string()),
                Err(e) => Outcome::Reject { code: "processing_failed".into(), reason: e.to_string() },
            }
        };
        for o in outcomes.iter_mut().filter(|o| **o == Outcome::Ack) {
            *o = failure.clone();
        }
        outcomes
    }

    /// Withdraws what the clock retired for the organisations of partitions `mine`: re-ranks
    /// only those holding a call whose last deadline has passed (or that is closed), or one of
    /// whose deadlines passed since the last sweep (their recommendations then name the next).
    /// Costs those recommendations, not N.
    pub async fn sweep(&self, mine: &BTreeSet<u16>) -> Result<usize, StoreError> {
        let today = self.clock.today();
        // Deadlines that passed since the last sweep (the clock may jump either way): a call
        // with a later one keeps its recommendations, which now name that one.
        let since =
            std::mem::replace(&mut *self.last_sweep.lock().unwrap_or_else(std::sync::PoisonError::into_inner), today);
        let passed = |c: &brygga_domain::Call| c.deadlines.iter().any(|d| since <= *d && *d < today);
        let expired: Vec<String> = self
            .read_index(|index| {
                index
                    .calls()
                    .filter(|c| {
                        c.next_deadline(today).is_none() || c.status == brygga_domain::CallStatus::Closed || passed(c)
                    })
                    .map(|c| c.id.to_string())
                    .collect()
            })
            .await;
        let holders = recommendations::holders(self.store.db(), "call", &expired).await?;
        let cause = format!("sweep:{today}");
        let scope = Scope::Refill("call", holders.into_iter().map(|(o, _)| (o, cause.clone())).collect());
        self.sync(scope, |o| mine.contains(&partition::partition_of(o, self.partitions))).await
    }

    fn touch(&self) {
        *self.last_batch.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
    }

    /// What `/metrics` reports of this matcher.
    pub fn stats(&self) -> &MatcherStats {
        &self.stats
    }

    /// How long no batch has been handled.
    pub fn quiet_for(&self) -> Duration {
        self.last_batch.lock().unwrap_or_else(std::sync::PoisonError::into_inner).elapsed()
    }

    /// Whether a batch was handled, or the index changed, since this replica last converged.
    pub async fn needs_converging(&self) -> bool {
        let stamp = *self.converged.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.dirty.load(std::sync::atomic::Ordering::SeqCst) || self.read_index(Index::changes).await != stamp
    }

    /// Makes the rankings of partitions `mine` canonical: relearns the index's statistics from
    /// every document (so it ranks as one built from the same documents at once, whatever order
    /// they came in), then re-ranks each organisation from scratch, in chunks, each its own
    /// transaction. Between relearnings an incrementally kept index ranks new documents with
    /// older statistics and keeps held lists as they were judged, so the order of events shows
    /// in the rankings until this runs; it runs once events have been quiet for a while
    /// (`run.rs`), and costs a re-rank of every organisation held. Returns the changes made.
    /// Once `stop` is cancelled it stops between chunks (a shutdown does not wait for a
    /// re-rank of everyone), leaving the rankings to be converged again.
    pub async fn converge(&self, mine: &BTreeSet<u16>, stop: &CancellationToken) -> Result<usize, StoreError> {
        self.dirty.store(false, std::sync::atomic::Ordering::SeqCst);
        // Re-ranked from scratch below: entries still waiting are moot.
        self.waiting.forget(|o| mine.contains(&partition::partition_of(o, self.partitions)));
        let stamp = {
            let mut index = self.index.write().await;
            index.relearn();
            index.changes()
        };
        let orgs: Vec<OrgId> = self
            .read_index(|ix| {
                ix.orgs()
                    .map(|o| o.id.clone())
                    .filter(|o| mine.contains(&partition::partition_of(o, self.partitions)))
                    .collect()
            })
            .await;
        let cause = format!("converge:{stamp}");
        let mut changes = 0;
        for chunk in orgs.chunks(SYNC_CHUNK) {
            if stop.is_cancelled() {
                self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
                info!(organisations = orgs.len(), changes, "convergence stopped for shutdown");
                return Ok(changes);
            }
            let scope = Scope::Full(chunk.iter().map(|o| (o.clone(), cause.clone())).collect());
            match self.sync(scope, |_| true).await {
                Ok(n) => changes += n,
                Err(e) => {
                    self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
                    return Err(e);
                }
            }
        }
        *self.converged.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = stamp;
        info!(organisations = orgs.len(), changes, "rankings converged");
        Ok(changes)
    }

    /// Every partition (one replica, or a test): for [`Matcher::sweep`].
    pub fn all_partitions(&self) -> BTreeSet<u16> {
        (0..self.partitions).collect()
    }

    /// Computes the recommendations of the organisations in `scope`, compares them with what
    /// is active, and commits the changes with their events. Returns how many changes were made.
    async fn sync(&self, scope: Scope, mine: impl Fn(&OrgId) -> bool) -> Result<usize, StoreError> {
        let _writing = self.writing.lock().await;
        let t0 = Instant::now();
        let plans =
            scope::affected(self.store.db(), &self.index, &self.held, &self.waiting, scope, self.clock.today(), mine)
                .await?;
        self.commit(plans, t0).await
    }

    /// [`Matcher::sync`] for a batch's changes, with the waiting room: entries that only
    /// merge into other organisations' lists wait, unless `flush`, which brings in every
    /// entry waiting for the partition (handed back if the batch fails).
    async fn sync_batch(
        &self,
        changed: Vec<scope::Changed>,
        flush: bool,
        mine: impl Fn(&OrgId) -> bool + Copy,
    ) -> Result<usize, StoreError> {
        let _writing = self.writing.lock().await;
        let t0 = Instant::now();
        let scope = Scope::Changed(changed);
        let mut plans =
            scope::affected(self.store.db(), &self.index, &self.held, &self.waiting, scope, self.clock.today(), mine)
                .await?;
        let k = |kind: &str| self.ranker.top_k(kind);
        if !flush {
            self.waiting.hold_back(&mut plans, k);
            return self.commit(plans, t0).await;
        }
        let taken = self.waiting.take_into(&mut plans, mine);
        let result = self.commit(plans, t0).await;
        if result.is_err() {
            self.waiting.restore(taken, k);
        }
        result
    }
}

/// Publishes `org`'s active recommendations again, each at its current revision, for a
/// consumer that lost them (an operator's `brygga republish`). Consumers that have them drop
/// them by (recommendation id, revision); the stream keeps the copies. Returns how many.
pub async fn republish(bus: &brygga_bus::Bus, store: &Store, org: &OrgId) -> Result<usize, RepublishError> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let causes = BTreeSet::from(["republish".to_owned()]);
    let mut n = 0;
    for p in recommendations::active_for(store.db(), org).await? {
        let kind = brygga_events::current_change(&p, true);
        let c = Change { kind, rec: p.rec, revision: p.revision };
        let e = commit::recommendation_event(bus.prefix(), chrono::Utc::now(), &c, &causes, None)?;
        bus.republish_raw(&e.subject, &e.event_id, &run, &e.event_type, e.payload.into()).await?;
        n += 1;
    }
    Ok(n)
}

/// Why a re-publish failed.
#[derive(Debug, thiserror::Error)]
pub enum RepublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bus(#[from] brygga_bus::BusError),
}
