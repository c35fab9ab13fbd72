//! The matcher service: keeps an in-memory matching index (loaded from the store, then
//! updated from registry events), and for each batch of events re-ranks only the
//! organisations the changes reach (`scope.rs`: holders of a changed target, and those whose
//! top-k a new call or partner enters, which merge it into what they hold), plus a deadline
//! sweep over the holders of expired calls. The differences (created / updated / withdrawn)
//! and their events are written in one transaction per batch; the outbox relay publishes them.
//! The index lock is held while a batch is handled, database reads included (one consumer
//! loop per process; the sweep waits for it).
//!
//! Main items: [`Matcher`], [`Matcher::handle_batch`], [`run`]. Ranking lives in `brygga-domain`.

use brygga_bus::{Bus, ConsumerSpec, ConsumerStats, Delivery, Outcome};
use brygga_domain::{
    recommendation_event_id, reconcile, Catalogue, Change, Clock, Index, OrgId, Published, RankerConfig,
    Recommendation, Target,
};
use brygga_events::subject::{recommendation, Stream};
use brygga_events::{
    change_name, change_type, types, CloudEvent, RecommendationV1, RegistryCallV1, RegistryOrganisationV1,
};
use brygga_store::outbox::OutboxEvent;
use brygga_store::{outbox, recommendations, registry, Store, StoreError, TransactionTrait};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use tracing::{info, instrument, warn};

mod scope;

use scope::{Changed, Scope};

/// Registry events handled in one transaction at most.
pub const BATCH: usize = 256;
/// Organisations whose held recommendations are decoded at once while re-ranking.
const SYNC_CHUNK: usize = 500;

/// Durable consumer name, also the service name in dead letters.
pub const DURABLE: &str = "matcher";
const SOURCE: &str = "urn:brygga:matcher";

/// The matcher's state and settings.
#[derive(Debug)]
pub struct Matcher {
    index: Mutex<Index>,
    store: Store,
    prefix: String,
    ranker: RankerConfig,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
}

impl Matcher {
    /// Loads the index from the store.
    pub async fn load(
        store: Store,
        catalogue: Catalogue,
        prefix: &str,
        ranker: RankerConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let calls = registry::calls(store.db()).await?;
        let orgs = registry::organisations(store.db()).await?;
        info!(calls = calls.len(), organisations = orgs.len(), "matching index loaded");
        let index = Index::with(catalogue, ranker.clone(), calls, orgs);
        Ok(Self {
            index: Mutex::new(index),
            store,
            prefix: prefix.to_owned(),
            ranker,
            clock,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Runs `f` on the index (benchmarks and operator queries).
    pub async fn read_index<R>(&self, f: impl FnOnce(&Index) -> R) -> R {
        f(&*self.index.lock().await)
    }

    /// Applies a batch of registry events to the index (each checked on its own: bad ones are
    /// rejected alone), then re-ranks the union of the organisations they can change and
    /// commits every change with its events in one transaction.
    #[instrument(name = "matcher.handle", skip_all, fields(batch = ds.len()))]
    pub async fn handle_batch(&self, ds: Vec<Delivery>) -> Vec<Outcome> {
        let mut index = self.index.lock().await;
        let mut outcomes = Vec::with_capacity(ds.len());
        let mut changed = Vec::new();
        for d in &ds {
            match apply(&mut index, d) {
                Ok(c) => {
                    changed.push(c);
                    outcomes.push(Outcome::Ack);
                }
                Err(o) => outcomes.push(o),
            }
        }
        if changed.is_empty() {
            return outcomes;
        }
        let failure = match self.sync(&index, Scope::Changed(changed)).await {
            Ok(_) => return outcomes,
            Err(e) if e.is_retryable() => Outcome::Retry(e.to_string()),
            Err(e) => Outcome::Reject { code: "processing_failed".into(), reason: e.to_string() },
        };
        for o in outcomes.iter_mut().filter(|o| **o == Outcome::Ack) {
            *o = failure.clone();
        }
        outcomes
    }

    /// Withdraws what the clock retired: re-ranks only the organisations holding a call whose
    /// last deadline has passed (or that is closed). Costs those recommendations, not N.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        let index = self.index.lock().await;
        let today = self.clock.today();
        let expired: Vec<String> = index
            .calls()
            .filter(|c| c.next_deadline(today).is_none() || c.status == brygga_domain::CallStatus::Closed)
            .map(|c| c.id.to_string())
            .collect();
        let holders = recommendations::holders(self.store.db(), "call", &expired).await?;
        let cause = format!("sweep:{today}");
        self.sync(&index, Scope::Refill("call", holders.into_iter().map(|(o, _)| (o, cause.clone())).collect())).await
    }

    /// Computes the recommendations of the organisations in `scope`, compares them with what
    /// is active, and commits the changes with their events. Returns how many changes were made.
    async fn sync(&self, index: &Index, scope: Scope) -> Result<usize, StoreError> {
        let today = self.clock.today();
        let db = self.store.db();
        let plans = scope::affected(db, index, scope, today).await?;
        // In chunks: what each organisation holds is decoded for one chunk at a time, so a
        // change that reaches thousands of organisations does not hold all their lists at once.
        let mut changes: Vec<Change> = Vec::new();
        let all: Vec<(&OrgId, &scope::Plan)> = plans.iter().collect();
        for chunk in all.chunks(SYNC_CHUNK) {
            changes.extend(self.reconcile_chunk(index, chunk, today).await?);
        }
        if changes.is_empty() {
            return Ok(0);
        }
        let no_causes = BTreeSet::new();
        let events: Vec<OutboxEvent> = changes
            .iter()
            .map(|c| self.event(c, plans.get(&c.rec.org_id).map_or(&no_causes, |p| &p.causes)))
            .collect::<Result<_, _>>()?;
        let txn = self.store.db().begin().await?;
        recommendations::apply(&txn, &changes).await?;
        outbox::enqueue(&txn, &events).await?;
        txn.commit().await?;
        self.wake.notify_one();
        info!(changes = changes.len(), organisations = plans.len(), "recommendations changed");
        Ok(changes.len())
    }

    /// The changes of some organisations: what they hold against what their plans give.
    async fn reconcile_chunk(
        &self,
        index: &Index,
        chunk: &[(&OrgId, &scope::Plan)],
        today: chrono::NaiveDate,
    ) -> Result<Vec<Change>, StoreError> {
        let db = self.store.db();
        let list: Vec<OrgId> = chunk.iter().map(|(o, _)| (*o).clone()).collect();
        let mut active: HashMap<OrgId, Vec<Published>> = HashMap::new();
        for p in recommendations::active_for_many(db, &list).await? {
            active.entry(p.rec.org_id.clone()).or_default().push(p);
        }
        let none = Vec::new();
        let desired: Vec<(OrgId, Vec<Recommendation>)> = chunk
            .iter()
            .map(|(org, plan)| {
                ((*org).clone(), scope::desired(index, org, plan, active.get(*org).unwrap_or(&none), today))
            })
            .collect();
        let is_active =
            |r: &Recommendation| active.get(&r.org_id).is_some_and(|ps| ps.iter().any(|p| p.rec.id == r.id));
        let new: Vec<uuid::Uuid> =
            desired.iter().flat_map(|(_, d)| d).filter(|r| !is_active(r)).map(|r| r.id).collect();
        let withdrawn = recommendations::withdrawn_revisions(db, &new).await?;
        let mut changes = Vec::new();
        for (org, desired) in desired {
            let current = active.remove(&org).unwrap_or_default();
            let reason = |r: &Recommendation| index.withdraw_reason(r, today);
            changes.extend(reconcile(desired, current, &withdrawn, self.ranker.min_score_delta, reason));
        }
        Ok(changes)
    }

    fn event(&self, c: &Change, caused_by: &BTreeSet<String>) -> Result<OutboxEvent, StoreError> {
        let id = recommendation_event_id(c.rec.id, c.revision).to_string();
        let ty = change_type(c.kind);
        let data = RecommendationV1::from_domain(&c.rec, c.kind, c.revision, caused_by.iter().cloned().collect());
        let ev = CloudEvent::new(id.clone(), SOURCE, ty, Some(c.rec.org_id.to_string()), self.clock.now(), data);
        let payload = serde_json::to_string(&ev).map_err(|e| StoreError::Corrupt {
            what: "event",
            id: id.clone(),
            message: e.to_string(),
        })?;
        Ok(OutboxEvent {
            event_id: id,
            subject: recommendation(&self.prefix, c.rec.org_id.as_str(), change_name(c.kind)),
            event_type: ty.to_owned(),
            payload,
        })
    }
}

/// Applies one registry event to the index; returns what changed, with the events that caused
/// it, or how the delivery ends when it is bad.
fn apply(index: &mut Index, d: &Delivery) -> Result<Changed, Outcome> {
    let reject = |reason: String| Outcome::Reject { code: "invalid_payload".into(), reason };
    let env: CloudEvent<serde_json::Value> = serde_json::from_slice(&d.payload)
        .map_err(|e| Outcome::Reject { code: "malformed_json".into(), reason: e.to_string() })?;
    match env.ty.as_str() {
        types::REGISTRY_ORGANISATION => {
            let data: RegistryOrganisationV1 = serde_json::from_value(env.data).map_err(|e| reject(e.to_string()))?;
            let org_id = OrgId::parse(&data.id).map_err(|_| reject(format!("bad organisation id {:?}", data.id)))?;
            match data.organisation {
                Some(o) => {
                    index.upsert_org(o.into_domain().map_err(|e| reject(e.to_string()))?);
                }
                None => index.remove_org(&org_id),
            }
            Ok(Changed { target: Target::Partner(org_id), causes: vec![data.caused_by, env.id] })
        }
        types::REGISTRY_CALL => {
            let data: RegistryCallV1 = serde_json::from_value(env.data).map_err(|e| reject(e.to_string()))?;
            let call_id =
                brygga_domain::CallId::parse(&data.id).map_err(|_| reject(format!("bad call id {:?}", data.id)))?;
            match data.call {
                Some(c) => {
                    index.upsert_call(c.into_domain().map_err(|e| reject(e.to_string()))?);
                }
                None => index.remove_call(&call_id),
            }
            Ok(Changed { target: Target::Call(call_id), causes: vec![data.caused_by, env.id] })
        }
        other => Err(Outcome::Reject { code: "unknown_type".into(), reason: format!("unknown event type {other:?}") }),
    }
}

/// Settings of the matcher's loops.
#[derive(Debug, Clone, Copy)]
pub struct Loops {
    pub outbox: brygga_relay::Timing,
    pub sweep_interval: Duration,
}

/// Runs the consumer, the deadline sweep and the outbox relay until `cancel` fires.
pub async fn run(
    bus: Bus,
    matcher: Arc<Matcher>,
    loops: Loops,
    stats: Arc<ConsumerStats>,
    cancel: CancellationToken,
) -> Result<(), brygga_bus::BusError> {
    let relay = tokio::spawn(brygga_relay::run(
        bus.clone(),
        matcher.store.clone(),
        format!("{}.rec.", matcher.prefix),
        loops.outbox,
        matcher.wake.clone(),
        cancel.clone(),
    ));
    let sweeper = {
        let (m, cancel) = (matcher.clone(), cancel.clone());
        tokio::spawn(async move {
            loop {
                // The first sweep runs at start: catches deadlines that passed while down.
                if let Err(e) = m.sweep().await {
                    warn!(error = %e, "deadline sweep failed; will retry");
                }
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(loops.sweep_interval) => {}
                }
            }
        })
    };
    let spec = ConsumerSpec { stream: Stream::Registry, durable: DURABLE.into() };
    let m = matcher.clone();
    let result = bus
        .consume_batches(spec, &stats, cancel, BATCH, |ds| {
            let m = m.clone();
            async move { m.handle_batch(ds).await }
        })
        .await;
    let _ = sweeper.await;
    let _ = relay.await;
    let [acked, retried, dead, errors] = stats.get();
    info!(acked, retried, dead_lettered = dead, stream_errors = errors, "matcher stopped");
    result
}
