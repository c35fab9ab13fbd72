//! The matcher service: keeps an in-memory matching index (loaded from the store, then
//! updated from registry events), recomputes recommendations after every change and on a
//! deadline sweep, and writes the differences (created / updated / withdrawn) and their
//! events in one transaction; the outbox relay publishes them.
//!
//! Main items: [`Matcher`], [`run`]. Ranking itself lives in `brygga-domain`.

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

    /// Applies one registry event to the index and publishes what changed.
    #[instrument(name = "matcher.handle", skip_all, fields(subject = %d.subject, seq = d.stream_sequence))]
    pub async fn handle(&self, d: Delivery) -> Outcome {
        let reject = |reason: String| Outcome::Reject { code: "invalid_payload".into(), reason };
        let env: CloudEvent<serde_json::Value> = match serde_json::from_slice(&d.payload) {
            Ok(e) => e,
            Err(e) => return Outcome::Reject { code: "malformed_json".into(), reason: e.to_string() },
        };
        let mut index = self.index.lock().await;
        let scope;
        let caused_by = match env.ty.as_str() {
            types::REGISTRY_ORGANISATION => {
                let data: RegistryOrganisationV1 = match serde_json::from_value(env.data) {
                    Ok(x) => x,
                    Err(e) => return reject(e.to_string()),
                };
                let Ok(org_id) = OrgId::parse(&data.id) else {
                    return reject(format!("bad organisation id {:?}", data.id));
                };
                match data.organisation {
                    Some(o) => match o.into_domain() {
                        Ok(o) => {
                            index.upsert_org(o);
                        }
                        Err(e) => return reject(e.to_string()),
                    },
                    None => index.remove_org(&org_id),
                }
                // Those it is now a partner for above the floor; `sync` keeps the ones whose
                // top partners it enters, and adds those that recommend it now.
                let mut affected: BTreeSet<OrgId> = index.orgs_matching_partner(&org_id).into_iter().collect();
                affected.insert(org_id.clone());
                scope = Scope { orgs: affected, also_recommending: Some(Target::Partner(org_id)) };
                vec![data.caused_by, env.id]
            }
            types::REGISTRY_CALL => {
                let data: RegistryCallV1 = match serde_json::from_value(env.data) {
                    Ok(x) => x,
                    Err(e) => return reject(e.to_string()),
                };
                let Ok(call_id) = brygga_domain::CallId::parse(&data.id) else {
                    return reject(format!("bad call id {:?}", data.id));
                };
                match data.call {
                    Some(c) => match c.into_domain() {
                        Ok(c) => {
                            index.upsert_call(c);
                        }
                        Err(e) => return reject(e.to_string()),
                    },
                    None => index.remove_call(&call_id),
                }
                let orgs = index.orgs_matching_call(&call_id).into_iter().collect();
                scope = Scope { orgs, also_recommending: Some(Target::Call(call_id)) };
                vec![data.caused_by, env.id]
            }
            other => {
                return Outcome::Reject { code: "unknown_type".into(), reason: format!("unknown event type {other:?}") }
            }
        };
        match self.sync(&index, scope, caused_by).await {
            Ok(_) => Outcome::Ack,
            Err(e) if e.is_retryable() => Outcome::Retry(e.to_string()),
            Err(e) => Outcome::Reject { code: "processing_failed".into(), reason: e.to_string() },
        }
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
        let orgs = recommendations::orgs_recommending_any(self.store.db(), "call", &expired).await?;
        let scope = Scope { orgs: orgs.into_iter().collect(), also_recommending: None };
        self.sync(&index, scope, vec![format!("sweep:{today}")]).await
    }

    /// Computes the recommendations of the organisations in `scope`, compares them with what
    /// is active, and commits the changes with their events. Returns how many changes were made.
    async fn sync(&self, index: &Index, scope: Scope, caused_by: Vec<String>) -> Result<usize, StoreError> {
        let today = self.clock.today();
        let db = self.store.db();
        let Scope { mut orgs, also_recommending } = scope;
        let recommending = match &also_recommending {
            Some(t) => recommendations::orgs_recommended(db, t.kind(), t.id()).await?,
            None => Vec::new(),
        };
        if let Some(t @ (Target::Partner(_) | Target::Call(_))) = &also_recommending {
            // A new or changed call or partner changes only the lists it enters (or was on),
            // judged on the held scores alone: no recommendation is decoded for this.
            let candidates: Vec<OrgId> = orgs.iter().cloned().collect();
            let held = recommendations::held_scores(db, t.kind(), &candidates).await?;
            let none = Vec::new();
            orgs.retain(|o| {
                matches!(t, Target::Partner(p) if p == o) || index.enters(o, t, held.get(o).unwrap_or(&none), today)
            });
        }
        orgs.extend(recommending);
        let list: Vec<OrgId> = orgs.iter().cloned().collect();
        let mut active: HashMap<OrgId, Vec<Published>> = HashMap::new();
        for p in recommendations::active_for_many(db, &list).await? {
            active.entry(p.rec.org_id.clone()).or_default().push(p);
        }
        let desired: Vec<(OrgId, Vec<Recommendation>)> = orgs
            .into_iter()
            .map(|org| {
                let d = index.recommend(&org, today);
                (org, d)
            })
            .collect();
        let is_active =
            |r: &Recommendation| active.get(&r.org_id).is_some_and(|ps| ps.iter().any(|p| p.rec.id == r.id));
        let new: Vec<uuid::Uuid> =
            desired.iter().flat_map(|(_, d)| d).filter(|r| !is_active(r)).map(|r| r.id).collect();
        let withdrawn = recommendations::withdrawn_revisions(db, &new).await?;
        let mut changes: Vec<Change> = Vec::new();
        for (org, desired) in desired {
            let current = active.remove(&org).unwrap_or_default();
            let reason = |r: &Recommendation| index.withdraw_reason(r, today);
            changes.extend(reconcile(desired, current, &withdrawn, self.ranker.min_score_delta, reason));
        }
        if changes.is_empty() {
            return Ok(0);
        }
        let events: Vec<OutboxEvent> = changes.iter().map(|c| self.event(c, &caused_by)).collect::<Result<_, _>>()?;
        let txn = self.store.db().begin().await?;
        recommendations::apply(&txn, &changes).await?;
        outbox::enqueue(&txn, &events).await?;
        txn.commit().await?;
        self.wake.notify_one();
        info!(changes = changes.len(), "recommendations changed");
        Ok(changes.len())
    }

    fn event(&self, c: &Change, caused_by: &[String]) -> Result<OutboxEvent, StoreError> {
        let id = recommendation_event_id(c.rec.id, c.revision).to_string();
        let ty = change_type(c.kind);
        let data = RecommendationV1::from_domain(&c.rec, c.kind, c.revision, caused_by.to_vec());
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

/// Which organisations a change can affect: these, plus those with an active recommendation
/// of `also_recommending`; for a call or a partner, only those of these whose top-k it enters.
#[derive(Debug)]
struct Scope {
    orgs: BTreeSet<OrgId>,
    also_recommending: Option<Target>,
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
        .consume(spec, &stats, cancel, |d| {
            let m = m.clone();
            async move { m.handle(d).await }
        })
        .await;
    let _ = sweeper.await;
    let _ = relay.await;
    let [acked, retried, dead, errors] = stats.get();
    info!(acked, retried, dead_lettered = dead, stream_errors = errors, "matcher stopped");
    result
}
